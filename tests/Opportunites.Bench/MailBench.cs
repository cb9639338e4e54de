using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MimeKit.IO;
using Npgsql;
using Opportunites.Web.Data;
using Opportunites.Web.Mail;

namespace Opportunites.Bench;

/// <summary>
/// Mail throughput into postfix's smtp-sink (started here on a free port): MailKit as the app uses it (our own socket
/// with TCP_NODELAY, SIZE ignored, synchronous Send on one thread per connection, a digest group's message prepared once
/// and only its recipient, Message-ID, Date and links changed per mail) against postfix's smtp-source with the same
/// count, size and connections (the ratio), System.Net.Mail.SmtpClient for comparison, then the whole delivery path
/// (outbox rows claimed, sent, marked) on a throwaway database. Also prints the CPU a message costs, MIME building
/// alone, and the cost of a DKIM signature (.NET RSA, as the app signs, and MimeKit's default BouncyCastle RSA).
/// </summary>
public static class MailBench
{
    private static int items = 20;
    private static readonly string[] Placeholders = ["{{lien-gerer}}", "{{lien-desinscription}}"];

    public static async Task<int> RunAsync(string[] args)
    {
        var messages = Option(args, "--messages", 20_000);
        var connections = Option(args, "--connections", 8);
        var smtpClientMessages = Option(args, "--smtpclient", 400);
        var outboxMessages = Option(args, "--outbox", 10_000);
        var dkimMessages = Option(args, "--dkim", 300);
        // Offers per message: 20 make ~12 KB; the digest benchmark's messages (40 new + 40 closing) are ~45 KB.
        items = Option(args, "--items", 20);

        using var sink = SmtpSink.Start();
        var smtp = new SmtpSettings { Host = "127.0.0.1", Port = sink.Port, From = "annonces@opportunites.test", FromName = "Opportunités" };
        var body = SharedBody();
        var size = Size(new MessageBuilder(smtp, new MailSettings()).Build(Row(0, body)));
        Console.WriteLine($"smtp-sink sur 127.0.0.1:{sink.Port}, messages d'environ {size / 1024} Ko (multipart, QP), MailKit/MimeKit");
        Console.WriteLine();

        // What building one message costs alone (no network): a new MimeMessage per mail (bodies encoded whole), and a
        // digest group's message reused with its body prepared once (what delivery does for digests).
        foreach (var (label, shared) in new[] { ("nouveau MimeMessage, corps encodés en entier", false), ("message du groupe réutilisé, corps préparé", true) })
        {
            var builder = new MessageBuilder(smtp, new MailSettings());
            var rows = Enumerable.Range(0, 2_000).Select(i => shared ? Row(i, body) : WholeRow(i)).ToList();
            foreach (var row in rows)
            {
                Size(builder.Build(row)); // warm-up: the optimised JIT tier
            }

            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var built = rows.Sum(row => (long)Size(builder.Build(row)));
            var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
            Console.WriteLine($"construction MIME seule, {label} : {used.TotalMicroseconds / rows.Count:0} µs de CPU par message ({built / rows.Count / 1024} Ko)");
        }

        if (dkimMessages > 0)
        {
            DkimCost(smtp, body, dkimMessages);
        }

        Console.WriteLine();
        Console.WriteLine($"{"émetteur",-52} {"connexions",10} {"messages",9} {"msg/s",9} {"µs CPU/msg",11} {"ratio",6}");

        // Warm-up: JIT and the sink's first accept.
        MailKitRun(smtp, body, 500, 2);
        foreach (var c in new[] { 1, connections }.Distinct())
        {
            var (rate, cpuPerMessage) = MailKitRun(smtp, body, messages, c);
            var source = await SmtpSourceAsync(sink.Port, messages, c, size);
            Row("MailKit SmtpClient (NoDelay, Send synchrone)", c, messages, rate, cpuPerMessage, rate / source);
            Row("postfix smtp-source (référence)", c, messages, source, null, 1);
        }

        foreach (var c in smtpClientMessages > 0 ? new[] { 1, connections }.Distinct() : [])
        {
            Row("System.Net.Mail.SmtpClient", c, smtpClientMessages, await SmtpClientAsync(smtp, smtpClientMessages, c), null, null);
        }

        if (outboxMessages > 0)
        {
            var server = Environment.GetEnvironmentVariable("ConnectionStrings__Default");
            if (string.IsNullOrEmpty(server))
            {
                Console.WriteLine("(chemin complet de la file ignoré : définissez ConnectionStrings__Default)");
            }
            else
            {
                Row("file outbox → OutboxDelivery (tâche deliver)", connections, outboxMessages,
                    await OutboxAsync(server, smtp, outboxMessages, connections), null, null);
            }
        }

        Console.WriteLine($"RSS max du processus de mesure (VmHWM) : {(MemorySampler.Read(Environment.ProcessId, "VmHWM:") ?? 0) / 1024.0 / 1024.0:0} Mo");
        return 0;
    }

