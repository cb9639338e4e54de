using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Jobs;
using Opportunites.Web.Mail;

namespace Opportunites.Tests.Mail;

/// <summary>The outbox delivered to a real SMTP server process (aiosmtpd), on a database of this fixture's own.</summary>
public sealed class DeliveryTests
{
    private PrivateDatabase _db = null!;
    private SmtpServer _server = null!;

    [OneTimeSetUp]
    public async Task CreateAsync() => _db = await PrivateDatabase.CreateAsync();

    [OneTimeTearDown]
    public async Task DropAsync() => await _db.DisposeAsync();

    [SetUp]
    public async Task StartServerAsync()
    {
        _server = await SmtpServer.StartAsync();
        // Rows of earlier tests are left sent or failed, never due: each test sees only its own.
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        await conn.ExecuteAsync("UPDATE outbox SET status = 'failed' WHERE status = 'queued'");
    }

    [TearDown]
    public async Task StopServerAsync() => await _server.DisposeAsync();

    private SmtpSettings Smtp(SmtpServer server) => new()
    {
        Host = server.Host,
        Port = server.Port,
        From = "annonces@opportunites.test",
        FromName = "Opportunités",
        TimeoutSeconds = 5,
    };

    private static MailSettings Mail(int maxAttempts = 5) => new()
    {
        MaxAttempts = maxAttempts,
        RetryBaseSeconds = 1,
        Connections = 2,
        BatchSize = 10,
    };

    private OutboxDelivery Delivery(SmtpSettings smtp, MailSettings mail, IMailSender? sender = null) =>
        new(_db.DataSource,
            sender ?? new SmtpMailSender(Options.Create(smtp), Options.Create(mail), NullLogger<SmtpMailSender>.Instance),
            Options.Create(smtp), Options.Create(mail), NullLogger<OutboxDelivery>.Instance);

    private async Task<(long Id, string MessageId)> EnqueueAsync(string to, OutgoingEmail? email = null)
    {
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var id = await Outbox.EnqueueAsync(conn, null, email ?? new OutgoingEmail("verification", to, "Sujet", "texte", "<p>html</p>"));
        var messageId = await conn.ExecuteScalarAsync<string>("SELECT message_id FROM outbox WHERE id = @id", new { id });
        return (id!.Value, messageId!);
    }

    private async Task<OutboxState> StateAsync(long id)
    {
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        return await conn.QuerySingleAsync<OutboxState>(
            "SELECT status, attempts, last_error, next_attempt_at, sent_at FROM outbox WHERE id = @id", new { id });
    }

