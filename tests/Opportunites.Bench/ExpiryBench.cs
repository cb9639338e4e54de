using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Opportunites.Web.Board;
using Opportunites.Web.Jobs;
using Opportunites.Web.Mail;
using Opportunites.Web.Shared;

namespace Opportunites.Bench;

/// <summary>What <see cref="ExpiryBench"/> measured.</summary>
/// <param name="Overdue">Offers made overdue for the mass run.</param>
/// <param name="Expired">What the mass run reported (expired + archived): at most the job's cap per run.</param>
/// <param name="CatchUp">The runs after it that bring the remaining statuses up to date (none hides an offer: the board
/// already does).</param>
/// <param name="MassMs">The mass run, wall clock around JobRunner.RunAsync (claim, the job's statements, record).</param>
/// <param name="VisibleOverdue">Overdue offers the board still listed before the run (must be 0).</param>
internal sealed record ExpiryFigures(
    int Overdue,
    int Expired,
    double MassMs,
    int MassJobMs,
    ExpirySettings Settings,
    SettleRuns CatchUp,
    int Initial,
    double[] IdleMs,
    double[] IdleAfterMassMs,
    int VisibleOverdue,
    double MarkSeconds,
    double RestoreSeconds,
    ScheduleCheck Schedule,
    IReadOnlyList<(string Title, string Plan)> Plans);

/// <summary>Consecutive expiry runs until one has nothing left to expire.</summary>
internal sealed record SettleRuns(int Runs, int Rows, double TotalMs, double MaxMs);

/// <summary>The expiry job's cron over a year of Paris days (both clock changes).</summary>
/// <param name="MaxGap">Longest time between two runs: how long an offer can stay 'published' after its deadline.</param>
/// <param name="MaxAfterMidnight">Longest wait, over the days, from 00:00 Paris to the first run.</param>
internal sealed record ScheduleCheck(string Cron, TimeSpan MaxGap, TimeSpan MaxAfterMidnight, int Days);

/// <summary>
/// The expiry job as it runs in the app (its own DI registrations, through <see cref="JobRunner"/> like a Hangfire run,
/// committed): a run with nothing to do, then a run with <c>overdue</c> offers past their deadline. The dataset is put
/// back afterwards: every published offer's state is kept in <c>bench_expiry_snapshot</c> (a table, so that a run
/// interrupted midway is repaired by the next one), restored, and the emails and job runs of the benchmark deleted.
/// </summary>
internal sealed class ExpiryBench(NpgsqlDataSource db)
{
    private const string RestoreSql = """
        UPDATE opportunities o
        SET deadline_date = s.deadline_date, deadline_time = s.deadline_time, status = s.status, closed_at = s.closed_at,
            updated_at = s.updated_at
        FROM bench_expiry_snapshot s
        WHERE o.id = s.id
          AND (o.deadline_date, o.deadline_time, o.status, o.closed_at, o.updated_at)
              IS DISTINCT FROM (s.deadline_date, s.deadline_time, s.status, s.closed_at, s.updated_at)
        """;

    private const string ForgetSql = """
        DELETE FROM outbox WHERE id > (SELECT max_outbox FROM bench_expiry_marks);
        DELETE FROM job_runs WHERE id > (SELECT max_job_run FROM bench_expiry_marks);
        DROP TABLE bench_expiry_snapshot;
        DROP TABLE bench_expiry_marks;
        """;

    private const string SnapshotSql = """
        CREATE TABLE bench_expiry_snapshot AS
        SELECT id, deadline_date, deadline_time, status, closed_at, updated_at FROM opportunities WHERE status = 'published';
        ALTER TABLE bench_expiry_snapshot ADD PRIMARY KEY (id);
        CREATE TABLE bench_expiry_marks AS
        SELECT (SELECT coalesce(max(id), 0) FROM outbox) AS max_outbox, (SELECT coalesce(max(id), 0) FROM job_runs) AS max_job_run;
        """;

