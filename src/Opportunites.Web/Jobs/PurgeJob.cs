using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Opportunites.Web.Board;

namespace Opportunites.Web.Jobs;

/// <summary>
/// Keeps the history tables small: delivery alone records a run every 10 seconds (8,640 a day). Deletes job runs and
/// sent emails older than Jobs:HistoryDays (failed emails stay until an admin retries or the same age passes), and the
/// board's territory match rows that expiry leaves behind (migration 0055), then the shared digest bodies no email uses
/// any more and the fragments no body lists.
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

    // Expiry keeps the match rows of the offers it closes (migration 0055): their deadline_sort is past, so no board
    // range reads them; deleted here once a day rather than inside each expiry run. A published offer whose deadline
    // passed is off the board too, and gets its rows again if its deadline moves (trigger of 0050).
    private const string PurgeClosedMatchesSql = """
        DELETE FROM opportunity_territory_matches WHERE deadline_sort <= now()
        """;

    /// <returns>How many match rows were deleted.</returns>
    /// <remarks>No list page reads these rows: not announced to the board's page caches (migration 0062).</remarks>
    public static async Task<int> PurgeClosedMatchesAsync(NpgsqlConnection conn, CancellationToken ct = default)
    {
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(BoardChanges.QuietSql, transaction: tx, cancellationToken: ct));
        var deleted = await conn.ExecuteAsync(new CommandDefinition(PurgeClosedMatchesSql, transaction: tx, commandTimeout: 0, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return deleted;
    }

    // Shared digest bodies no row points at any more (0063; one anti-join over outbox, once a day). Only old ones: a
    // digest run reuses a group's body committed by its previous batch, which may have had no row (all already queued).
    private const string PurgeBodiesSql = """
        DELETE FROM outbox_bodies b
        WHERE b.created_at < now() - make_interval(days => @days)
          AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.body_id = b.id)
        """;

    // Then the fragments no body lists any more (0107): one hash anti-join over the bodies' lists. A digest run writing
    // one again meanwhile makes it young (Outbox.InsertFragmentsSql), and this DELETE, finding the row changed, keeps it.
    private const string PurgeFragmentsSql = """
        DELETE FROM outbox_fragments f
        WHERE f.created_at < now() - make_interval(days => @days)
          AND NOT EXISTS (SELECT 1 FROM outbox_bodies b CROSS JOIN LATERAL unnest(b.fragments) AS u(id) WHERE u.id = f.id)
        """;

    public async Task<IReadOnlyDictionary<string, int>> RunAsync(JobRunContext context, CancellationToken ct)
    {
        var days = Math.Max(1, settings.Value.HistoryDays);
        await using var conn = await db.OpenConnectionAsync(ct);
        var runs = await conn.ExecuteAsync(new CommandDefinition(PurgeRunsSql, new { days }, cancellationToken: ct));
        var emails = await conn.ExecuteAsync(new CommandDefinition(PurgeOutboxSql, new { days }, cancellationToken: ct));
        var matches = await PurgeClosedMatchesAsync(conn, ct);
        var bodies = await conn.ExecuteAsync(new CommandDefinition(PurgeBodiesSql, new { days }, cancellationToken: ct));
        var fragments = await conn.ExecuteAsync(new CommandDefinition(PurgeFragmentsSql, new { days }, cancellationToken: ct));
        return new Dictionary<string, int>
        {
            ["executions_supprimees"] = runs,
            ["courriels_supprimes"] = emails,
            ["correspondances_supprimees"] = matches,
            ["corps_partages_supprimes"] = bodies,
            ["fragments_supprimes"] = fragments,
        };
    }
}
