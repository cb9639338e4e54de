using System.Text.Json;
using Dapper;
using Npgsql;

namespace Opportunites.Web.Jobs;

/// <summary>One row of job_runs as the admin page shows it.</summary>
public sealed class JobRunRow
{
    public long Id { get; init; }
    public string JobName { get; init; } = "";
    public DateTime ScheduledAt { get; init; }
    public string TriggerKind { get; init; } = "";
    public string? RequestedBy { get; init; }
    public string Node { get; init; } = "";
    public DateTime StartedAt { get; init; }
    public int? DurationMs { get; init; }
    public string Outcome { get; init; } = "";
    public string Counts { get; init; } = "{}";
    public string? Error { get; init; }

    public IReadOnlyDictionary<string, int> CountsByName =>
        JsonSerializer.Deserialize<Dictionary<string, int>>(Counts) ?? [];
}

public sealed class JobsQueries(NpgsqlDataSource db)
{
    // The latest run of each job: one index descent per job on job_runs_job_started.
    private const string LastRunsSql = """
        SELECT r.id, r.job_name, r.scheduled_at, r.trigger_kind, r.requested_by, r.node, r.started_at, r.duration_ms,
               r.outcome, r.counts::text AS counts, r.error
        FROM (SELECT DISTINCT job_name FROM job_runs) j
        CROSS JOIN LATERAL (SELECT * FROM job_runs x WHERE x.job_name = j.job_name ORDER BY x.started_at DESC LIMIT 1) r
        """;

    public async Task<IReadOnlyList<JobRunRow>> GetLastRunsAsync(CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<JobRunRow>(new CommandDefinition(LastRunsSql, cancellationToken: ct))).AsList();
    }

    private const string RecentRunsSql = """
        SELECT id, job_name, scheduled_at, trigger_kind, requested_by, node, started_at, duration_ms,
               outcome, counts::text AS counts, error
        FROM job_runs
        WHERE job_name = ANY (@names)
        ORDER BY started_at DESC
        LIMIT @limit
        """;

    /// <summary>The newest runs of the given jobs, newest first.</summary>
    public async Task<IReadOnlyList<JobRunRow>> GetRecentRunsAsync(IReadOnlyCollection<string> names, int limit, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<JobRunRow>(new CommandDefinition(RecentRunsSql,
            new { names = names.ToArray(), limit }, cancellationToken: ct))).AsList();
    }
}
