using Dapper;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Digests;
using Opportunites.Web.Subscriptions;

namespace Opportunites.Tests.Faults;

/// <summary>
/// The weekly digest while the app is killed (SIGKILL) again and again: every subscriber still gets exactly one
/// digest for the week, give or take the message a connection had on the wire at each kill. Counted from what a
/// real SMTP server received. Fast by default (300 subscribers, 3 kills); FAULT_TESTS=1: 10,000 and 10.
/// </summary>
[NonParallelizable]
public sealed class DigestCrashTests
{
    private const string Period = "Veille";

    [Test]
    public async Task WeeklyDigest_AppKilledRepeatedly_EachSubscriberGetsOneDigestAtMostOneDuplicatePerKill()
    {
        var subscribers = FaultRun.Int("FAULT_DIGEST_SUBSCRIBERS", 300, 10_000);
        var kills = FaultRun.Int("FAULT_DIGEST_KILLS", 3, 10);
        // One SMTP session: a kill can then leave at most one message accepted by the server but not yet marked sent
        // (the next one may be announced, its envelope sent with the end of this one, but a kill never completes it).
        const int connections = 1;
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var waitLimit = TimeSpan.FromSeconds(FaultRun.Full ? 600 : 120);
        var periodAtStart = DigestRunner.PeriodOf(DateTimeOffset.UtcNow, Frequencies.Weekly);

        await using var db = await PrivateDatabase.CreateAsync("opportunites_faults");
        await SeedAsync(db, subscribers);
        await using var smtp = await SmtpServer.StartAsync(new SmtpServerOptions(CountOnly: true, Pipelining: true));
        if (!FaultRun.Full)
        {
            // A few hundred messages would otherwise be gone before a kill could land in the middle of them.
            smtp.SlowDown(TimeSpan.FromMilliseconds(10));
        }

        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings__Default"] = db.ConnectionString,
            ["Jobs__Enabled"] = "true",
            // A killed node's digest comes back after this (60 s in production): ten kills fit in the run.
            ["Jobs__InvisibilitySeconds"] = "15",
            // Delivery and the weekly digest run continuously; the ledgers make every repeat a no-op.
            ["Jobs__Schedules__deliver"] = "0/1 * * * * ?",
            ["Jobs__Schedules__veille-hebdomadaire"] = "0/2 * * * * ?",
            ["Jobs__Schedules__veille-quotidienne"] = FaultRun.Never,
            ["Jobs__Schedules__rappels-date-limite"] = FaultRun.Never,
            ["Jobs__Schedules__expire"] = FaultRun.Never,
            ["Jobs__Schedules__purge"] = FaultRun.Never,
            ["Alertes__DigestBatchSize"] = "50",
            ["Smtp__Host"] = "127.0.0.1",
            ["Smtp__Port"] = FaultRun.S(smtp.Port),
            ["Mail__Connections"] = FaultRun.S(connections),
        };

        var log = new List<string>();
        for (var k = 1; k <= kills; k++)
        {
            await using var app = AppProcess.Start(settings);
            var (enqueued, received) = (await LedgerCountAsync(db), smtp.GetRecipients().Count);
            // Half the kills aim at the enqueue (a share of the ledger rows written), the others at the delivery
            // (a share of the messages received); once everything is queued, only delivery is left to hit.
            var duringEnqueue = enqueued < subscribers && (random.Next(2) == 0 || received >= subscribers);
            var target = duringEnqueue
                ? enqueued + random.Next(1, Math.Max(2, (int)(subscribers - enqueued) / 2))
                : received + random.Next(1, Math.Max(2, (subscribers - received) / (kills - k + 2)));
            var landed = duringEnqueue
                ? await WaitForAsync(app, async () => await LedgerCountAsync(db) >= target, waitLimit)
                : await WaitForAsync(app, () => Task.FromResult(smtp.GetRecipients().Count >= target), waitLimit);
            await app.KillAsync();
            var line = $"arrêt {k} (SIGKILL {(duringEnqueue ? "pendant la mise en file" : "pendant l'envoi")}{(landed ? "" : ", cible non atteinte")}) : " +
                $"{await LedgerCountAsync(db)} veilles en file, {smtp.GetRecipients().Count} messages reçus";
            log.Add(line);
            TestContext.Out.WriteLine(line);
        }

