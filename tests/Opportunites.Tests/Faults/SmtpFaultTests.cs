using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Dapper;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Mail;

namespace Opportunites.Tests.Faults;

/// <summary>
/// The SMTP server misbehaves while the app (a real child process) delivers the outbox: 451 to 30 % of messages, then
/// no server at all, then recovery. Fast by default (60 messages, 5 s outage); FAULT_TESTS=1: 1,000 messages, 60 s
/// (FAULT_SMTP_OUTAGE_SECONDS and FAULT_SMTP_MESSAGES override).
/// </summary>
[NonParallelizable]
public sealed partial class SmtpFaultTests
{
    [Test]
    public async Task Delivery_451sThenOutageThenRecovery_AllDeliveredOnceNoneFailedRetriesShown()
    {
        var messages = FaultRun.Int("FAULT_SMTP_MESSAGES", 60, 1000);
        var outage = TimeSpan.FromSeconds(FaultRun.Int("FAULT_SMTP_OUTAGE_SECONDS", 5, 60));
        const int maxAttempts = 40;
        var waitLimit = TimeSpan.FromSeconds(FaultRun.Full ? 600 : 120);

        await using var db = await PrivateDatabase.CreateAsync("opportunites_faults");
        var admin = await TestUsers.CreateAsync(db.DataSource, "admin");
        var sent = new Dictionary<string, string>();
        await using (var conn = await db.DataSource.OpenConnectionAsync())
        await using (var tx = await conn.BeginTransactionAsync())
        {
            for (var i = 1; i <= messages; i++)
            {
                var to = $"panne-{i}@smtp.example.org";
                await Outbox.EnqueueAsync(conn, tx, new OutgoingEmail("verification", to, $"Message {i}", $"Texte {i}", $"<p>Texte {i}</p>"));
            }

            await tx.CommitAsync();
        }

        // PIPELINING announced, as real servers do: each message's envelope goes out with the end of the one before, and
        // the refusals, the outage and the slow answers meet messages announced but not yet sent.
        await using var smtp = await SmtpServer.StartAsync(new SmtpServerOptions(Pipelining: true));
        smtp.FailRandomly(0.3);
        // Slow enough that the 451 phase and the outage both find messages still waiting.
        smtp.SlowDown(TimeSpan.FromMilliseconds(FaultRun.Full ? 20 : 100));
        await using var app = AppProcess.Start(new Dictionary<string, string>
        {
            ["ConnectionStrings__Default"] = db.ConnectionString,
            ["Jobs__Enabled"] = "true",
            ["Jobs__Schedules__deliver"] = "0/1 * * * * ?",
            ["Jobs__Schedules__veille-hebdomadaire"] = FaultRun.Never,
            ["Jobs__Schedules__veille-quotidienne"] = FaultRun.Never,
            ["Jobs__Schedules__rappels-date-limite"] = FaultRun.Never,
            ["Jobs__Schedules__expire"] = FaultRun.Never,
            ["Jobs__Schedules__purge"] = FaultRun.Never,
            ["Smtp__Host"] = "127.0.0.1",
            ["Smtp__Port"] = FaultRun.S(smtp.Port),
            ["Smtp__TimeoutSeconds"] = "10",
            ["Mail__Connections"] = "2",
            ["Mail__BatchSize"] = "20",
            // Short backoff for the test: 1 s, doubling, at most a sixth of the outage.
            ["Mail__RetryBaseSeconds"] = "1",
            ["Mail__MaxRetryDelaySeconds"] = FaultRun.S(Math.Max(2, (int)outage.TotalSeconds / 6)),
            ["Mail__MaxAttempts"] = FaultRun.S(maxAttempts),
        });
        await app.WaitUntilListeningAsync(TimeSpan.FromSeconds(90));
        using var client = app.CreateClient();
        await TestUsers.LoginAsync(client, admin);

        // Phase 1: a third of the messages through, some refused with 451.
        var phase1 = await FaultRun.WaitUntilAsync(async () =>
            smtp.GetMessages().Count >= messages * 3 / 10 && await CountAsync(db, "last_error LIKE '%451%'") > 0, waitLimit);
        Assert.That(phase1, Is.True, "no 451 seen or too few messages delivered\n" + app.LogTail());
        var afterPhase1 = smtp.GetMessages().Count;

        // Phase 2: connections refused.
        await smtp.StopAsync();
        var watch = Stopwatch.StartNew();
        await Task.Delay(outage / 2);
        var during = await client.GetAsync("/admin/courriels");
        var duringHtml = WebUtility.HtmlDecode(await during.Content.ReadAsStringAsync());
        var failedDuringOutage = await CountAsync(db, "status = 'failed'");
        var remaining = outage - watch.Elapsed;
        if (remaining > TimeSpan.Zero)
        {
            await Task.Delay(remaining);
        }

        var queuedAtRecovery = await CountAsync(db, "status = 'queued'");

        // Phase 3: the server is back and answers normally.
        smtp.FailRandomly(0);
        smtp.SlowDown(TimeSpan.Zero);
        await smtp.StartAgainAsync();
        var allSent = await FaultRun.WaitUntilAsync(async () => await CountAsync(db, "status = 'sent'") == messages, waitLimit, pollMs: 250);

        var received = smtp.GetMessages();
        var byMessageId = received.GroupBy(m => m.Header("Message-ID")).ToDictionary(g => g.Key ?? "", g => g.Count());
        await using var read = await db.DataSource.OpenConnectionAsync();
        var stats = await read.QuerySingleAsync<(long Retried, int MaxAttempts, long Failed)>(
            "SELECT count(*) FILTER (WHERE attempts > 1), coalesce(max(attempts), 0), count(*) FILTER (WHERE status = 'failed') FROM outbox");
        var after = await client.GetAsync("/admin/courriels");
        var afterHtml = WebUtility.HtmlDecode(await after.Content.ReadAsStringAsync());
        var summary = $"Pannes SMTP : {messages} courriels, {afterPhase1} reçus pendant la phase 451, panne de {outage.TotalSeconds:0} s " +
            $"({queuedAtRecovery} en attente au retour), {received.Count} messages reçus au total, " +
            $"{byMessageId.Count} Message-ID distincts, {stats.Retried} courriels repris, jusqu'à {stats.MaxAttempts} tentatives, {stats.Failed} en échec";
        TestContext.Out.WriteLine(summary);

        Assert.Multiple(() =>
        {
            Assert.That(allSent, Is.True, "not every message was marked sent\n" + app.LogTail());
            Assert.That(received, Has.Count.EqualTo(messages), "each message delivered exactly once");
            Assert.That(byMessageId.Values.Where(c => c > 1), Is.Empty, "a message arrived twice");
            Assert.That(stats.Failed, Is.Zero, "a message was marked failed");
            Assert.That(failedDuringOutage, Is.Zero, "marked failed during the outage while attempts remained");
            Assert.That(stats.MaxAttempts, Is.LessThan(maxAttempts), "the test must leave attempts to spare");
            Assert.That(stats.Retried, Is.GreaterThan(0));

            // The admin page showed the retries during the outage: attempts and the last error of each.
            Assert.That(during.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(duringHtml, Does.Contain("Courriels en reprise"));
            Assert.That(AttemptsCells(duringHtml).DefaultIfEmpty(0).Max(), Is.GreaterThanOrEqualTo(2), "retries with their attempt count");
            Assert.That(duringHtml, Does.Contain("451").Or.Contain("Connexion").Or.Contain("connexion"), "the last error is shown");
            Assert.That(Regex.Match(afterHtml, "id=\"envoyes\">(\\d+)<").Groups[1].Value, Is.EqualTo(FaultRun.S(messages)));
            Assert.That(Regex.Match(afterHtml, "id=\"echecs\">(\\d+)<").Groups[1].Value, Is.EqualTo("0"));
            Assert.That(afterHtml, Does.Contain("Aucun courriel en reprise."));
        });
    }

    private static IEnumerable<int> AttemptsCells(string html) =>
        AttemptsRegex().Matches(html).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));

    private static async Task<long> CountAsync(PrivateDatabase db, string where)
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<long>($"SELECT count(*) FROM outbox WHERE {where}");
    }

    [GeneratedRegex("<td class=\"tentatives\"[^>]*>(\\d+)</td>")]
    private static partial Regex AttemptsRegex();
}