    private static void Row(string sender, int connections, int messages, double rate, double? cpuMicros, double? ratio) =>
        Console.WriteLine($"{sender,-52} {connections,10} {messages,9} {rate,9:N0} {(cpuMicros is { } c ? c.ToString("0", CultureInfo.InvariantCulture) : "-"),11} " +
                          $"{(ratio is { } r ? r.ToString("0.00", CultureInfo.InvariantCulture) : "-"),6}");

    private static int Option(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
    }

    private static (string Text, string Html) Bodies(int i)
    {
        var text = new System.Text.StringBuilder();
        var html = new System.Text.StringBuilder("<h1>Votre sélection de la semaine</h1>\n");
        for (var k = 0; k < items; k++)
        {
            text.Append($"• Appel à projets n° {k} — Cohésion sociale en Gironde, date limite le 12/12/2026.\n  https://opportunites.test/offres/{(i * 20) + k}\n");
            html.Append($"<p><a href=\"https://opportunites.test/offres/{(i * 20) + k}\">Appel à projets n° {k}</a> — Cohésion sociale en Gironde, « date limite » le 12/12/2026. Structures éligibles : associations, collectivités.</p>\n");
        }

        text.Append("\nGérer : {{lien-gerer}}\nSe désinscrire : {{lien-desinscription}}\n");
        html.Append("<p><a href=\"{{lien-gerer}}\">Gérer</a> · <a href=\"{{lien-desinscription}}\">Se désinscrire</a></p>\n");
        return (text.ToString(), html.ToString());
    }

    /// <summary>A digest group's body (~12 KB at 20 items), prepared once as delivery does when it reads it.</summary>
    private static OutboxDelivery.SharedBody SharedBody()
    {
        var (text, html) = Bodies(0);
        return new OutboxDelivery.SharedBody
        {
            Id = Guid.NewGuid(),
            Placeholders = Placeholders,
            TextBody = System.Text.Encoding.UTF8.GetBytes(text),
            HtmlBody = System.Text.Encoding.UTF8.GetBytes(html),
        }.Prepare();
    }

    private static string Headers(int i) => System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string>
    {
        ["List-Id"] = "Sélection hebdomadaire <digest.opportunites.test>",
        ["List-Unsubscribe"] = $"<https://opportunites.test/alertes/desinscription?jeton={i:x32}>",
        ["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click",
    });

    private static string?[] Links(int i) =>
    [
        $"https://opportunites.test/alertes/gerer?jeton={i:x32}", $"https://opportunites.test/alertes/desinscription?jeton={i:x32}",
        $"https://opportunites.test/alertes/gerer?jeton={i:x32}", $"https://opportunites.test/alertes/desinscription?jeton={i:x32}",
    ];

    /// <summary>A row of a digest group, as delivery claims it.</summary>
    private static OutboxDelivery.OutboxRow Row(int i, OutboxDelivery.SharedBody body) => new()
    {
        Id = i,
        MessageId = $"<bench-{i}-{Guid.NewGuid():N}@opportunites.local>",
        ToAddress = $"abonne{i}@example.org",
        Subject = $"Votre sélection : {items} offres",
        BodyId = body.Id,
        Body = body,
        Personal = Links(i),
        Headers = Headers(i),
        CreatedAt = DateTime.UtcNow,
    };

    /// <summary>The same email as a row with its own bodies (a new MimeMessage each time).</summary>
    private static OutboxDelivery.OutboxRow WholeRow(int i)
    {
        var (text, html) = Bodies(0);
        var links = Links(i);
        return new OutboxDelivery.OutboxRow
        {
            Id = i,
            MessageId = $"<bench-{i}-{Guid.NewGuid():N}@opportunites.local>",
            ToAddress = $"abonne{i}@example.org",
            Subject = $"Votre sélection : {items} offres",
            TextBody = Outbox.Personalise(text, Placeholders, links, 0),
            HtmlBody = Outbox.Personalise(html, Placeholders, links, 2),
            Headers = Headers(i),
            CreatedAt = DateTime.UtcNow,
        };
    }

    private static int Size(MimeKit.MimeMessage message)
    {
        using var counter = new MeasuringStream();
        message.WriteTo(MessageBuilder.Format, counter);
        return (int)counter.Length;
    }

