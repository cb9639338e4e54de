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

    // The newest runs of each job, each job on its own (one index descent per job on job_runs_job_started): the delivery
    // job, run whenever mail is queued, does not push the weekly digest off the page.
    private const string RecentRunsByJobSql = """
        SELECT r.id, r.job_name, r.scheduled_at, r.trigger_kind, r.requested_by, r.node, r.started_at, r.duration_ms,
               r.outcome, r.counts::text AS counts, r.error
        FROM unnest(@names) AS j(name)
        CROSS JOIN LATERAL (SELECT * FROM job_runs x WHERE x.job_name = j.name ORDER BY x.started_at DESC LIMIT @perJob) r
        ORDER BY r.job_name, r.started_at DESC
        """;

    /// <summary>The newest <paramref name="perJob"/> runs of each of the given jobs, newest first, by job name.</summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<JobRunRow>>> GetRecentRunsByJobAsync(IReadOnlyCollection<string> names,
        int perJob, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<JobRunRow>(new CommandDefinition(RecentRunsByJobSql,
            new { names = names.ToArray(), perJob }, cancellationToken: ct));
        return rows.GroupBy(r => r.JobName).ToDictionary(g => g.Key, g => (IReadOnlyList<JobRunRow>)g.ToList());
    }
}

/// <summary>The counters jobs return (<c>job_runs.counts</c> keys, ASCII) as admins read them.</summary>
public static class JobCountLabels
{
    private static readonly Dictionary<string, string> Labels = new(StringComparer.Ordinal)
    {
        ["envoyes"] = "envoyés",
        ["reportes"] = "reportés",
        ["echecs"] = "échecs",
        ["rendus"] = "rendus à la file",
        ["en_file"] = "mis en file",
        ["sans_contenu"] = "sans contenu",
        ["deja_servies"] = "déjà servies",
        ["groupes"] = "groupes",
        ["ms_offres"] = "ms de lecture des offres",
        ["ms_ecriture"] = "ms d'écriture",
        ["rappels"] = "rappels",
        ["adresses_effacees"] = "adresses effacées",
        ["expirees"] = "expirées",
        ["archivees"] = "archivées",
        ["relances"] = "relances",
        ["relances_sans_adresse"] = "relances sans adresse",
        ["executions_supprimees"] = "exécutions supprimées",
        ["courriels_supprimes"] = "courriels supprimés",
        ["correspondances_supprimees"] = "correspondances supprimées",
        ["corps_partages_supprimes"] = "corps partagés supprimés",
    };

    public static string Label(string key) => Labels.GetValueOrDefault(key) ?? key.Replace('_', ' ');

    /// <summary>"envoyés : 3, échecs : 0".</summary>
    public static string Describe(IReadOnlyDictionary<string, int> counts) =>
        string.Join(", ", counts.Select(c => $"{Label(c.Key)} : {c.Value.ToString("N0", Shared.ParisTime.French)}"));
}
