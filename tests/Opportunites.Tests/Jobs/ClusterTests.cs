using Dapper;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Jobs;
using Opportunites.Web.Mail;

namespace Opportunites.Tests.Jobs;

/// <summary>
/// Two Hangfire nodes on one database (the app's own AddJobs), a job every 2 seconds: every occurrence that runs runs
/// once, recorded once in the ledger under its cron occurrence. ~25 s; CLUSTER_TEST_SECONDS=300 for a longer run.
/// </summary>
public sealed class ClusterTests
{
    /// <summary>Cron with seconds first, Europe/Paris: a job that would never fire in a test run.</summary>
    public const string Never = "0 0 0 31 2 ?";

    /// <summary>True while a delivery run of this database holds the cluster's delivery lock (OutboxDelivery).</summary>
    public const string DeliveryLockHeld = """
        EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
                  AND objid = hashtext('opportunites.deliver')::oid
                  AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))
        """;

    [Test]
    public async Task TwoNodes_JobEveryTwoSeconds_EachOccurrenceRunsOnce()
    {
        await using var db = await PrivateDatabase.CreateAsync();
        await using (var conn = await db.DataSource.OpenConnectionAsync())
        {
            // No unique key here on purpose: this table sees a duplicate if the job body ever runs twice.
            await conn.ExecuteAsync("CREATE TABLE cluster_hits (scheduled_at timestamptz NOT NULL, node text NOT NULL)");
        }

        var seconds = int.TryParse(Environment.GetEnvironmentVariable("CLUSTER_TEST_SECONDS"), out var s) ? s : 20;
        using var a = BuildNode(db.ConnectionString, "noeud-a");
        using var b = BuildNode(db.ConnectionString, "noeud-b");
        await Task.WhenAll(a.StartAsync(), b.StartAsync());
        var started = DateTimeOffset.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        var servers = a.Services.GetRequiredService<JobStorage>().GetMonitoringApi().Servers().Select(x => x.Name).ToList();
        await Task.WhenAll(a.StopAsync(), b.StopAsync());

        await using var check = await db.DataSource.OpenConnectionAsync();
        var hits = (await check.QueryAsync<(DateTime ScheduledAt, string Node)>("SELECT scheduled_at, node FROM cluster_hits")).ToList();
        var duplicates = hits.GroupBy(h => h.ScheduledAt).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        var ledger = await check.ExecuteScalarAsync<int>("SELECT count(*) FROM job_runs WHERE job_name = 'battement' AND outcome = 'succeeded'");
        // Occurrences from the first run to the last: the ones in between that did not run were missed.
        var occurrences = hits.Count == 0 ? 0 : (int)((hits.Max(h => h.ScheduledAt) - hits.Min(h => h.ScheduledAt)).TotalSeconds / 2) + 1;
        TestContext.Out.WriteLine($"{hits.Count} runs for {occurrences} occurrences in {seconds} s ({DateTimeOffset.UtcNow - started:g}), by node: " +
            string.Join(", ", hits.GroupBy(h => h.Node).Select(g => $"{g.Key}={g.Count()}")) + $"; servers: {string.Join(", ", servers)}");

        Assert.That(servers, Has.Count.EqualTo(2), "both nodes run a Hangfire server");
        Assert.That(duplicates, Is.Empty, "an occurrence ran twice");
        Assert.That(hits.Select(h => h.ScheduledAt.Second % 2).Distinct(), Is.EqualTo(new[] { 0 }),
            "each run is recorded under its cron occurrence (even seconds), not the instant it started");
        Assert.That(hits, Has.Count.GreaterThanOrEqualTo(seconds / 4), "the cluster must keep running the job");
        Assert.That(hits.Count, Is.GreaterThanOrEqualTo(occurrences * 8 / 10), "at most a few occurrences merged on a loaded machine");
        Assert.That(ledger, Is.EqualTo(hits.Count));
    }

    [Test]
    public async Task Start_RecurringJobLockLeftByAKilledNode_StartsOnceTheLockHasExpired()
    {
        await using var db = await PrivateDatabase.CreateAsync();
        await using (var conn = await db.DataSource.OpenConnectionAsync())
        {
            // What a node killed while Hangfire's scheduler triggered the job leaves behind: its lock row, just taken.
            await conn.ExecuteAsync("""
                INSERT INTO hangfire.lock (resource, updatecount, acquired) VALUES ('hangfire:lock:recurring-job:battement', 0, now())
                """);
        }

        using var node = BuildNode(db.ConnectionString, "noeud-relance");
        await node.StartAsync();
        List<string> jobs;
        using (var connection = node.Services.GetRequiredService<JobStorage>().GetConnection())
        {
            jobs = connection.GetRecurringJobs().Select(j => j.Id).ToList();
        }

        await node.StopAsync();

        Assert.That(jobs, Does.Contain("battement"), "the job is registered once the dead node's lock has expired");
    }