    // Deadlines from yesterday to 20 days ago (Paris dates, no time: closing at 23:59:59 that day), the soonest first
    // among the offers chosen, so that the board's deadline order would list them first if it showed any.
    private const string MarkOverdueSql = """
        UPDATE opportunities o
        SET deadline_date = (now() AT TIME ZONE 'Europe/Paris')::date - 1 - (o.id % 20)::int, deadline_time = NULL
        WHERE o.id IN (SELECT id FROM bench_expiry_snapshot ORDER BY id LIMIT @count)
        """;

    public async Task<ExpiryFigures> RunAsync(int overdue = 100_000, int idleRuns = 20, bool explain = true)
    {
        await using var services = BuildServices(db);
        var runner = services.GetRequiredService<JobRunner>();
        var schedule = CheckSchedule(services);

        await RepairAsync();
        await using (var conn = await db.OpenConnectionAsync())
        {
            await conn.ExecuteAsync(SnapshotSql, commandTimeout: 0);
        }

        try
        {
            // Offers whose deadline passed since the dataset was made: what the first scheduled run would expire.
            var initial = await RunUntilSettledAsync(runner);
            var idle = await IdleRunsAsync(runner, idleRuns);

            var mark = Stopwatch.StartNew();
            int marked;
            await using (var conn = await db.OpenConnectionAsync())
            {
                marked = await WithoutRowTriggersAsync(conn, MarkOverdueSql, new { count = overdue });
                // Deadlines pass with time, not with an UPDATE: no dead rows of the marking for the job to step over.
                await conn.ExecuteAsync("VACUUM ANALYZE opportunities", commandTimeout: 0);
                await conn.ExecuteAsync("VACUUM ANALYZE opportunity_territory_matches", commandTimeout: 0);
            }

            mark.Stop();
            var visible = await VisibleOverdueAsync();

            var plans = new List<(string, string)>();
            if (explain)
            {
                plans.AddRange(await ExplainAsync(marked));
            }

            var mass = await RunJobAsync(runner);
            var rest = await RunUntilSettledAsync(runner);
            var idleAfter = await IdleRunsAsync(runner, idleRuns);
            var restore = Stopwatch.StartNew();
            await RestoreAsync();
            return new ExpiryFigures(marked, mass.Counts, mass.WallMs, mass.JobMs, services.GetRequiredService<IOptions<ExpirySettings>>().Value,
                rest, initial.Rows, idle, idleAfter, visible,
                mark.Elapsed.TotalSeconds, restore.Elapsed.TotalSeconds, schedule, plans);
        }
        catch
        {
            await RestoreAsync();
            throw;
        }
    }

    /// <summary>A previous run stopped before restoring: restore now.</summary>
    private async Task RepairAsync()
    {
        await using var conn = await db.OpenConnectionAsync();
        if (await conn.ExecuteScalarAsync<bool>("SELECT to_regclass('bench_expiry_snapshot') IS NOT NULL"))
        {
            Console.Error.WriteLine("Expiration : restauration d'un banc précédent interrompu…");
            await RestoreAsync();
        }
    }

    private async Task RestoreAsync()
    {
        await using var conn = await db.OpenConnectionAsync();
        await WithoutRowTriggersAsync(conn, RestoreSql, null);
        await using (var tx = await conn.BeginTransactionAsync())
        {
            await conn.ExecuteAsync(ForgetSql, transaction: tx, commandTimeout: 0);
            await tx.CommitAsync();
        }

        await PurgeJob.PurgeClosedMatchesAsync(conn);
        await conn.ExecuteAsync("VACUUM ANALYZE opportunities", commandTimeout: 0);
        await conn.ExecuteAsync("VACUUM ANALYZE opportunity_territory_matches", commandTimeout: 0);
    }

    // The match rows of the changed offers, recomputed once for all (the refresh function of migration 0050).
    private const string RefreshMatchesSql = """
        SELECT opportunity_territory_matches_refresh(ARRAY(SELECT id FROM bench_expiry_snapshot))
        """;

