using System.Diagnostics;
using System.Net.Sockets;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Opportunites.Web.Data;
using Opportunites.Web.Mail;
using MailMessage = Opportunites.Web.Mail.MailMessage;

namespace Opportunites.Bench;

/// <summary>
/// Mail throughput into postfix's smtp-sink (started here on a free port): our SmtpConnection (TCP_NODELAY, PIPELINING,
/// each message built by MimeWriter in the send loop) against System.Net.Mail.SmtpClient, on 1 and C connections,
/// then the whole delivery path (outbox rows claimed, sent, marked) on a throwaway database. Target: 1,000 msg/s
/// over at most 8 connections.
/// </summary>
public static class MailBench
{
    private static int items = 20;

    public static async Task<int> RunAsync(string[] args)
    {
        var messages = Option(args, "--messages", 20_000);
        var connections = Option(args, "--connections", 8);
        var smtpClientMessages = Option(args, "--smtpclient", 400);
        var outboxMessages = Option(args, "--outbox", 10_000);
        // Offers per message: 20 make ~12 KB; the digest benchmark's messages (40 new + 40 closing) are ~45 KB.
        items = Option(args, "--items", 20);

        using var sink = SmtpSink.Start();
        var smtp = new SmtpSettings { Host = "127.0.0.1", Port = sink.Port, From = "annonces@opportunites.test", FromName = "Opportunités" };
        Console.WriteLine($"smtp-sink sur 127.0.0.1:{sink.Port}, messages d'environ {MimeWriter.Write(Digest(0)).Length / 1024} Ko (multipart, QP)");
        Console.WriteLine();
        Console.WriteLine($"{"émetteur",-44} {"connexions",10} {"messages",9} {"msg/s",9}");

        // What building one message costs alone (MimeWriter, no network): the part of the send loop that grows with size.
        var samples = Enumerable.Range(0, 2_000).Select(Digest).ToList();
        foreach (var m in samples)
        {
            MimeWriter.Write(m); // warm-up: the optimised JIT tier
        }

        var build = Stopwatch.StartNew();
        var built = 0L;
        foreach (var m in samples)
        {
            built += MimeWriter.Write(m).Length;
        }

        Console.WriteLine($"construction MIME seule : {build.Elapsed.TotalMilliseconds * 1000 / samples.Count:0} µs par message ({built / samples.Count / 1024} Ko)");

        // A digest group's shared body (0063), one line per offer as DigestRenderer writes it, with the subscriber's two
        // links: personalised then encoded whole, against encoded once with only the lines with links per message.
        string[] placeholders = ["{{lien-gerer}}", "{{lien-desinscription}}"];
        var template = samples[0];
        var textTemplate = template.TextBody + "\nGérer : {{lien-gerer}}\nSe désinscrire : {{lien-desinscription}}\n";
        var htmlTemplate = template.HtmlBody.Replace("</p>", "</p>\n", StringComparison.Ordinal) +
                           "<p><a href=\"{{lien-gerer}}\">Gérer</a> · <a href=\"{{lien-desinscription}}\">Se désinscrire</a></p>\n";
        var text = new PreparedBody(textTemplate, placeholders);
        var html = new PreparedBody(htmlTemplate, placeholders);
        string?[] Links(int i) =>
        [
            $"https://opportunites.test/alertes/gerer?jeton={i:x32}", $"https://opportunites.test/alertes/desinscription?jeton={i:x32}",
            $"https://opportunites.test/alertes/gerer?jeton={i:x32}", $"https://opportunites.test/alertes/desinscription?jeton={i:x32}",
        ];
        // The templates as stored; the timed loop personalises them, as delivery did before.
        var whole = samples.Select(m => m with { TextBody = textTemplate, HtmlBody = htmlTemplate }).ToList();
        var prepared = samples.Select((m, i) => m with
        {
            TextPart = new PersonalisedBody(text, Links(i), 0),
            HtmlPart = new PersonalisedBody(html, Links(i), 2),
        }).ToList();
        foreach (var (label, shared, personaliseEach) in new[] { ("personnalisé puis encodé en entier", whole, true), ("préparé, lignes à liens seules encodées", prepared, false) })
        {
            foreach (var m in shared)
            {
                MimeWriter.Write(m);
            }

            build.Restart();
            built = 0L;
            for (var i = 0; i < shared.Count; i++)
            {
                // What delivery does per message: personalise the whole body (before) or not (prepared), then write.
                var m = personaliseEach
                    ? shared[i] with
                    {
                        TextBody = Outbox.Personalise(textTemplate, placeholders, Links(i), 0),
                        HtmlBody = Outbox.Personalise(htmlTemplate, placeholders, Links(i), 2),
                    }
                    : shared[i];
                built += MimeWriter.Write(m).Length;
            }

            Console.WriteLine($"construction MIME, corps partagé {label} : {build.Elapsed.TotalMilliseconds * 1000 / shared.Count:0} µs par message ({built / shared.Count / 1024} Ko)");
        }

        // Warm-up: JIT and the sink's first accept.
        await OursAsync(smtp, 500, 2);
        foreach (var c in new[] { 1, connections }.Distinct())
        {
            Row("SmtpConnection (Socket NoDelay + PIPELINING)", c, messages, await OursAsync(smtp, messages, c));
        }

        foreach (var c in smtpClientMessages > 0 ? new[] { 1, connections }.Distinct() : [])
        {
            Row("System.Net.Mail.SmtpClient", c, smtpClientMessages, await SmtpClientAsync(smtp, smtpClientMessages, c));
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
                    await OutboxAsync(server, smtp, outboxMessages, connections));
            }
        }

        return 0;
    }

    private static void Row(string sender, int connections, int messages, double rate) =>
        Console.WriteLine($"{sender,-44} {connections,10} {messages,9} {rate,9:N0}");

    private static int Option(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
    }

    /// <summary>A personalised digest-sized message (~12 KB at 20 items): built per message, as the delivery job does.</summary>
    private static MailMessage Digest(int i)
    {
        var text = new System.Text.StringBuilder();
        var html = new System.Text.StringBuilder("<h1>Votre sélection de la semaine</h1>");
        for (var k = 0; k < items; k++)
        {
            text.Append($"• Appel à projets n° {k} — Cohésion sociale en Gironde, date limite le 12/12/2026.\n  https://opportunites.test/offres/{(i * 20) + k}\n");
            html.Append($"<p><a href=\"https://opportunites.test/offres/{(i * 20) + k}\">Appel à projets n° {k}</a> — Cohésion sociale en Gironde, « date limite » le 12/12/2026. Structures éligibles : associations, collectivités.</p>");
        }

        return new MailMessage($"<bench-{i}-{Guid.NewGuid():N}@opportunites.local>", "annonces@opportunites.test", "Opportunités",
            $"abonne{i}@example.org", "Abonné Élodie", $"Votre sélection : {items} offres (semaine {i % 52})", text.ToString(), html.ToString(),
            new Dictionary<string, string>
            {
                ["List-Id"] = "Sélection hebdomadaire <digest.opportunites.test>",
                ["List-Unsubscribe"] = $"<https://opportunites.test/alertes/desinscription/{i}>",
                ["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click",
            }, DateTimeOffset.Now);
    }

    private static async Task<double> OursAsync(SmtpSettings smtp, int messages, int connections)
    {
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, connections).Select(c => Task.Run(async () =>
        {
            await using var connection = await SmtpConnection.OpenAsync(smtp, CancellationToken.None);
            // As the delivery job does: each message's envelope goes out with the end of the one before.
            var m = Digest(c);
            for (var i = c; i < messages; i += connections)
            {
                var next = i + connections < messages ? Digest(i + connections) : null;
                var reply = await connection.SendAsync(new SmtpEnvelope(m.FromAddress, m.ToAddress), MimeWriter.Write(m),
                    next is null ? null : new SmtpEnvelope(next.FromAddress, next.ToAddress), CancellationToken.None);
                if (!reply.IsSuccess)
                {
                    throw new InvalidOperationException(reply.ToString());
                }

                m = next!;
            }
        })));
        return messages / sw.Elapsed.TotalSeconds;
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
                var m = Digest(i);
                using var message = new System.Net.Mail.MailMessage(new System.Net.Mail.MailAddress(m.FromAddress, m.FromName),
                    new System.Net.Mail.MailAddress(m.ToAddress, m.ToName))
                {
                    Subject = m.Subject,
                    SubjectEncoding = System.Text.Encoding.UTF8,
                    HeadersEncoding = System.Text.Encoding.UTF8,
                };
                message.AlternateViews.Add(System.Net.Mail.AlternateView.CreateAlternateViewFromString(m.TextBody, System.Text.Encoding.UTF8, "text/plain"));
                message.AlternateViews.Add(System.Net.Mail.AlternateView.CreateAlternateViewFromString(m.HtmlBody, System.Text.Encoding.UTF8, "text/html"));
                foreach (var (name, value) in m.Headers)
                {
                    message.Headers.Add(name, value);
                }

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
                var sample = Digest(0);
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
                    headers = System.Text.Json.JsonSerializer.Serialize(sample.Headers),
                    messages,
                });
            }

            var mail = new MailSettings { Connections = connections, BatchSize = 200 };
            var sender = new SmtpMailSender(Options.Create(smtp), Options.Create(mail), NullLogger<SmtpMailSender>.Instance);
            var delivery = new OutboxDelivery(db, sender, Options.Create(smtp), Options.Create(mail), NullLogger<OutboxDelivery>.Instance);
            var sw = Stopwatch.StartNew();
            var counts = await delivery.DeliverDueAsync(CancellationToken.None);
            var rate = counts.Sent / sw.Elapsed.TotalSeconds;
            await sender.DisposeAsync();
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