    private async Task WaitUntilDueAsync(long id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while ((await StateAsync(id)).NextAttemptAt > DateTime.UtcNow && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
    }

    [Test]
    public async Task DeliverDue_ListEmail_ArrivesOnceWithEveryHeaderAndBothBodies()
    {
        var to = $"destinataire-{Guid.NewGuid():N}@example.org";
        var text = "Bonjour Élodie,\n\n. une ligne qui commence par un point\n..deux points\nÉmoji 🎉 et « guillemets »\n" +
                   new string('é', 200) + "\nFin.";
        var html = "<p>Bonjour <strong>Élodie</strong> 🎉</p>\n<p>.point</p>";
        var email = new OutgoingEmail("digest", to, "Votre sélection : 12 appels à projets en Gironde — semaine 48 (été, œuvre)",
            text, html, ToName: "Élodie Martin", DedupeKey: "test:" + to,
            Headers: new Dictionary<string, string>
            {
                ["List-Id"] = "Sélection hebdomadaire <digest.opportunites.test>",
                ["List-Unsubscribe"] = "<https://opportunites.test/alertes/desinscription/abc>",
                ["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click",
            });
        var (id, messageId) = await EnqueueAsync(to, email);
        var delivery = Delivery(Smtp(_server), Mail());

        var first = await delivery.DeliverDueAsync(CancellationToken.None);
        var second = await delivery.DeliverDueAsync(CancellationToken.None);

        Assert.That(first.Sent, Is.EqualTo(1));
        Assert.That(second.Sent, Is.Zero);
        var received = _server.GetMessages().Where(m => m.RcptTos.Contains(to)).ToList();
        Assert.That(received, Has.Count.EqualTo(1));
        var m = received[0];
        Assert.Multiple(() =>
        {
            Assert.That(m.Defects, Is.Empty);
            Assert.That(m.MailFrom, Is.EqualTo("annonces@opportunites.test"));
            Assert.That(m.Header("Message-ID"), Is.EqualTo(messageId));
            Assert.That(m.Header("Date"), Does.Match(@"^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$"));
            Assert.That(m.Header("From"), Is.EqualTo("Opportunités <annonces@opportunites.test>"));
            Assert.That(m.Header("To"), Is.EqualTo($"Élodie Martin <{to}>"));
            Assert.That(m.Header("Subject"), Is.EqualTo(email.Subject));
            Assert.That(m.Header("MIME-Version"), Is.EqualTo("1.0"));
            Assert.That(m.Header("List-Id"), Is.EqualTo("Sélection hebdomadaire <digest.opportunites.test>"));
            Assert.That(m.Header("List-Unsubscribe"), Is.EqualTo("<https://opportunites.test/alertes/desinscription/abc>"));
            Assert.That(m.Header("List-Unsubscribe-Post"), Is.EqualTo("List-Unsubscribe=One-Click"));
            Assert.That(m.ContentType, Is.EqualTo("multipart/alternative"));
            Assert.That(m.Parts.Select(p => p.ContentType), Is.EqualTo(new[] { "text/plain", "text/html" }));
            Assert.That(m.Parts.Select(p => p.Charset), Is.All.EqualTo("utf-8"));
            Assert.That(m.Text!.ReplaceLineEndings("\n").TrimEnd('\n'), Is.EqualTo(text));
            Assert.That(m.Html!.ReplaceLineEndings("\n").TrimEnd('\n'), Is.EqualTo(html));
        });
        // Body lines stay within quoted-printable's 76 characters. Header lines within RFC 5322's hard limit of 998:
        // MimeKit folds at 78 where it can, but writes a long encoded word of the subject on one line of ~85.
        var raw = System.Text.Encoding.ASCII.GetString(m.Raw);
        var headerEnd = raw.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.That(raw[headerEnd..].Split("\r\n").Max(l => l.Length), Is.LessThanOrEqualTo(76));
        Assert.That(raw[..headerEnd].Split("\r\n").Max(l => l.Length), Is.LessThanOrEqualTo(998));
        var state = await StateAsync(id);
        Assert.That(state.Status, Is.EqualTo("sent"));
        Assert.That(state.Attempts, Is.EqualTo(1));
        Assert.That(state.SentAt, Is.Not.Null);
    }

    [Test]
    public async Task DeliveryJob_WhileAnotherRunHoldsTheLock_WaitsWithoutASnapshotThenDelivers()
    {
        var to = $"attente-{Guid.NewGuid():N}@example.org";
        var (id, _) = await EnqueueAsync(to);
        var job = new DeliveryJob(Delivery(Smtp(_server), Mail()));
        await using var other = await _db.DataSource.OpenConnectionAsync();
        await other.ExecuteAsync("SELECT pg_advisory_lock(hashtext('opportunites.deliver'))");

        var run = job.RunAsync(new JobRunContext(DeliveryJob.Name, DateTimeOffset.UtcNow, "cli", "tests"), CancellationToken.None);
        await Task.Delay(600);

        // Waiting, the run keeps no snapshot: one would hold back the xmin horizon, so that no row version written
        // meanwhile could be pruned (the outbox of a whole digest, walked again by every claim).
        await using (var conn = await _db.DataSource.OpenConnectionAsync())
        {
            var holders = await conn.ExecuteScalarAsync<long>("""
                SELECT count(*) FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_xmin IS NOT NULL
                  AND backend_type = 'client backend'
                """);
            Assert.That(holders, Is.Zero);
        }

        Assert.That(run.IsCompleted, Is.False);
        Assert.That((await StateAsync(id)).Status, Is.EqualTo("queued"));
        await other.ExecuteAsync("SELECT pg_advisory_unlock(hashtext('opportunites.deliver'))");
        var counts = await run.WaitAsync(TimeSpan.FromSeconds(15));

        Assert.That(counts["envoyes"], Is.EqualTo(1));
        Assert.That((await StateAsync(id)).Status, Is.EqualTo("sent"));
    }

    [Test]
    public async Task DeliverDue_TwoRunsAtOnce_EachMessageSentOnce()
    {
        // Rows are read without a lease: what keeps two runs (two nodes, or the sweep and a run queued on commit) from
        // sending the same row is that the second waits for the first.
        for (var i = 0; i < 30; i++)
        {
            await EnqueueAsync($"deux-runs-{i}-{Guid.NewGuid():N}@example.org");
        }

        var runs = await Task.WhenAll(Delivery(Smtp(_server), Mail()).DeliverDueAsync(CancellationToken.None),
            Delivery(Smtp(_server), Mail()).DeliverDueAsync(CancellationToken.None));

        Assert.That(runs.Sum(r => r.Sent), Is.EqualTo(30));
        var received = _server.GetMessages().Where(m => m.RcptTos.Single().StartsWith("deux-runs-", StringComparison.Ordinal)).ToList();
        Assert.That(received, Has.Count.EqualTo(30));
        Assert.That(received.Select(m => m.RcptTos.Single()), Is.Unique);
    }

    [Test]
    public async Task DeliverDue_Server4xx_RetriedLaterAndDeliveredOnce()
    {
        var to = $"retry-{Guid.NewGuid():N}@example.org";
        var (id, messageId) = await EnqueueAsync(to);
        var delivery = Delivery(Smtp(_server), Mail());
        _server.FailNext(1, 451);

        var first = await delivery.DeliverDueAsync(CancellationToken.None);
        var afterFailure = await StateAsync(id);
        var tooEarly = await delivery.DeliverDueAsync(CancellationToken.None);
        await WaitUntilDueAsync(id);
        var retry = await delivery.DeliverDueAsync(CancellationToken.None);

        Assert.That(first.Retried, Is.EqualTo(1));
        Assert.That(afterFailure.Status, Is.EqualTo("queued"));
        Assert.That(afterFailure.LastError, Does.Contain("451"));
        Assert.That(afterFailure.NextAttemptAt, Is.GreaterThan(DateTime.UtcNow.AddMilliseconds(-500)));
        Assert.That(tooEarly.Sent, Is.Zero, "a row is not retried before its backoff");
        Assert.That(retry.Sent, Is.EqualTo(1));
        var received = _server.GetMessages().Where(m => m.RcptTos.Contains(to)).ToList();
        Assert.That(received.Select(m => m.Header("Message-ID")), Is.EqualTo(new[] { messageId }));
        var state = await StateAsync(id);
        Assert.That((state.Status, state.Attempts), Is.EqualTo(("sent", 2)));
    }

    [Test]
    public async Task DeliverDue_Server5xx_FailsAtOnce()
    {
        var to = $"refused-{Guid.NewGuid():N}@example.org";
        var (id, _) = await EnqueueAsync(to);
        _server.FailNext(1, 550, "rcpt");

        var counts = await Delivery(Smtp(_server), Mail()).DeliverDueAsync(CancellationToken.None);

        Assert.That(counts.Failed, Is.EqualTo(1));
        var state = await StateAsync(id);
        Assert.That(state.Status, Is.EqualTo("failed"));
        Assert.That(state.LastError, Does.Contain("550"));
        Assert.That(_server.GetMessages(), Is.Empty);
    }

    [Test]
    public async Task DeliverDue_ServerDown_RetriedThenAllDeliveredOnce()
    {
        var recipients = Enumerable.Range(1, 3).Select(i => $"down-{i}-{Guid.NewGuid():N}@example.org").ToList();
        var ids = new List<long>();
        foreach (var to in recipients)
        {
            ids.Add((await EnqueueAsync(to)).Id);
        }

        var delivery = Delivery(Smtp(_server), Mail());
        await _server.StopAsync();

        var whileDown = await delivery.DeliverDueAsync(CancellationToken.None);
        var states = await Task.WhenAll(ids.Select(StateAsync));
        await _server.StartAgainAsync();
        foreach (var id in ids)
        {
            await WaitUntilDueAsync(id);
        }

        var afterRestart = await delivery.DeliverDueAsync(CancellationToken.None);

        Assert.That(whileDown.Retried, Is.EqualTo(3));
        Assert.That(states.Select(s => s.Status), Is.All.EqualTo("queued"));
        Assert.That(states.Select(s => s.LastError), Is.All.Contains("Connexion SMTP impossible"));
        Assert.That(afterRestart.Sent, Is.EqualTo(3));
        var received = _server.GetMessages();
        Assert.That(received.SelectMany(m => m.RcptTos).Order(), Is.EqualTo(recipients.Order()));
    }

    [Test]
    public async Task DeliverDue_MaxAttemptsReached_MarksFailed()
    {
        var to = $"giveup-{Guid.NewGuid():N}@example.org";
        var (id, _) = await EnqueueAsync(to);
        var delivery = Delivery(Smtp(_server), Mail(maxAttempts: 2));
        _server.FailNext(5, 421);

        await delivery.DeliverDueAsync(CancellationToken.None);
        await WaitUntilDueAsync(id);
        var second = await delivery.DeliverDueAsync(CancellationToken.None);

        Assert.That(second.Failed, Is.EqualTo(1));
        var state = await StateAsync(id);
        Assert.That((state.Status, state.Attempts), Is.EqualTo(("failed", 2)));
        Assert.That(state.LastError, Does.Contain("421"));
    }

    [Test]
    public async Task DeliverDue_StartTlsAndAuth_DeliversOverTls()
    {
        await using var secure = await SmtpServer.StartAsync(new SmtpServerOptions(StartTls: true, User: "envoi", Password: "sécret pass"));
        var to = $"tls-{Guid.NewGuid():N}@example.org";
        var (id, _) = await EnqueueAsync(to);
        var smtp = Smtp(secure);
        smtp.StartTls = true;
        smtp.AcceptAnyCertificate = true;
        smtp.User = "envoi";
        smtp.Password = "sécret pass";

        var counts = await Delivery(smtp, Mail()).DeliverDueAsync(CancellationToken.None);

        Assert.That(counts.Sent, Is.EqualTo(1), (await StateAsync(id)).LastError);
        var m = secure.GetMessages().Single();
        Assert.That(m.RcptTos, Is.EqualTo(new[] { to }));
        Assert.That(m.Tls, Is.True);
        Assert.That(m.Authenticated, Is.True);
    }

    [Test]
    public async Task DeliverDue_WrongPassword_RetriedNotLost()
    {
        await using var secure = await SmtpServer.StartAsync(new SmtpServerOptions(StartTls: true, User: "envoi", Password: "bon"));
        var (id, _) = await EnqueueAsync($"auth-{Guid.NewGuid():N}@example.org");
        var smtp = Smtp(secure);
        smtp.StartTls = true;
        smtp.AcceptAnyCertificate = true;
        smtp.User = "envoi";
        smtp.Password = "mauvais";

        var counts = await Delivery(smtp, Mail()).DeliverDueAsync(CancellationToken.None);

        Assert.That(counts.Retried, Is.EqualTo(1));
        var state = await StateAsync(id);
        Assert.That(state.Status, Is.EqualTo("queued"));
        Assert.That(state.LastError, Does.Contain("AUTH"));
    }

    [Test]
    public async Task DeliverDue_PipeliningServer_EachRowGetsItsOwnReplyAndBody()
    {
        // One connection, MailKit pipelining MAIL FROM and RCPT TO: refusals at RCPT, a row the builder refuses and good
        // rows in between must each land on their own row, and no body may go to another row's recipient.
        await using var server = await SmtpServer.StartAsync(new SmtpServerOptions(Pipelining: true));
        var tag = Guid.NewGuid().ToString("N")[..8];
        var recipients = new[]
        {
            $"ok0-{tag}@example.org", $"refuse-1-{tag}@example.org", $"ok2-{tag}@example.org", $"later-3-{tag}@example.org",
            $"ok4-{tag}@example.org", $"injection-5-{tag}@example.org", $"ok6-{tag}@example.org", $"ok7-{tag}@example.org",
        };
        var rows = new List<(long Id, string MessageId)>();
        foreach (var to in recipients)
        {
            rows.Add(await EnqueueAsync(to, new OutgoingEmail("verification", to, "Sujet " + to, "Texte pour " + to, "<p>" + to + "</p>")));
        }

        // An address that the outbox's CHECK lets through but the builder refuses (it would end the envelope's address
        // early on the wire): it is never sent.
        await using (var conn = await _db.DataSource.OpenConnectionAsync())
        {
            await conn.ExecuteAsync("UPDATE outbox SET to_address = @bad WHERE id = @id",
                new { id = rows[5].Id, bad = $"x>,<intrus-{tag}@example.org" });
        }

        var mail = Mail();
        mail.Connections = 1;

        var counts = await Delivery(Smtp(server), mail).DeliverDueAsync(CancellationToken.None);

        Assert.That((counts.Sent, counts.Retried, counts.Failed), Is.EqualTo((5, 1, 2)));
        var received = server.GetMessages();
        Assert.That(received.Select(m => m.RcptTos.Single()),
            Is.EquivalentTo(new[] { recipients[0], recipients[2], recipients[4], recipients[6], recipients[7] }));
        foreach (var m in received)
        {
            var i = Array.IndexOf(recipients, m.RcptTos.Single());
            Assert.That(m.Header("Message-ID"), Is.EqualTo(rows[i].MessageId));
            Assert.That(m.Header("Subject"), Is.EqualTo("Sujet " + recipients[i]));
            Assert.That(m.Text!.TrimEnd('\r', '\n'), Is.EqualTo("Texte pour " + recipients[i]));
            Assert.That(m.Defects, Is.Empty);
        }

        var states = await Task.WhenAll(rows.Select(r => StateAsync(r.Id)));
        Assert.That(states.Select(s => s.Status),
            Is.EqualTo(new[] { "sent", "failed", "sent", "queued", "sent", "failed", "sent", "sent" }));
        Assert.That(states[1].LastError, Does.Contain("550"));
        Assert.That(states[3].LastError, Does.Contain("451"));
        Assert.That(states[5].LastError, Does.Contain("Adresse invalide"));
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task DeliverDue_StopRequestedMidBatch_FinishesCurrentMessageReleasesTheRestAndSendsThemOnceLater(bool pipelining)
    {
        // With or without PIPELINING, the message on the wire when the stop arrives is finished, no other is started,
        // and the claimed rows go back to the queue.
        await using var server = await SmtpServer.StartAsync(new SmtpServerOptions(Pipelining: pipelining));
        var ids = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await EnqueueAsync($"stop-{i}-{Guid.NewGuid():N}@example.org")).Id);
        }

        using var stopping = new CancellationTokenSource();
        var smtp = Smtp(server);
        var mail = Mail();
        mail.Connections = 1;
        var real = new SmtpMailSender(Options.Create(smtp), Options.Create(mail), NullLogger<SmtpMailSender>.Instance);
        // The stop arrives while the first message is being sent.
        var stopped = await Delivery(smtp, mail, new StopDuringFirstSend(real, stopping)).DeliverDueAsync(stopping.Token);
        var afterStop = await Task.WhenAll(ids.Select(StateAsync));
        var receivedAtStop = server.GetMessages().Count;
        real.Dispose();
        var resumed = await Delivery(smtp, mail).DeliverDueAsync(CancellationToken.None);

        Assert.That((stopped.Sent, stopped.Released), Is.EqualTo((1, 4)));
        Assert.That(receivedAtStop, Is.EqualTo(1));
        Assert.That(afterStop.Count(s => s.Status == "sent"), Is.EqualTo(1));
        Assert.That(afterStop.Where(s => s.Status == "queued").Select(s => s.Attempts), Is.EqualTo(new[] { 0, 0, 0, 0 }));
        Assert.That(afterStop.Where(s => s.Status == "queued").Select(s => s.NextAttemptAt), Is.All.LessThanOrEqualTo(DateTime.UtcNow));
        Assert.That(resumed.Sent, Is.EqualTo(4));
        var received = server.GetMessages();
        Assert.That(received.Select(m => m.RcptTos.Single()), Is.Unique);
        Assert.That(received, Has.Count.EqualTo(5));
        Assert.That(received.Select(m => m.Text), Is.All.Not.Empty);
    }