    /// <summary>
    /// Changes the deadlines of the benchmark's offers as the dataset loader writes rows: with the table's triggers off
    /// and the match table refreshed set-based after, in one transaction (the per-row trigger would take minutes for
    /// 100 k offers; this preparation is not what is measured).
    /// </summary>
    private static async Task<int> WithoutRowTriggersAsync(NpgsqlConnection conn, string sql, object? args)
    {
        await using var tx = await conn.BeginTransactionAsync();
        await conn.ExecuteAsync("ALTER TABLE opportunities DISABLE TRIGGER USER", transaction: tx);
        var changed = await conn.ExecuteAsync(sql, args, tx, commandTimeout: 0);
        await conn.ExecuteAsync(RefreshMatchesSql, transaction: tx, commandTimeout: 0);
        await conn.ExecuteAsync("ALTER TABLE opportunities ENABLE TRIGGER USER", transaction: tx);
        await tx.CommitAsync();
        return changed;
    }

    private static async Task<(int Counts, double WallMs, int JobMs)> RunJobAsync(JobRunner runner)
    {
        var start = Stopwatch.GetTimestamp();
        var outcome = await runner.RunAsync(new JobRunContext(ExpiryJob.Name, DateTimeOffset.UtcNow, "manual", "bench"), CancellationToken.None);
        var wall = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        if (outcome.Outcome != "succeeded")
        {
            throw new InvalidOperationException($"Tâche d'expiration : {outcome.Outcome} {outcome.Error}");
        }

        return (outcome.Counts.GetValueOrDefault("expirees") + outcome.Counts.GetValueOrDefault("archivees"), wall, outcome.DurationMs);
    }

    private static async Task<SettleRuns> RunUntilSettledAsync(JobRunner runner)
    {
        var (runs, rows, total, max) = (0, 0, 0.0, 0.0);
        while (true)
        {
            var (counts, wall, _) = await RunJobAsync(runner);
            if (counts == 0)
            {
                return new SettleRuns(runs, rows, total, max);
            }

            (runs, rows, total, max) = (runs + 1, rows + counts, total + wall, Math.Max(max, wall));
        }
    }

    private static async Task<double[]> IdleRunsAsync(JobRunner runner, int runs)
    {
        var samples = new double[runs];
        for (var i = 0; i < runs; i++)
        {
            var (counts, wall, _) = await RunJobAsync(runner);
            if (counts != 0)
            {
                throw new InvalidOperationException($"Tâche d'expiration sans rien à faire : {counts} offres changées");
            }

            samples[i] = wall;
        }

        Array.Sort(samples);
        return samples;
    }

    /// <summary>
    /// Overdue offers on the board's first page, through the app's own query (all offers, and France both ways, which
    /// goes through the territory match table): sorted by deadline, an overdue offer shown would be among the first.
    /// </summary>
    private async Task<int> VisibleOverdueAsync()
    {
        var board = new BoardQueries(db, TimeProvider.System);
        var territories = await Opportunites.Web.Territories.TerritoryDirectory.LoadAsync(db);
        var france = territories.Describe(territories.Get("FR")!);
        var visible = 0;
        foreach (var filter in new[] { new BoardFilter(), new BoardFilter { Territories = [france] } })
        {
            var page = await board.SearchAsync(filter);
            visible += page.Items.Count(i => i.ClosesAt is { } c && c <= DateTime.UtcNow);
        }

        return visible;
    }

