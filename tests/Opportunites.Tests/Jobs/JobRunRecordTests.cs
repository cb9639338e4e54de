using Dapper;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Jobs;

namespace Opportunites.Tests.Jobs;

/// <summary>
/// A run that fails because PostgreSQL went away is still recorded once it is back: the app reaches its own database
/// through a TCP proxy that the job cuts, and restores 1.5 s later.
/// </summary>
public sealed class JobRunRecordTests
{
    private static TcpProxy s_proxy = null!;
    private PrivateDatabase _db = null!;
    private Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> _app = null!;

    [OneTimeSetUp]
    public async Task CreateAsync()
    {
        _db = await PrivateDatabase.CreateAsync("opportunites_jobrecord");
        var direct = new NpgsqlConnectionStringBuilder(_db.ConnectionString);
        s_proxy = new TcpProxy(direct.Host!, direct.Port);
        s_proxy.Start();
        var proxied = new NpgsqlConnectionStringBuilder(_db.ConnectionString) { Host = "127.0.0.1", Port = s_proxy.Port }.ConnectionString;
        _app = new AppFactory(proxied).WithWebHostBuilder(b => b.ConfigureTestServices(s =>
        {
            s.AddSingleton(new ClusteredJobDefinition(OutageJob.Name, typeof(OutageJob), "0 0 3 * * ?", "Coupure de la base",
                MisfirePolicy.DoNothing, false));
            s.AddScoped<OutageJob>();
        }));
    }

    [OneTimeTearDown]
    public async Task DropAsync()
    {
        await _app.DisposeAsync();
        await s_proxy.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Test]
    public async Task Run_DatabaseGoneWhenTheJobEnds_RecordedAsFailedOnceItIsBack()
    {
        var runner = _app.Services.GetRequiredService<JobRunner>();
        var scheduled = new DateTimeOffset(2032, 3, 4, 5, 6, 7, TimeSpan.Zero);

        var outcome = await runner.RunAsync(new JobRunContext(OutageJob.Name, scheduled, "cli", "tests"), CancellationToken.None);

        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var row = await conn.QuerySingleAsync<(string Outcome, DateTime? FinishedAt, string? Error)>(
            "SELECT outcome, finished_at, error FROM job_runs WHERE job_name = @name AND scheduled_at = @scheduled",
            new { name = OutageJob.Name, scheduled });
        Assert.That(outcome.Outcome, Is.EqualTo("failed"));
        Assert.That(row.Outcome, Is.EqualTo("failed"), "not left 'running'");
        Assert.That(row.FinishedAt, Is.Not.Null);
        Assert.That(row.Error, Is.Not.Empty);
    }

    /// <summary>Cuts the database, has it back in 1.5 s, and fails on a real connection error meanwhile.</summary>
    private sealed class OutageJob(NpgsqlDataSource db) : IClusteredJob
    {
        public const string Name = "coupure";

        public async Task<IReadOnlyDictionary<string, int>> RunAsync(JobRunContext context, CancellationToken ct)
        {
            s_proxy.Stop();
            _ = Task.Delay(1500, CancellationToken.None).ContinueWith(_ => s_proxy.Start(), TaskScheduler.Default);
            await using var conn = await db.OpenConnectionAsync(ct);
            await conn.ExecuteAsync("SELECT 1");
            return new Dictionary<string, int>();
        }
    }
}