        // A last, undisturbed process finishes the job.
        await using (var app = AppProcess.Start(settings))
        {
            var done = await WaitForAsync(app, async () =>
                await LedgerCountAsync(db) == subscribers && await QueuedCountAsync(db) == 0, waitLimit);
            Assert.That(done, Is.True, $"la veille n'est pas terminée : {await LedgerCountAsync(db)} en file, {await QueuedCountAsync(db)} à envoyer\n{app.LogTail()}");
        }

        if (DigestRunner.PeriodOf(DateTimeOffset.UtcNow, Frequencies.Weekly) != periodAtStart)
        {
            Assert.Inconclusive("La semaine a changé pendant le test : deux veilles par abonné sont alors légitimes.");
        }

        var perRecipient = smtp.GetRecipients().GroupBy(r => r, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.OrdinalIgnoreCase);
        var expected = Enumerable.Range(1, subscribers).Select(Address).ToList();
        var missing = expected.Count(a => !perRecipient.ContainsKey(a));
        var duplicates = perRecipient.Values.Sum(c => c - 1);
        var strangers = perRecipient.Keys.Except(expected, StringComparer.OrdinalIgnoreCase).Count();
        var summary = $"{Period} après {kills} SIGKILL (graine {seed}) : {subscribers} abonnés, {perRecipient.Values.Sum()} messages reçus, " +
            $"{perRecipient.Count} destinataires distincts, {missing} manquant(s), {duplicates} doublon(s) " +
            $"(au plus {kills * connections} admis), max {perRecipient.Values.DefaultIfEmpty(0).Max()} par abonné";
        TestContext.Out.WriteLine(summary);

        Assert.Multiple(() =>
        {
            Assert.That(missing, Is.Zero, "abonnés sans veille\n" + string.Join('\n', log));
            Assert.That(strangers, Is.Zero, "messages à des adresses inconnues");
            Assert.That(duplicates, Is.LessThanOrEqualTo(kills * connections), "doublons\n" + string.Join('\n', log));
        });
        await using var conn = await db.DataSource.OpenConnectionAsync();
        Assert.That(await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM outbox WHERE category = 'digest' AND status = 'sent'"),
            Is.EqualTo(subscribers), "one outbox row per subscriber, all sent");
    }

    private static string Address(int i) => $"abonne-{i}@veille.example.org";

    // Set-based: 10,000 subscribers in two statements. Two offers for the whole country, published an hour ago
    // (inside the first digest's window, past the settle delay).
    private static async Task SeedAsync(PrivateDatabase db, int subscribers)
    {
        var issuer = await TestData.CreateIssuerAsync(db.DataSource);
        foreach (var kind in new[] { "aap", "emploi" })
        {
            await TestData.CreateOpportunityAsync(db.DataSource, TestData.Unique("Offre de la veille"), ["FR"], kind,
                deadline: DateOnly.FromDateTime(DateTime.UtcNow.AddDays(60)), issuerId: issuer,
                publishedAt: DateTimeOffset.UtcNow.AddHours(-1));
        }

        await using var conn = await db.DataSource.OpenConnectionAsync();
        await conn.ExecuteAsync("""
            INSERT INTO subscribers (email, consent_at, confirmed_at)
            SELECT 'abonne-' || g || '@veille.example.org', now() - interval '2 days', now() - interval '2 days'
            FROM generate_series(1, @n) g;
            INSERT INTO digest_subscriptions (subscriber_id, territory_codes, kinds, frequency)
            SELECT id, '{FR}', '{aap,ami,emploi}', 'weekly' FROM subscribers;
            """, new { n = subscribers });
    }

    private static async Task<long> LedgerCountAsync(PrivateDatabase db)
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM digest_deliveries");
    }

    private static async Task<long> QueuedCountAsync(PrivateDatabase db)
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM outbox WHERE status = 'queued'");
    }

    /// <summary>Polls the condition while the app runs; a process that dies by itself fails the test.</summary>
    private static Task<bool> WaitForAsync(AppProcess app, Func<Task<bool>> condition, TimeSpan timeout) =>
        FaultRun.WaitUntilAsync(async () =>
        {
            if (app.HasExited)
            {
                throw new InvalidOperationException("L'application s'est arrêtée seule :\n" + app.LogTail());
            }

            return await condition();
        }, timeout, pollMs: 20);
}