    /// <summary>CPU of one DKIM signature (relaxed/relaxed, rsa-sha256, 2048-bit key): the app's .NET RSA signer and MimeKit's default.</summary>
    private static void DkimCost(SmtpSettings smtp, OutboxDelivery.SharedBody body, int messages)
    {
        var folder = Directory.CreateTempSubdirectory("bench-dkim-").FullName;
        try
        {
            using var rsa = System.Security.Cryptography.RSA.Create(2048);
            var key = Path.Combine(folder, "dkim.pem");
            File.WriteAllText(key, rsa.ExportRSAPrivateKeyPem());
            var plain = new MessageBuilder(smtp, new MailSettings());
            var signed = new MessageBuilder(smtp, new MailSettings { Dkim = new DkimSettings { Domain = "opportunites.test", Selector = "bench", PrivateKeyPath = key } });
            double CpuMicros(Action<int> build)
            {
                for (var i = 0; i < 20; i++)
                {
                    build(i);
                }

                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                for (var i = 0; i < messages; i++)
                {
                    build(i);
                }

                return (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / messages;
            }

            var without = CpuMicros(i => Size(plain.Build(Row(i, body))));
            var with = CpuMicros(i => Size(signed.Build(Row(i, body))));
            var bouncy = new MimeKit.Cryptography.DkimSigner(key, "opportunites.test", "bench", MimeKit.Cryptography.DkimSignatureAlgorithm.RsaSha256)
            {
                HeaderCanonicalizationAlgorithm = MimeKit.Cryptography.DkimCanonicalizationAlgorithm.Relaxed,
                BodyCanonicalizationAlgorithm = MimeKit.Cryptography.DkimCanonicalizationAlgorithm.Relaxed,
            };
            var withBouncy = CpuMicros(i =>
            {
                var m = plain.Build(Row(i, body));
                m.Headers.RemoveAll(MimeKit.HeaderId.DkimSignature);
                bouncy.Sign(MessageBuilder.Format, m, ["From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post"]);
                Size(m);
            });
            Console.WriteLine($"DKIM (rsa-sha256, clé 2048 bits) : +{with - without:0} µs de CPU par message avec le RSA de .NET (signeur de l'application), " +
                              $"+{withBouncy - without:0} µs avec le RSA par défaut de MimeKit (BouncyCastle) ; {messages} messages");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>MailKit as the app sends: one thread per pooled connection, synchronous Send, a group's message reused.</summary>
    private static (double Rate, double CpuMicros) MailKitRun(SmtpSettings smtp, OutboxDelivery.SharedBody body, int messages, int connections)
    {
        var mail = new MailSettings { Connections = connections };
        using var sender = new SmtpMailSender(Options.Create(smtp), Options.Create(mail), NullLogger<SmtpMailSender>.Instance);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        var threads = Enumerable.Range(0, connections).Select(c => new Thread(() =>
        {
            using var session = sender.OpenSession();
            var builder = new MessageBuilder(smtp, mail);
            for (var i = c; i < messages; i += connections)
            {
                var result = session.Send(builder.Build(Row(i, body)), CancellationToken.None);
                if (result.Status != SendStatus.Sent)
                {
                    throw new InvalidOperationException(result.Error);
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        var elapsed = sw.Elapsed;
        var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        return (messages / elapsed.TotalSeconds, used.TotalMicroseconds / messages);
    }

    /// <summary>postfix's smtp-source: the same count and size over the same number of reused connections.</summary>
    private static async Task<double> SmtpSourceAsync(int port, int messages, int connections, int size)
    {
        var watch = Stopwatch.StartNew();
        var (code, _, err) = await Tools.RunAsync(DigestMeasurement.SmtpSource,
        [
            "-d", "-s", connections.ToString(CultureInfo.InvariantCulture), "-m", messages.ToString(CultureInfo.InvariantCulture),
            "-l", size.ToString(CultureInfo.InvariantCulture), "-f", "annonces@opportunites.test", "-t", "abonne@example.org", $"127.0.0.1:{port}",
        ]);
        return code == 0 ? messages / watch.Elapsed.TotalSeconds : throw new InvalidOperationException($"smtp-source a échoué (code {code}) : {err}");
    }

    private static async Task<double> SmtpClientAsync(SmtpSettings smtp, int messages, int connections)
    {
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, connections).Select(c => Task.Run(() =>
        {
#pragma warning disable SYSLIB0014 // SmtpClient is what we measure against.
            using var client = new System.Net.Mail.SmtpClient(smtp.Host, smtp.Port);
#pragma warning restore SYSLIB0014
            for (var i = c; i < messages; i += connections)
            {
                var row = WholeRow(i);
                using var message = new System.Net.Mail.MailMessage(new System.Net.Mail.MailAddress(smtp.From, smtp.FromName),
                    new System.Net.Mail.MailAddress(row.ToAddress))
                {
                    Subject = row.Subject,
                    SubjectEncoding = System.Text.Encoding.UTF8,
                    HeadersEncoding = System.Text.Encoding.UTF8,
                };
                message.AlternateViews.Add(System.Net.Mail.AlternateView.CreateAlternateViewFromString(row.TextBody!, System.Text.Encoding.UTF8, "text/plain"));
                message.AlternateViews.Add(System.Net.Mail.AlternateView.CreateAlternateViewFromString(row.HtmlBody!, System.Text.Encoding.UTF8, "text/html"));
                client.Send(message);
            }
        })));
        return messages / sw.Elapsed.TotalSeconds;
    }

    /// <summary>The delivery job's own path: rows claimed with SKIP LOCKED, sent over the pool, each marked sent.</summary>
    private static async Task<double> OutboxAsync(string serverConnectionString, SmtpSettings smtp, int messages, int connections)
    {
        DefaultTypeMap.MatchNamesWithUnderscores = true;
        var name = $"opportunites_bench_{Guid.NewGuid():N}"[..32];
        var admin = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = "postgres", Pooling = false }.ConnectionString;
        await using (var conn = new NpgsqlConnection(admin))
        {
            await conn.OpenAsync();
            await conn.ExecuteAsync($"CREATE DATABASE \"{name}\"");
        }

        var cs = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = name }.ConnectionString;
        try
        {
            await using var db = DataExtensions.CreateDataSource(new Microsoft.Extensions.Configuration.ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Default"] = cs }).Build());
            await new Migrator(db, NullLogger<Migrator>.Instance).MigrateAsync();
            await using (var conn = await db.OpenConnectionAsync())
            {
                var sample = WholeRow(0);
                await conn.ExecuteAsync("""
                    INSERT INTO outbox (message_id, category, to_address, to_name, subject, text_body, html_body, headers)
                    SELECT '<bench-' || i || '@opportunites.local>', 'digest', 'abonne' || i || '@example.org', 'Abonné',
                           @subject || ' ' || i, @text, @html, @headers::jsonb
                    FROM generate_series(1, @messages) AS i
                    """, new
                {
                    subject = sample.Subject,
                    text = sample.TextBody,
                    html = sample.HtmlBody,
                    headers = sample.Headers,
                    messages,
                });
            }

            var mail = new MailSettings { Connections = connections, BatchSize = 200 };
            using var sender = new SmtpMailSender(Options.Create(smtp), Options.Create(mail), NullLogger<SmtpMailSender>.Instance);
            var delivery = new OutboxDelivery(db, sender, Options.Create(smtp), Options.Create(mail), NullLogger<OutboxDelivery>.Instance);
            var sw = Stopwatch.StartNew();
            var counts = await delivery.DeliverDueAsync(CancellationToken.None);
            var rate = counts.Sent / sw.Elapsed.TotalSeconds;
            if (counts.Sent != messages)
            {
                Console.WriteLine($"  attention : {counts.Sent} envoyés sur {messages} ({counts.Retried} reportés, {counts.Failed} en échec)");
            }

            return rate;
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await using var conn = new NpgsqlConnection(admin);
            await conn.OpenAsync();
            await conn.ExecuteAsync($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
        }
    }

    /// <summary>postfix's smtp-sink on a free port of 127.0.0.1, stopped on dispose.</summary>
    internal sealed class SmtpSink : IDisposable
    {
        private readonly Process _process;

        private SmtpSink(Process process, int port)
        {
            _process = process;
            Port = port;
        }

        public int Port { get; }

        public static SmtpSink Start()
        {
            const string path = "/usr/sbin/smtp-sink";
            if (!File.Exists(path))
            {
                throw new InvalidOperationException("smtp-sink introuvable : apt-get install -y --no-install-recommends postfix (tools/provision.sh test)");
            }

            int port;
            using (var probe = new TcpListener(System.Net.IPAddress.Loopback, 0))
            {
                probe.Start();
                port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
            }

            var psi = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true };
            // As root, smtp-sink insists on dropping privileges.
            if (Environment.UserName == "root")
            {
                psi.ArgumentList.Add("-u");
                psi.ArgumentList.Add("nobody");
            }

            psi.ArgumentList.Add($"127.0.0.1:{port}");
            psi.ArgumentList.Add("256");
            var process = Process.Start(psi)!;
            for (var i = 0; i < 50; i++)
            {
                try
                {
                    using var client = new TcpClient("127.0.0.1", port);
                    return new SmtpSink(process, port);
                }
                catch (SocketException)
                {
                    Thread.Sleep(100);
                }
            }

            process.Kill();
            throw new InvalidOperationException("smtp-sink n'a pas démarré");
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit();
            }

            _process.Dispose();
        }
    }
}