    [Test]
    public async Task DeliverDue_NoSmtpHost_WritesReadableEmlFile()
    {
        var root = Path.Combine(Path.GetTempPath(), "pickup-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var to = $"pickup-{Guid.NewGuid():N}@example.org";
            var (_, messageId) = await EnqueueAsync(to, new OutgoingEmail("verification", to, "Confirmez votre adresse email",
                "Cliquez sur le lien : https://opportunites.test/confirmer?jeton=abc", "<p>Cliquez sur <a href=\"https://opportunites.test/confirmer?jeton=abc\">ce lien</a></p>"));
            var mail = Mail();
            mail.PickupDirectory = "var/mail";
            var pickup = new PickupMailSender(Options.Create(mail), new TestEnvironment(root));

            var counts = await Delivery(new SmtpSettings(), mail, pickup).DeliverDueAsync(CancellationToken.None);

            Assert.That(counts.Sent, Is.EqualTo(1));
            var files = Directory.GetFiles(Path.Combine(root, "var", "mail"), "*.eml");
            Assert.That(files, Has.Length.EqualTo(1));
            var m = await EmlParser.ParseAsync(files[0]);
            Assert.That(m.Defects, Is.Empty);
            Assert.That(m.Header("Message-ID"), Is.EqualTo(messageId));
            Assert.That(m.Header("To"), Is.EqualTo(to));
            Assert.That(m.Header("Subject"), Is.EqualTo("Confirmez votre adresse email"));
            Assert.That(m.Text, Does.Contain("https://opportunites.test/confirmer?jeton=abc"));
            Assert.That(m.Html, Does.Contain("href=\"https://opportunites.test/confirmer?jeton=abc\""));
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    [Test]
    public async Task DeliverDue_DkimConfigured_SignatureVerifiedByAnIndependentVerifierAndBrokenByATamperedBody()
    {
        var folder = Directory.CreateTempSubdirectory("dkim-").FullName;
        try
        {
            using var rsa = System.Security.Cryptography.RSA.Create(2048);
            var keyPath = Path.Combine(folder, "dkim.pem");
            await File.WriteAllTextAsync(keyPath, rsa.ExportRSAPrivateKeyPem());
            var to = $"dkim-{Guid.NewGuid():N}@example.org";
            await EnqueueAsync(to, new OutgoingEmail("digest", to, "Votre sélection — été", "Bonjour Élodie,\n.point\nFin.",
                "<p>Bonjour Élodie</p>", Headers: new Dictionary<string, string>
                {
                    ["List-Unsubscribe"] = "<https://opportunites.test/alertes/desinscription/abc>",
                    ["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click",
                }));
            var mail = Mail();
            mail.Dkim = new DkimSettings { Domain = "opportunites.test", Selector = "s2026", PrivateKeyPath = keyPath };

            var counts = await Delivery(Smtp(_server), mail).DeliverDueAsync(CancellationToken.None);

            Assert.That(counts.Sent, Is.EqualTo(1));
            var m = _server.GetMessages().Single(x => x.IsTo(to));
            var signature = m.Header("DKIM-Signature");
            Assert.That(signature, Does.Contain("d=opportunites.test").And.Contain("s=s2026").And.Contain("c=relaxed/relaxed"));
            var signedHeaders = System.Text.RegularExpressions.Regex.Match(signature!, @"h=([^;]+)").Groups[1].Value
                .Split(':').Select(h => h.Trim().ToLowerInvariant());
            Assert.That(signedHeaders, Is.SupersetOf(new[]
                { "from", "to", "subject", "date", "message-id", "list-unsubscribe", "list-unsubscribe-post" }));
            var publicKey = Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo());
            Assert.That(await DkimVerifyAsync(folder, m.Raw, publicKey), Is.EqualTo("True"));
            var tampered = System.Text.Encoding.ASCII.GetBytes(System.Text.Encoding.ASCII.GetString(m.Raw).Replace("Fin.", "Fin!"));
            Assert.That(await DkimVerifyAsync(folder, tampered, publicKey), Is.EqualTo("False"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Debian's python3-dkim (dkimpy) verifying a message, the public key served by a stand-in for DNS.</summary>
    private static async Task<string> DkimVerifyAsync(string folder, byte[] raw, string publicKey)
    {
        var eml = Path.Combine(folder, Guid.NewGuid().ToString("N") + ".eml");
        await File.WriteAllBytesAsync(eml, raw);
        const string script = """
            import sys, dkim
            raw = open(sys.argv[1], 'rb').read()
            record = b'v=DKIM1; k=rsa; p=' + sys.argv[2].encode()
            def dns(name, timeout=5):
                return record if name.startswith(b's2026._domainkey.opportunites.test') else None
            print(dkim.verify(raw, dnsfunc=dns))
            """;
        var psi = new System.Diagnostics.ProcessStartInfo(SmtpServer.Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-c", script, eml, publicKey })
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(psi)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.That(process.ExitCode, Is.Zero, error);
        return output.Trim();
    }

    [TestCase("ne-pas-repondre@opportunites.test", true)]
    [TestCase("annonces@opportunites.test", false)]
    public async Task DeliverDue_ReplyToSetting_OnlyANoReplySenderGetsIt(string from, bool expected)
    {
        var to = $"reponse-{Guid.NewGuid():N}@example.org";
        await EnqueueAsync(to);
        var smtp = Smtp(_server);
        smtp.From = from;
        smtp.ReplyTo = "contact@opportunites.test";

        await Delivery(smtp, Mail()).DeliverDueAsync(CancellationToken.None);

        var m = _server.GetMessages().Single(x => x.IsTo(to));
        Assert.That(m.Header("From"), Is.EqualTo($"Opportunités <{from}>"));
        Assert.That(m.Header("Reply-To"), expected ? Is.EqualTo("contact@opportunites.test") : Is.Null);
    }

    private sealed class OutboxState
    {
        public string Status { get; init; } = "";
        public int Attempts { get; init; }
        public string? LastError { get; init; }
        public DateTime NextAttemptAt { get; init; }
        public DateTime? SentAt { get; init; }
    }

    /// <summary>The real SMTP sender, with a stop request fired while its first message is on the wire.</summary>
    private sealed class StopDuringFirstSend(IMailSender inner, CancellationTokenSource stopping) : IMailSender
    {
        public int MaxSessions => inner.MaxSessions;

        public IMailSession OpenSession() => new Session(inner.OpenSession(), stopping);

        private sealed class Session(IMailSession inner, CancellationTokenSource stopping) : IMailSession
        {
            public SendResult Send(MimeKit.MimeMessage message, CancellationToken ct, Task? acceptAfter = null)
            {
                stopping.Cancel();
                return inner.Send(message, ct, acceptAfter);
            }

            public void Dispose() => inner.Dispose();
        }
    }
}

/// <summary>An IHostEnvironment whose content root is a test folder.</summary>
public sealed class TestEnvironment(string contentRoot) : Microsoft.Extensions.Hosting.IHostEnvironment
{
    public string EnvironmentName { get; set; } = "Testing";
    public string ApplicationName { get; set; } = "Opportunites.Web";
    public string ContentRootPath { get; set; } = contentRoot;
    public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } =
        new Microsoft.Extensions.FileProviders.NullFileProvider();
}
