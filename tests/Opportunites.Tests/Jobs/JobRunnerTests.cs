using Dapper;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Jobs;

namespace Opportunites.Tests.Jobs;

/// <summary>The run ledger: one run per job and scheduled time, outcomes and counts recorded.</summary>
public sealed class JobRunnerTests
{
    private PrivateDatabase _db = null!;
    private Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> _app = null!;

    [OneTimeSetUp]
    public async Task CreateAsync()
    {
        _db = await PrivateDatabase.CreateAsync();
        _app = new AppFactory(_db.ConnectionString).WithWebHostBuilder(b => b.ConfigureTestServices(s =>
        {
            // A job that fails, registered the way a feature registers its own.
            s.AddSingleton(new ClusteredJobDefinition("panne", typeof(FailingJob), "0 0 3 * * ?", "Tâche en panne",
                MisfirePolicy.DoNothing, false));
            s.AddScoped<FailingJob>();
        }));
    }

    [OneTimeTearDown]
    public async Task DropAsync()
    {
        await _app.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Test]
    public async Task Run_SameScheduledTimeTwice_RunsOnceAndRecordsIt()
    {
        var runner = _app.Services.GetRequiredService<JobRunner>();
        var scheduled = new DateTimeOffset(2031, 1, 2, 3, Random.Shared.Next(0, 59), Random.Shared.Next(0, 59), TimeSpan.Zero);

        var first = await runner.RunAsync(new JobRunContext(ExpiryJob.Name, scheduled, "schedule", null), CancellationToken.None);
        var second = await runner.RunAsync(new JobRunContext(ExpiryJob.Name, scheduled, "schedule", null), CancellationToken.None);

        Assert.That(first.Skipped, Is.False);
        Assert.That(first.Outcome, Is.EqualTo("succeeded"));
        Assert.That(first.Counts.Keys, Does.Contain("expirees"));
        Assert.That(second.Skipped, Is.True);
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var rows = (await conn.QueryAsync<(string Outcome, string Counts, string TriggerKind)>(
            "SELECT outcome, counts::text, trigger_kind FROM job_runs WHERE job_name = 'expire' AND scheduled_at = @scheduled",
            new { scheduled })).ToList();
        Assert.That(rows, Has.Count.EqualTo(1));
        Assert.That(rows[0].Outcome, Is.EqualTo("succeeded"));
        Assert.That(rows[0].Counts, Does.Contain("\"expirees\""));
    }

    [Test]
    public async Task Run_JobThrows_RecordsFailureWithErrorAndDoesNotThrow()
    {
        var runner = _app.Services.GetRequiredService<JobRunner>();
        var scheduled = DateTimeOffset.UtcNow;

        var outcome = await runner.RunAsync(new JobRunContext("panne", scheduled, "manual", "admin@example.org"), CancellationToken.None);

        Assert.That(outcome.Outcome, Is.EqualTo("failed"));
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var row = await conn.QuerySingleAsync<(string Outcome, string Error, string RequestedBy, int DurationMs)>(
            "SELECT outcome, error, requested_by, duration_ms FROM job_runs WHERE job_name = 'panne' ORDER BY id DESC LIMIT 1");
        Assert.That(row.Outcome, Is.EqualTo("failed"));
        Assert.That(row.Error, Does.Contain("SMTP injoignable"));
        Assert.That(row.RequestedBy, Is.EqualTo("admin@example.org"));
    }

    [Test]
    public async Task Purge_OldHistory_DeletesOldRunsAndSentEmailsKeepsRecentAndQueued()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        await conn.ExecuteAsync("""
            INSERT INTO job_runs (job_name, scheduled_at, trigger_kind, node, started_at, finished_at, duration_ms, outcome)
            VALUES ('expire', now() - interval '40 days' - random() * interval '1 hour', 'schedule', @old, now() - interval '40 days', now() - interval '40 days', 1, 'succeeded'),
                   ('expire', now() - interval '2 days' - random() * interval '1 hour', 'schedule', @recent, now() - interval '2 days', now() - interval '2 days', 1, 'succeeded')
            """, new { old = "old-" + tag, recent = "recent-" + tag });
        await conn.ExecuteAsync("""
            INSERT INTO outbox (message_id, category, to_address, subject, text_body, html_body, status, sent_at, created_at)
            VALUES ('<old-' || @tag || '@t>', 'verification', 'old-' || @tag || '@example.org', 's', 't', 'h', 'sent', now() - interval '40 days', now() - interval '40 days'),
                   ('<queued-' || @tag || '@t>', 'verification', 'queued-' || @tag || '@example.org', 's', 't', 'h', 'queued', NULL, now() - interval '40 days')
            """, new { tag });
        var runner = _app.Services.GetRequiredService<JobRunner>();

        var outcome = await runner.RunAsync(new JobRunContext(PurgeJob.Name, DateTimeOffset.UtcNow, "cli", null), CancellationToken.None);

        Assert.That(outcome.Outcome, Is.EqualTo("succeeded"));
        Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM job_runs WHERE node = @n", new { n = "old-" + tag }), Is.Zero);
        Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM job_runs WHERE node = @n", new { n = "recent-" + tag }), Is.EqualTo(1));
        Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM outbox WHERE message_id LIKE '%' || @tag || '%'", new { tag }),
            Is.EqualTo(1), "the queued email stays, the old sent one goes");
    }

    public sealed class FailingJob : IClusteredJob
    {
        public Task<IReadOnlyDictionary<string, int>> RunAsync(JobRunContext context, CancellationToken ct) =>
            throw new InvalidOperationException("SMTP injoignable (test)");
    }
}
