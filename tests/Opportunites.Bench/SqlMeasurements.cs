using Dapper;
using Npgsql;

namespace Opportunites.Bench;

/// <summary>Board hot-path statements and the expiry sweep, one client, timed over many runs, with their plans.</summary>
internal sealed class SqlMeasurements(NpgsqlDataSource db, Report report)
{
    private const string FirstPageSql = """
        SELECT id, kind, title, issuer_name, deadline_date, territory_codes
        FROM opportunities WHERE status = 'published' AND deadline_sort > now()
        ORDER BY deadline_sort, id LIMIT 21
        """;

    private const string KeysetPageSql = """
        SELECT id, kind, title, issuer_name, deadline_date, territory_codes
        FROM opportunities WHERE status = 'published' AND deadline_sort > now()
          AND (deadline_sort, id) > (@after::timestamptz, @afterId)
        ORDER BY deadline_sort, id LIMIT 21
        """;

    private const string CountOpenSql = "SELECT count(*) FROM opportunities WHERE status = 'published' AND deadline_sort > now()";

    private const string TerritoryPageSql = """
        SELECT id, kind, title, issuer_name, deadline_date, territory_codes
        FROM opportunities WHERE status = 'published' AND deadline_sort > now()
          AND territory_codes && (SELECT territory_match_set(@code))
        ORDER BY deadline_sort, id LIMIT 21
        """;

    private const string TerritoryCountSql = """
        SELECT count(*) FROM opportunities WHERE status = 'published' AND deadline_sort > now()
          AND territory_codes && (SELECT territory_match_set(@code))
        """;

    private const string SearchSql = """
        WITH q AS (SELECT websearch_to_tsquery('fr_unaccent', @q) AS q),
        m AS MATERIALIZED (
          SELECT o.id, ts_rank(o.search, q.q) AS rank
          FROM opportunities o, q
          WHERE o.status = 'published' AND o.deadline_sort > now() AND o.search @@ q.q)
        SELECT (SELECT count(*) FROM m) AS total, o.id, o.title
        FROM m JOIN opportunities o USING (id) ORDER BY m.rank DESC, o.id LIMIT 20
        """;

    private const string ExpirySql = """
        UPDATE opportunities SET status = 'expired', closed_at = closes_at, updated_at = now()
        WHERE status = 'published' AND closes_at <= now()
        """;

    public async Task RunAsync()
    {
        string[] territories = ["33", "R75", "40", "FR", "75", "13", "974"];
        string[] words = ["numérique", "insertion jeunes", "culture", "prevention delinquance", "logement", "sante mentale", "ecologique"];

        await using var conn = await db.OpenConnectionAsync();
        var after = await conn.QuerySingleAsync<(DateTime Sort, long Id)>(
            "SELECT deadline_sort, id FROM opportunities WHERE status = 'published' AND deadline_sort > now() ORDER BY deadline_sort, id OFFSET 980 LIMIT 1");

        await TimeAsync("liste ouverte, 1re page (20)", 300, _ => conn.QueryAsync(FirstPageSql));
        await TimeAsync("liste ouverte, page 50 (keyset)", 300, _ => conn.QueryAsync(KeysetPageSql, new { after = after.Sort, afterId = after.Id }));
        await TimeAsync("compte exact des ouvertes", 50, _ => conn.ExecuteScalarAsync<long>(CountOpenSql));
        await TimeAsync("territoire (deux sens), page", 300, i => conn.QueryAsync(TerritoryPageSql, new { code = territories[i % territories.Length] }));
        await TimeAsync("territoire (deux sens), compte", 100, i => conn.ExecuteScalarAsync<long>(TerritoryCountSql, new { code = territories[i % territories.Length] }));
        await TimeAsync("recherche texte, page + total", 100, i => conn.QueryAsync(SearchSql, new { q = words[i % words.Length] }));

        await PlanAsync(conn, "liste ouverte, 1re page", FirstPageSql, null);
        await PlanAsync(conn, "territoire Gironde, page", TerritoryPageSql, new { code = "33" });
        await PlanAsync(conn, "territoire Gironde, compte", TerritoryCountSql, new { code = "33" });
        await PlanAsync(conn, "recherche « numérique »", SearchSql, new { q = "numérique" });

        // Expiry: 1 % of open offers made overdue, swept, rolled back.
        await using (var tx = await conn.BeginTransactionAsync())
        {
            var overdue = await conn.ExecuteAsync("""
                UPDATE opportunities SET deadline_date = current_date - 1
                WHERE id IN (SELECT id FROM opportunities WHERE status = 'published' AND deadline_date IS NOT NULL AND id % 100 = 0)
                """, transaction: tx);
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            var expired = await conn.ExecuteAsync(ExpirySql, transaction: tx, commandTimeout: 0);
            var ms = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            report.Add("expiration (balayage)", $"{expired:N0} offres expirées sur {overdue:N0} échues", ms, "ms");
            await tx.RollbackAsync();
        }
    }

    private async Task TimeAsync(string name, int runs, Func<int, Task> action)
    {
        await action(0); // warm-up: plan cache and buffers
        var (p50, p99) = await Timing.MeasureAsync(runs, action);
        report.Add(name + " p50", $"{runs} exécutions, un client", p50, "ms");
        report.Add(name + " p99", "", p99, "ms");
    }

    private async Task PlanAsync(NpgsqlConnection conn, string title, string sql, object? args)
    {
        var lines = await conn.QueryAsync<string>("EXPLAIN (ANALYZE, BUFFERS) " + sql, args);
        report.Plan(title, string.Join('\n', lines));
    }
}
