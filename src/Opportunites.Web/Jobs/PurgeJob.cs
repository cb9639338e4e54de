using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Opportunites.Web.Jobs;

/// <summary>
/// Keeps the history tables small: delivery alone records a run every 10 seconds (8,640 a day). Deletes job runs and
/// sent emails older than Jobs:HistoryDays (failed emails stay until an admin retries or the same age passes).
/// </summary>
public sealed class PurgeJob(NpgsqlDataSource db, IOptions<JobsSettings> settings) : IClusteredJob
{
    public const string Name = "purge";

    // Once a day over at most a few weeks of rows: a sequential scan is fine, no index kept up for it.
    private const string PurgeRunsSql = """
        DELETE FROM job_runs WHERE started_at < now() - make_interval(days => @days) AND outcome <> 'running'
        """;

    private const string PurgeOutboxSql = """
        DELETE FROM outbox WHERE status IN ('sent', 'failed') AND created_at < now() - make_interval(days => @days)
        """;

    public async Task<IReadOnlyDictionary<string, int>> RunAsync(JobRunContext context, CancellationToken ct)
    {
        var days = Math.Max(1, settings.Value.HistoryDays);
        await using var conn = await db.OpenConnectionAsync(ct);
        var runs = await conn.ExecuteAsync(new CommandDefinition(PurgeRunsSql, new { days }, cancellationToken: ct));
        var emails = await conn.ExecuteAsync(new CommandDefinition(PurgeOutboxSql, new { days }, cancellationToken: ct));
        return new Dictionary<string, int> { ["executions_supprimees"] = runs, ["courriels_supprimes"] = emails };
    }
}