    /// <summary>EXPLAIN (ANALYZE, BUFFERS) of the job's statements on the overdue offers, in a transaction rolled back.</summary>
    private async Task<List<(string, string)>> ExplainAsync(int marked)
    {
        var plans = new List<(string, string)>();
        var now = DateTimeOffset.UtcNow;
        var settings = new ExpirySettings();
        await using (var conn = await db.OpenConnectionAsync())
        {
            await using var tx = await conn.BeginTransactionAsync();
            // As the job runs them (JIT and parallel workers off).
            await conn.ExecuteAsync(ExpiryJob.PlannerSettingsSql, transaction: tx);
            foreach (var (title, sql, args) in new (string, string, object)[]
                     {
                         ($"expiration de {marked:N0} offres échues, un lot de {settings.ExpireBatchSize:N0}", ExpiryJob.ExpireSql,
                             new { now, limit = settings.ExpireBatchSize }),
                         ("relances à envoyer", ExpiryJob.RenewalDueSql,
                             new { now, months = settings.NoDeadlineMaxAgeMonths, days = settings.RenewalNoticeDays }),
                         ("archivage des offres sans date limite", ExpiryJob.ArchiveSql, new { now, months = settings.NoDeadlineMaxAgeMonths }),
                         ("expiration, plus rien à faire", ExpiryJob.ExpireSql, new { now, limit = settings.ExpireBatchSize }),
                     })
            {
                var lines = await conn.QueryAsync<string>("EXPLAIN (ANALYZE, BUFFERS) " + sql, args, tx, commandTimeout: 0);
                plans.Add((title, string.Join('\n', lines)));
            }

            await tx.RollbackAsync();
        }

        // The rolled-back rows are dead: clear them so that the timed run meets the table as time would leave it.
        await using (var conn = await db.OpenConnectionAsync())
        {
            await conn.ExecuteAsync("VACUUM opportunities", commandTimeout: 0);
            await conn.ExecuteAsync("VACUUM opportunity_territory_matches", commandTimeout: 0);
        }

        return plans;
    }

    /// <summary>The services the app registers for its jobs (AddJobs, AddExpiry), on the benchmark's data source.</summary>
    public static ServiceProvider BuildServices(NpgsqlDataSource db)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddEnvironmentVariables();
        builder.Services.AddSingleton(db);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        builder.Services.AddOptions<SiteSettings>();
        builder.Services.AddSingleton<SiteLinks>();
        builder.AddJobs();
        builder.AddExpiry();
        return builder.Services.BuildServiceProvider();
    }

    /// <summary>The expiry job's schedule as the app registers it (default cron or Jobs:Schedules:expire).</summary>
    public static ScheduleCheck CheckSchedule(IServiceProvider services, int days = 366)
    {
        var job = services.GetRequiredService<JobsRegistry>().Find(ExpiryJob.Name)
                  ?? throw new InvalidOperationException("La tâche d'expiration n'est pas enregistrée.");
        var cron = services.GetRequiredService<IOptions<JobsSettings>>().Value.CronFor(job);
        return CheckSchedule(cron, days);
    }

    /// <summary>Fire times of <paramref name="cron"/> in Europe/Paris over <paramref name="days"/> days from 1 January 2027.</summary>
    public static ScheduleCheck CheckSchedule(string cron, int days = 366)
    {
        var firstDay = new DateTime(2027, 1, 1);
        var maxGap = TimeSpan.Zero;
        var maxAfterMidnight = TimeSpan.Zero;
        for (var d = 0; d < days; d++)
        {
            var local = firstDay.AddDays(d);
            var midnight = new DateTimeOffset(local, ParisTime.Zone.GetUtcOffset(local));
            // The first fire at or after 00:00:00 (an offer due the day before closed at 23:59:59).
            var first = JobSchedules.NextAfter(cron, midnight.AddTicks(-1))
                        ?? throw new InvalidOperationException($"Aucune exécution après le {local:yyyy-MM-dd}");
            maxAfterMidnight = Max(maxAfterMidnight, first - midnight);
            var dayEnd = midnight.AddDays(1);
            for (var t = first; t < dayEnd;)
            {
                var next = JobSchedules.NextAfter(cron, t) ?? throw new InvalidOperationException("Planification finie");
                maxGap = Max(maxGap, next - t);
                t = next;
            }
        }

        return new ScheduleCheck(cron, maxGap, maxAfterMidnight, days);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