    private static IHost BuildNode(string connectionString, string node)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Default"] = connectionString,
            ["Jobs:NodeName"] = node,
            ["Jobs:Schedules:purge"] = Never,
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
        builder.AddJobs();
        builder.AddClusteredJob<HeartbeatJob>("battement", "0/2 * * * * ?", "Battement (test)", MisfirePolicy.DoNothing);
        return builder.Build();
    }

    public sealed class HeartbeatJob(NpgsqlDataSource db, Microsoft.Extensions.Options.IOptions<JobsSettings> settings) : IClusteredJob
    {
        public async Task<IReadOnlyDictionary<string, int>> RunAsync(JobRunContext context, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            await conn.ExecuteAsync("INSERT INTO cluster_hits (scheduled_at, node) VALUES (@at, @node)",
                new { at = context.ScheduledAt, node = settings.Value.Node });
            // Long enough for the other node to try the same or the next occurrence while this one runs.
            await Task.Delay(300, ct);
            return new Dictionary<string, int> { ["battements"] = 1 };
        }
    }
}

/// <summary>A node stopping while its delivery job runs: the message on the wire is finished, the rest given back.</summary>
public sealed class GracefulShutdownTests
{
    [Test]
    public async Task StopHost_DuringDelivery_FinishesCurrentMessageAndReleasesTheRest()
    {
        await using var db = await PrivateDatabase.CreateAsync();
        await using var smtp = await SmtpServer.StartAsync();
        smtp.SlowDown(TimeSpan.FromSeconds(4));
        var ids = new List<long>();
        await using (var conn = await db.DataSource.OpenConnectionAsync())
        {
            for (var i = 0; i < 4; i++)
            {
                ids.Add((await Opportunites.Web.Mail.Outbox.EnqueueAsync(conn, null, new Opportunites.Web.Mail.OutgoingEmail(
                    "verification", $"arret-{i}-{Guid.NewGuid():N}@example.org", "Arrêt", "t", "<p>h</p>")))!.Value);
            }
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Default"] = db.ConnectionString,
            // No sweep: the run comes from the listener, which asks for delivery at start for the mail already queued.
            ["Jobs:Schedules:deliver"] = ClusterTests.Never,
            ["Jobs:Schedules:purge"] = ClusterTests.Never,
            ["Smtp:Host"] = smtp.Host,
            ["Smtp:Port"] = smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Mail:Connections"] = "1",
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(db.ConnectionString));
        builder.AddJobs();
        builder.AddMail();
        using var host = builder.Build();
        await host.StartAsync();
        // Wait until the delivery run holds its lock, then for the first message to be on the wire (the server holds
        // DATA for 4 s; connecting a first time takes a good part of a second in Debug), then stop the node.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        await using (var conn = await db.DataSource.OpenConnectionAsync())
        {
            while (!await conn.ExecuteScalarAsync<bool>("SELECT " + ClusterTests.DeliveryLockHeld) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }

        await Task.Delay(2000);
        await host.StopAsync();

        await using var check = await db.DataSource.OpenConnectionAsync();
        var states = (await check.QueryAsync<(string Status, int Attempts)>("SELECT status, attempts FROM outbox WHERE id = ANY (@ids)",
            new { ids = ids.ToArray() })).ToList();
        Assert.That(states.Count(s => s.Status == "sent"), Is.EqualTo(1), "the message being sent is finished");
        Assert.That(smtp.GetMessages(), Has.Count.EqualTo(1));
        Assert.That(states.Where(s => s.Status == "queued").Select(s => s.Attempts), Is.EqualTo(new[] { 0, 0, 0 }),
            "the others are given back, not counted as attempts");
        var run = await check.QuerySingleAsync<(string Counts, string Outcome)>(
            "SELECT counts::text, outcome FROM job_runs WHERE job_name = 'deliver' AND counts ->> 'envoyes' = '1'");
        Assert.That(run.Counts, Does.Contain("\"rendus\": 3"));
        Assert.That(run.Outcome, Is.EqualTo("cancelled"));
        // Hangfire put the job back in its queue: the next node to start takes it over at once.
        Assert.That(await check.ExecuteScalarAsync<int>("SELECT count(*) FROM hangfire.jobqueue WHERE fetchedat IS NULL"), Is.EqualTo(1));
    }
}
