using Dapper;
using Npgsql;
using Opportunites.Web.Board;
using Opportunites.Web.Territories;

namespace Opportunites.Bench;

/// <summary>
/// The board's own statements (built by the app's classes, see <see cref="PageViews"/>), one client: each statement of
/// a few typical URLs timed on its own, whole page views through BoardQueries.SearchAsync itself, plans of each (the
/// expiry job is measured by <see cref="ExpiryBench"/>).
/// </summary>
internal sealed class SqlMeasurements(NpgsqlDataSource db, Report report)
{
    // Typical page views: the list, browsing by territory and kind, deep pages, text searches broad and narrow, archive.
    public static readonly (string Label, string Url)[] Typical =
    [
        ("liste, 1re page", "/offres"),
        ("liste, page 3", "/offres?page=3"),
        ("Gironde (2 sens) + AAP", "/offres?territoire=33&type=aap"),
        ("Nouvelle-Aquitaine (2 sens)", "/offres?territoire=R75"),
        ("Ain + emploi, page 3", "/offres?territoire=01&type=emploi&page=3"),
        ("recherche 1 mot (large)", "/offres?q=numerique"),
        ("recherche 2 mots", "/offres?q=insertion+jeunes"),
        ("recherche + Gironde + AAP", "/offres?q=culture&territoire=33&type=aap"),
        ("archives, Gironde", "/offres?archives=1&territoire=33"),
        ("Bègles (commune) + AAP", "/offres?territoire=C33039&type=aap"),
        ("Bordeaux Métropole (EPCI)", "/offres?territoire=E243300316"),
        ("recherche + Bègles", "/offres?q=culture&territoire=C33039"),
    ];

    public async Task RunAsync(IReadOnlyList<Workload> mixes, int runs = 60)
    {
        var views = new PageViews(db);
        await using (var conn = await db.OpenConnectionAsync())
        {
            foreach (var (label, url) in Typical)
            {
                var view = await views.ForAsync(url);
                // The resolve statement (a primary-key lookup) is the first of a view with a territory; page and count follow.
                // A search known to pass the count cap: the app then runs a page alone, planned for a broad search.
                var page = view.CountCapped ? view.SteadyStatements[^1] : view.Statements[^2];
                var count = view.Statements[^1];
                await TimeAsync($"SQL {label} : page", url, runs, _ => conn.QueryAsync(page.Sql, page.Parameters));
                await TimeAsync($"SQL {label} : compte", url, runs, _ => conn.ExecuteScalarAsync<long>(count.Sql, count.Parameters));
                report.Plan($"{label} — page ({url})", await ExplainAsync(conn, page));
                report.Plan($"{label} — compte ({url})", await ExplainAsync(conn, count));
            }
        }

        // Whole page views as the app runs them (parse with its territory lookup, then page + count in one round trip).
        var parser = new BoardFilterParser(await TerritoryDirectory.LoadAsync(db), new ThemeCatalog(db));
        var board = new BoardQueries(db, TimeProvider.System);
        foreach (var (name, urls) in mixes.Select(w => (w.Name, w.Urls)))
        {
            var sample = urls.Take(200).ToList();
            await TimeAsync($"vue de page SQL, {name}", $"{sample.Count} URL du mélange, BoardQueries.SearchAsync", sample.Count, async i =>
            {
                var mark = sample[i].IndexOf('?', StringComparison.Ordinal);
                var parsed = await parser.ParseAsync(BoardQueryInput.Parse(mark < 0 ? "" : sample[i][mark..]));
                await board.SearchAsync(parsed.Filter);
            });
        }
    }

    private async Task TimeAsync(string name, string detail, int runs, Func<int, Task> action)
    {
        await action(0); // warm-up: plan cache and buffers
        var (p50, p99) = await Timing.MeasureAsync(runs, action);
        report.Add(name + " p50", $"{runs} exécutions, un client ; {detail}", p50, "ms");
        report.Add(name + " p99", "", p99, "ms");
    }

    private static async Task<string> ExplainAsync(NpgsqlConnection conn, Statement s)
    {
        var lines = await conn.QueryAsync<string>("EXPLAIN (ANALYZE, BUFFERS) " + s.Sql, s.Parameters);
        return string.Join('\n', lines);
    }
}
