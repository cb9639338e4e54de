using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Board;

/// <summary>One row of the public list (a class: Dapper maps text[] columns to properties, not to record constructors).</summary>
public sealed class OpportunityListItem
{
    public long Id { get; init; }
    public string Kind { get; init; } = "";
    public string Title { get; init; } = "";
    public long IssuerId { get; init; }
    public string IssuerName { get; init; } = "";
    public string Status { get; init; } = "";
    public DateOnly? DeadlineDate { get; init; }
    public TimeOnly? DeadlineTime { get; init; }
    public DateTime? ClosesAt { get; init; }
    public DateTime? PublishedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
    public DateTime? ClosedAt { get; init; }
    public string? Url { get; init; }
    public string? ContractType { get; init; }

    /// <summary>Only filled for feeds and exports.</summary>
    public string Description { get; init; } = "";

    /// <summary>Territory codes and names, in the same order (larger territories first).</summary>
    public string[] TerritoryCodes { get; internal set; } = [];
    public string[] TerritoryNames { get; internal set; } = [];

    /// <summary>The same territories as clients read them: "Bègles (33)", "Gironde (33)" (feeds, export, API).</summary>
    public string[] TerritoryLabels { get; internal set; } = [];

    /// <summary>A job's place of work (a commune), and its label.</summary>
    public string? WorkTerritoryCode { get; init; }
    public string? WorkTerritoryLabel { get; internal set; }

    public string Slug => Slugs.From(Title);
    public string Path => $"/offres/{Id}-{Slug}";
}

/// <summary>One page of results with what the pagination links need.</summary>
/// <param name="TotalCapped">True when more offers match than <see cref="BoardQueries.CountCap"/>: Total is then that
/// cap, a lower bound ("plus de 1 000 offres").</param>
public sealed record BoardPage(IReadOnlyList<OpportunityListItem> Items, long Total, bool HasPrevious, bool HasNext, bool TotalCapped = false)
{
    public long? FirstId => Items.Count > 0 ? Items[0].Id : null;
    public long? LastId => Items.Count > 0 ? Items[^1].Id : null;
}

public sealed partial class BoardQueries(NpgsqlDataSource db, TimeProvider clock)
{
    /// <summary>
    /// Counts stop here: past 1,000 offers (50 pages) the board says "plus de 1 000" instead of counting every match.
    /// An exact count of a broad search read every matching row on every request (123 ms for one common word, 560 ms
    /// for the archive of a département at national scale, docs/benchmarks.md); a capped one reads at most 1,001.
    /// </summary>
    public const int CountCap = 1000;

    // How long "more than the cap" is remembered for a search. Only that fact is cached: it changes rarely (a search
    // must fall under 1,000 matches), while exact small counts, cheap by construction, stay exact on every request.
    private static readonly TimeSpan CappedCountLifetime = TimeSpan.FromMinutes(5);

    private readonly CappedCounts _capped = new(clock);

    // Open = published and not past its closing instant; served by opportunities_open_deadline.
    private const string OpenSql = """
        SELECT o.id, o.kind, o.title, o.issuer_name, o.deadline_date, o.closes_at,
               ARRAY(SELECT t.name FROM territories t WHERE t.code = ANY (o.territory_codes) ORDER BY t.name) AS territory_names
        FROM opportunities o
        WHERE o.status = 'published' AND o.deadline_sort > now()
        ORDER BY o.deadline_sort, o.id
        LIMIT @limit
        """;

    public async Task<IReadOnlyList<OpportunityListItem>> GetOpenAsync(int limit, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<OpportunityListItem>(new CommandDefinition(OpenSql, new { limit }, cancellationToken: ct));
        return rows.AsList();
    }

    // The columns of a list row. Territory names and their order come from the territories kept in memory
    // (TerritoryNames): two subqueries per row over the territories table were 90 % of a page statement's time.
    private const string ColumnsSql = """
        o.id, o.kind, o.title, o.issuer_id, o.issuer_name, o.status, o.deadline_date, o.deadline_time, o.closes_at,
        o.published_at, o.updated_at, o.closed_at, o.url, o.contract_type, o.territory_codes, o.work_territory_code
        """;

    private TerritoryOrder? _territories;

    /// <summary>Sorts each row's territory codes (larger first, then by name) and fills their names.</summary>
    private async Task NameTerritoriesAsync(NpgsqlConnection conn, List<OpportunityListItem> rows, CancellationToken ct)
    {
        // Fixed data (migrations only): read once per process.
        var territories = _territories ??= await TerritoryOrder.LoadAsync(conn, await TerritoryTree.LoadAsync(db), ct);
        foreach (var row in rows)
        {
            (row.TerritoryCodes, row.TerritoryNames) = territories.Sort(row.TerritoryCodes);
            row.TerritoryLabels = [.. row.TerritoryCodes.Select(c => territories.Label(c)!)];
            row.WorkTerritoryLabel = territories.Label(row.WorkTerritoryCode);
        }
    }

    // Open offers: the partial indexes (WHERE status = 'published') lead with deadline_sort or kind.
    private const string OpenWhereSql = "o.status = 'published' AND o.deadline_sort > now()";

    // Open text search: the same rule, with the deadline test hidden from the planner's index choice. Given
    // "deadline_sort > now()" it ANDs the deadline index with the full GIN of 0001, whose postings include every
    // archived offer (76 k entries read for 13 k open matches at 20 k open / 100 k archived, 10× at national scale);
    // without it, the partial GIN opportunities_open_search_scope (0082: words, territory scope, kind) is the only
    // text index that fits, and the deadline is checked on the matching rows. An offer past its deadline never shows.
    private const string OpenTextWhereSql = "o.status = 'published' AND (o.deadline_sort > now()) IS TRUE";

    // Archive: what was once public; served by the indexes of 0010_board_archive_indexes.
    private const string ArchiveWhereSql = "o.status IN ('published', 'closed', 'expired') AND o.published_at IS NOT NULL";

    private const string TextQuerySql = "websearch_to_tsquery('fr_unaccent', @q)";

    [GeneratedRegex(@"(?<=[\p{L}\p{N}])-(?=[\p{L}\p{N}])")]
    private static partial Regex CompoundHyphen();

    /// <summary>
    /// "tiers-lieux" is searched as "tiers lieux": both words, anywhere. PostgreSQL reads a hyphenated word as a phrase
    /// ('tiers-lieux' &lt;-&gt; 'tier' &lt;-&gt; 'lieux'), which the text index cannot check: every offer with the three
    /// lexemes was read again to compare positions, and the planner, expecting few, sorted them all (116 ms for a page
    /// against 14 ms, issue 8 benchmark). French names and terms are full of hyphens (Île-de-France, sans-abri); the
    /// offers that have them also have each word. A leading "-" (websearch "not") is kept: it follows no letter.
    /// </summary>
    internal static string SplitCompounds(string query) => CompoundHyphen().Replace(query, " ");

    // Open offers of a territory come through the match table (0050, keys of 0082): pages and counts read short btree
    // ranges of (key, kind, deadline) instead of every open offer overlapping the territory. One key (France, or a
    // territory without its wider offers) is one range. More (a commune and the '=' keys of its EPCI, département,
    // région and France) are read each as a one-key search would be, in the page's order and no further than the
    // rows the page needs; the page is the first rows of their union (an offer holding two of the keys, {Bègles,
    // France} for Gironde, comes from two ranges and is kept once): the first rows of a union lie among the first rows
    // of each part. Merging whole ranges with an anti-join each was planned as hashes over every row and a sort,
    // ~30 ms a page at commune scale (docs/benchmarks.md). Not with words: probing each offer of the range for them
    // cost 9,000 probes for a count in Gironde; the GIN of 0082 intersects words, scope and kind in the index. The
    // archive overlaps the scope in a GIN too.
    private const string MatchJoinSql = "opportunities o JOIN opportunity_territory_matches m ON m.opportunity_id = o.id";

    private static string[] Keys(BoardFilter f) => ScopeKeys.All(MatchKeys(f));

    private static bool SeveralRanges(BoardFilter f, bool broad = false) => UsesMatches(f, broad) && Keys(f).Length > 1;

    // Territory, kind and deadline are all in the match table: only other filters (and other orders) need the offers.
    private static bool MatchesAlone(BoardFilter f) => f.Themes.Count == 0 && f.IssuerId is null
        && f.ClosingWithinDays is null && f.DeadlineBy is null && f.Query is null;

    /// <summary>
    /// "(SELECT columns FROM … WHERE m.territory_code = @key0 AND … LIMIT n) UNION ALL (… @key1 …)": each key's range
    /// under the search's conditions, in <paramref name="order"/> when given, at most <paramref name="limit"/> rows.
    /// </summary>
    private static string RangesSql(BoardFilter f, string columns, string from, string where, string? order, string limit)
    {
        var sql = new StringBuilder();
        for (var i = 0; i < Keys(f).Length; i++)
        {
            sql.Append(i == 0 ? "(" : " UNION ALL (").Append("SELECT ").Append(columns).Append(" FROM ").Append(from)
                .Append(" WHERE m.territory_code = @key").Append(Literal(i)).Append(" AND ").Append(where);
            if (order is not null)
            {
                sql.Append(" ORDER BY ").Append(order);
            }

            sql.Append(" LIMIT ").Append(limit).Append(')');
        }

        return sql.ToString();
    }

    private static void AddKeyParameters(BoardFilter f, DynamicParameters p)
    {
        var keys = Keys(f);
        if (keys.Length == 1)
        {
            p.Add("territory", keys[0]);
            return;
        }

        for (var i = 0; i < keys.Length; i++)
        {
            p.Add("key" + Literal(i), keys[i]);
        }
    }

    /// <summary>The scope keys of the search's territory (<see cref="ScopeKeys"/>).</summary>
    internal static (string[] Local, string[] Wider) MatchKeys(BoardFilter f) =>
        f.Territories.Count > 0 ? ScopeKeys.For([.. f.Territories.Select(t => t.Lineage.Length > 0 ? t.Lineage : [t.Code])], f.IncludeWider) : ([], []);

    // With words, the match rows still give the best page when the words are common (known from a capped count):
    // walking the territory's range in deadline order finds 21 offers with them after a few dozen probes, where the
    // GIN would fetch and sort every one of the thousand-plus offers matching both.
    // Several territories are several ranges, an offer matching two of them kept once (RangesSql).
    private static bool UsesMatches(BoardFilter f, bool broad = false) =>
        !f.IncludeClosed && f.Territories.Count > 0 && (f.Query is null || broad);

    private static string FromSql(BoardFilter f, bool broad = false) => UsesMatches(f, broad) ? MatchJoinSql : "opportunities o";

    // In a fixed order, so that "type=ami&type=aap" and "type=aap&type=ami" share one statement text (and one prepared
    // statement: Npgsql prepares at most Max Auto Prepare texts per connection).
    private static string KindListSql(BoardFilter f) =>
        string.Join(", ", f.Kinds.Where(Kinds.IsValid).Order(StringComparer.Ordinal).Select(k => $"'{k}'"));

    /// <summary>
    /// The WHERE clause of a search (without pagination). Every value is a parameter; kinds are written as literals
    /// from the whitelist so that a prepared plan still matches the (kind, deadline_sort) index.
    /// </summary>
    internal static (string Where, DynamicParameters Parameters) BuildWhere(BoardFilter f, bool broad = false)
    {
        var sql = new StringBuilder();
        var p = new DynamicParameters();
        if (UsesMatches(f, broad))
        {
            // The match table holds the published offers with their kind and deadline (triggers of 0050/0055, same
            // transaction), plus, until the daily purge, those that expired after their deadline, which
            // m.deadline_sort > now() excludes: the offer's own status, kind and deadline conditions would be redundant, and repeating them
            // makes the planner multiply correlated selectivities (19 rows expected for 906) and sort instead of
            // reading the (territory, kind, deadline) index in order.
            // Several keys: RangesSql writes each range's key before these conditions.
            sql.Append(Keys(f).Length == 1 ? "m.territory_code = @territory AND " : "")
                .Append("m.deadline_sort > now()");
            if (f.Kinds.Count > 0)
            {
                sql.Append(" AND m.kind IN (").Append(KindListSql(f)).Append(')');
            }

            AddKeyParameters(f, p);
        }
        else
        {
            sql.Append(f.IncludeClosed ? ArchiveWhereSql : f.Query is not null ? OpenTextWhereSql : OpenWhereSql);
            if (f.Kinds.Count > 0)
            {
                sql.Append(" AND o.kind IN (").Append(KindListSql(f)).Append(')');
            }
        }

        if (!UsesMatches(f, broad) && f.Territories.Count > 0)
        {
            // Both ways, through the GIN on the scope of 0082: the territory's key and its ancestors' '=' keys.
            sql.Append(" AND o.territory_scope && @scopeKeys");
            p.Add("scopeKeys", Keys(f));
        }

        if (f.Sort == BoardSort.Relevance && f.Territories.Count > 0 && f.IncludeWider)
        {
            // Local offers first (Ordering): those whose scope holds one of the searched territories.
            p.Add("localKeys", MatchKeys(f).Local);
        }

        if (f.Themes.Count > 0)
        {
            sql.Append(" AND EXISTS (SELECT 1 FROM opportunity_themes ot WHERE ot.opportunity_id = o.id AND ot.theme_code = ANY (@themes))");
            p.Add("themes", f.Themes.ToArray());
        }

        if (f.IssuerId is { } issuerId)
        {
            sql.Append(" AND o.issuer_id = @issuerId");
            p.Add("issuerId", issuerId);
        }

        if (f.ClosingWithinDays is { } days)
        {
            sql.Append(" AND o.deadline_sort > now() AND o.deadline_sort <= now() + make_interval(days => @closingDays)");
            p.Add("closingDays", days);
        }

        if (f.DeadlineBy is { } by)
        {
            // The end of that day in Paris, compared on deadline_sort so the (deadline_sort, id) index still serves it.
            sql.Append(" AND o.deadline_sort < ((@deadlineBy::date + 1)::timestamp AT TIME ZONE 'Europe/Paris')");
            p.Add("deadlineBy", by);
        }

        if (f.Query is { } q)
        {
            sql.Append(" AND o.search @@ ").Append(TextQuerySql);
            p.Add("q", SplitCompounds(q));
        }

        return (sql.ToString(), p);
    }

    // The cursor row's sort key as scalar subqueries: a row comparison against constants becomes an index condition
    // on (deadline_sort, id); against a joined row it would be a filter over the whole range.
    private const string CursorDeadlineSql = "(SELECT c.deadline_sort FROM opportunities c WHERE c.id = @cursor)";
    private const string CursorPublishedSql = "(SELECT c.published_at FROM opportunities c WHERE c.id = @cursor)";
    private const string CursorLocalSql = "(SELECT NOT (c.territory_scope && @localKeys) FROM opportunities c WHERE c.id = @cursor)";
    private const string CursorRankSql = $"(SELECT -ts_rank(c.search, {TextQuerySql}) FROM opportunities c WHERE c.id = @cursor)";

    /// <summary>ORDER BY and the keyset condition after (or before) the cursor row.</summary>
    /// <param name="matched">Deadline order on the match table's columns (equal to the offer's), so that its index
    /// gives the order and the keyset is an index condition.</param>
    /// <param name="localFirst">Relevance with wider offers: the territory's own (and its contents') come first.</param>
    private static (string Order, string Keyset) Ordering(BoardSort sort, bool backwards, bool matched = false, bool localFirst = false)
    {
        var (asc, desc, gt) = backwards ? ("DESC", "ASC", "<") : ("ASC", "DESC", ">");
        return sort switch
        {
            BoardSort.Relevance when localFirst => (
                $"(o.territory_scope && @localKeys) {desc}, ts_rank(o.search, {TextQuerySql}) {desc}, o.deadline_sort {asc}, o.id {asc}",
                $"(NOT (o.territory_scope && @localKeys), -ts_rank(o.search, {TextQuerySql}), o.deadline_sort, o.id) {gt} ({CursorLocalSql}, {CursorRankSql}, {CursorDeadlineSql}, @cursor)"),
            BoardSort.Newest => (
                $"o.published_at {desc}, o.id {desc}",
                $"(o.published_at, o.id) {(backwards ? ">" : "<")} ({CursorPublishedSql}, @cursor)"),
            BoardSort.Relevance => (
                $"ts_rank(o.search, {TextQuerySql}) {desc}, o.deadline_sort {asc}, o.id {asc}",
                $"(-ts_rank(o.search, {TextQuerySql}), o.deadline_sort, o.id) {gt} ({CursorRankSql}, {CursorDeadlineSql}, @cursor)"),
            _ when matched => (
                $"m.deadline_sort {asc}, m.opportunity_id {asc}",
                $"(m.deadline_sort, m.opportunity_id) {gt} ({CursorDeadlineSql}, @cursor)"),
            _ => (
                $"o.deadline_sort {asc}, o.id {asc}",
                $"(o.deadline_sort, o.id) {gt} ({CursorDeadlineSql}, @cursor)"),
        };
    }

    private static bool LocalFirst(BoardFilter f) => f.Sort == BoardSort.Relevance && f.Territories.Count > 0 && f.IncludeWider;

    /// <summary>The statement of one page (pageSize + 1 rows, to know whether another page follows).</summary>
    /// <param name="broad">The search is known to match more than <see cref="CountCap"/> offers.</param>
    internal static (string Sql, DynamicParameters Parameters) BuildPageQuery(BoardFilter f, int pageSize, bool broad = false) =>
        BuildRowsQuery(f, ColumnsSql, pageSize, pageSize + 1, broad);

    /// <summary>The first <paramref name="rows"/> rows of a search after its cursor or page, with <paramref name="columns"/>.</summary>
    private static (string Sql, DynamicParameters Parameters) BuildRowsQuery(BoardFilter f, string columns, int pageSize, int rows, bool broad)
    {
        var (where, p) = BuildWhere(f, broad);
        var backwards = f.Before is not null;
        var cursor = f.After ?? f.Before;
        var matched = UsesMatches(f, broad);
        var (order, keyset) = Ordering(f.Sort, backwards, matched, LocalFirst(f));
        if (cursor is not null)
        {
            // An unknown cursor id makes the subqueries NULL: an empty page, never an error.
            where += " AND " + keyset;
            p.Add("cursor", cursor.Value);
        }

        // The row limits are the app's own numbers, written as literals (never text from the request). As parameters,
        // a statement with no other one (national lists) was planned again at every execution, 0.4 ms, more than
        // running it (pg_stat_statements with track_planning, board benchmark without the page cache): a generic plan
        // assumes LIMIT keeps a tenth of the rows. Now planned once per connection. Statements with a territory still
        // are, PostgreSQL preferring a plan for each code (docs/benchmarks.md).
        var limit = " LIMIT " + Literal(rows);
        var offset = "";
        if (cursor is null && f.Page > 1)
        {
            offset = " OFFSET @offset";
            p.Add("offset", (long)(f.Page - 1) * pageSize);
        }

        var sql = new StringBuilder("SELECT ").Append(columns);
        if (SeveralRanges(f, broad))
        {
            // Each range in the page's order up to the rows the page needs (offset included); then the page of their
            // union, and only its rows are read from the offers.
            var rangeLimit = offset.Length == 0 ? Literal(rows) : $"({Literal(rows)} + @offset)";
            if (f.Sort == BoardSort.Deadline)
            {
                var from = MatchesAlone(f) ? "opportunity_territory_matches m" : MatchJoinSql;
                return (sql.Append(" FROM opportunities o JOIN (SELECT DISTINCT m.opportunity_id, m.deadline_sort FROM (")
                    .Append(RangesSql(f, "m.opportunity_id, m.deadline_sort", from, where, order, rangeLimit))
                    .Append(") m ORDER BY ").Append(order).Append(limit).Append(offset)
                    .Append(") m ON m.opportunity_id = o.id ORDER BY ").Append(order).ToString(), p);
            }

            var (outerOrder, _) = Ordering(f.Sort, backwards, matched: false, LocalFirst(f));
            sql.Append(" FROM opportunities o WHERE o.id IN (").Append(RangesSql(f, "m.opportunity_id", MatchJoinSql, where, order, rangeLimit))
                .Append(") ORDER BY ").Append(outerOrder);
        }
        else
        {
            sql.Append(" FROM ").Append(FromSql(f, broad)).Append(" WHERE ").Append(where).Append(" ORDER BY ").Append(order);
        }

        return (sql.Append(limit).Append(offset).ToString(), p);
    }

    /// <summary>
    /// The batch <see cref="SearchAsync"/> sends in one round trip: the page statement, then the count statement,
    /// separated by ";\n", with their parameters. Its own method so that the benchmark (tests/Opportunites.Bench) times,
    /// EXPLAINs and replays in pgbench exactly what the board runs, instead of a copy that could drift.
    /// </summary>
    internal static (string Sql, DynamicParameters Parameters) BuildSearchBatch(BoardFilter f, int pageSize = BoardFilter.PageSize)
    {
        var (pageSql, p) = BuildPageQuery(f, pageSize);
        return (pageSql + ";\n" + CountSql(f), p);
    }

    /// <summary>
    /// The count of a search, up to <see cref="CountCap"/> + 1 rows. Territory (and kind) alone: index-only ranges of
    /// the match table, which holds published offers only; any other filter needs the offers' columns, through the
    /// same join as the page. Several keys: at most CountCap + 1 rows of each range, counted once each; when one range
    /// is cut there, it alone passes the cap.
    /// </summary>
    private static string CountSql(BoardFilter f)
    {
        var cap = Literal(CountCap + 1);
        var where = BuildWhere(f).Where;
        var from = UsesMatches(f) && MatchesAlone(f) ? "opportunity_territory_matches m" : FromSql(f);
        return SeveralRanges(f)
            ? $"SELECT count(DISTINCT r.opportunity_id) FROM ({RangesSql(f, "m.opportunity_id", from, where, order: null, cap)}) r"
            : $"SELECT count(*) FROM (SELECT 1 FROM {from} WHERE {where} LIMIT {cap}) c";
    }

    /// <summary>
    /// One page of a search and the total count (capped at <see cref="CountCap"/>), in one round trip. Pagination is
    /// keyset on the sort key when a cursor (after / before an id) is given, so offers published meanwhile never shift
    /// or repeat rows; otherwise the page number is an offset (bookmarks, API clients).
    /// </summary>
    public async Task<BoardPage> SearchAsync(BoardFilter f, int pageSize = BoardFilter.PageSize, CancellationToken ct = default)
    {
        var backwards = f.Before is not null;
        var cursor = f.After ?? f.Before;
        var countKey = CountKey(f);
        var capped = _capped.Contains(countKey);

        List<OpportunityListItem> rows;
        long total;
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            if (capped)
            {
                // Known to match more than the cap a moment ago: the page alone.
                var (pageSql, pageParameters) = BuildPageQuery(f, pageSize, broad: true);
                rows = (await conn.QueryAsync<OpportunityListItem>(new CommandDefinition(pageSql, pageParameters, cancellationToken: ct))).AsList();
                total = CountCap;
            }
            else
            {
                var (sql, p) = BuildSearchBatch(f, pageSize);
                await using var multi = await conn.QueryMultipleAsync(new CommandDefinition(sql, p, cancellationToken: ct));
                rows = (await multi.ReadAsync<OpportunityListItem>()).AsList();
                total = await multi.ReadSingleAsync<long>();
                if (total > CountCap)
                {
                    capped = true;
                    total = CountCap;
                    _capped.Remember(countKey, CappedCountLifetime);
                }
            }

            await NameTerritoriesAsync(conn, rows, ct);
        }

        var more = rows.Count > pageSize;
        if (more)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        if (backwards)
        {
            rows.Reverse();
            return new BoardPage(rows, total, HasPrevious: more, HasNext: true, capped);
        }

        return new BoardPage(rows, total, HasPrevious: cursor is not null || f.Page > 1, HasNext: more, capped);
    }

    private static string Literal(int n) => n.ToString(CultureInfo.InvariantCulture);

    // The same search whatever the page, cursor or order: they do not change the count.
    private static string CountKey(BoardFilter f) =>
        (f with { Page = 1, After = null, Before = null, Sort = BoardSort.Deadline }).ToQueryString();

    /// <summary>Rows for feeds and exports: the same search, first <paramref name="limit"/> rows, with descriptions.</summary>
    public async Task<IReadOnlyList<OpportunityListItem>> GetForExportAsync(BoardFilter f, int limit, CancellationToken ct = default)
    {
        var (sql, p) = BuildRowsQuery(f with { Page = 1, After = null, Before = null }, ColumnsSql + ", o.description", limit, limit, broad: false);
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = (await conn.QueryAsync<OpportunityListItem>(new CommandDefinition(sql, p, cancellationToken: ct))).AsList();
        await NameTerritoriesAsync(conn, rows, ct);
        return rows;
    }

    private const string IssuerNameSql = "SELECT name FROM issuers WHERE id = @id";

    /// <summary>The issuer's name, to show the issuer filter in words; null when unknown.</summary>
    public async Task<string?> GetIssuerNameAsync(long id, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<string>(new CommandDefinition(IssuerNameSql, new { id }, cancellationToken: ct));
    }

    // Public = published once; drafts and pending offers stay private (404).
    private const string DetailSql = """
        SELECT o.id, o.kind, o.title, o.issuer_id, o.issuer_name, i.type AS issuer_type, o.description, o.url, o.contact,
               o.deadline_date, o.deadline_time, o.closes_at, o.status, o.contract_type, o.beneficiaries, o.amount_eur,
               o.published_at, o.updated_at, o.closed_at, o.work_territory_code,
               ARRAY(SELECT t.code FROM territories t WHERE t.code = ANY (o.territory_codes)
                     ORDER BY array_length(t.lineage, 1), t.search_name) AS territory_codes,
               ARRAY(SELECT t.name FROM territories t WHERE t.code = ANY (o.territory_codes)
                     ORDER BY array_length(t.lineage, 1), t.search_name) AS territory_names,
               ARRAY(SELECT th.code FROM opportunity_themes ot JOIN themes th ON th.code = ot.theme_code
                     WHERE ot.opportunity_id = o.id ORDER BY th.label) AS theme_codes,
               ARRAY(SELECT th.label FROM opportunity_themes ot JOIN themes th ON th.code = ot.theme_code
                     WHERE ot.opportunity_id = o.id ORDER BY th.label) AS theme_labels
        FROM opportunities o
        JOIN issuers i ON i.id = o.issuer_id
        WHERE o.id = @id AND o.status IN ('published', 'closed', 'expired') AND o.published_at IS NOT NULL
        """;

    /// <summary>A public offer, open or closed (archive); null for unknown, draft or pending ones.</summary>
    public async Task<OpportunityDetail?> GetDetailAsync(long id, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var detail = await conn.QuerySingleOrDefaultAsync<OpportunityDetail>(new CommandDefinition(DetailSql, new { id }, cancellationToken: ct));
        if (detail is not null)
        {
            var tree = await TerritoryTree.LoadAsync(db);
            detail.TerritoryLabels = [.. detail.TerritoryCodes.Select(c => tree.Get(c)?.Label ?? c)];
            detail.WorkTerritoryLabel = tree.Get(detail.WorkTerritoryCode)?.Label;
        }

        return detail;
    }
}

public sealed class OpportunityDetail
{
    public long Id { get; init; }
    public string Kind { get; init; } = "";
    public string Title { get; init; } = "";
    public long IssuerId { get; init; }
    public string IssuerName { get; init; } = "";
    public string IssuerType { get; init; } = "";
    public string Description { get; init; } = "";
    public string? Url { get; init; }
    public string? Contact { get; init; }
    public DateOnly? DeadlineDate { get; init; }
    public TimeOnly? DeadlineTime { get; init; }
    public DateTime? ClosesAt { get; init; }
    public string Status { get; init; } = "";
    public string? ContractType { get; init; }
    public string? Beneficiaries { get; init; }
    public decimal? AmountEur { get; init; }
    public DateTime? PublishedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
    public DateTime? ClosedAt { get; init; }
    public string[] TerritoryCodes { get; init; } = [];
    public string[] TerritoryNames { get; init; } = [];

    /// <summary>"Bègles (33)", "Gironde (33)": as clients read them.</summary>
    public string[] TerritoryLabels { get; internal set; } = [];

    /// <summary>A job's place of work (a commune) and its label.</summary>
    public string? WorkTerritoryCode { get; init; }
    public string? WorkTerritoryLabel { get; internal set; }
    public string[] ThemeCodes { get; init; } = [];
    public string[] ThemeLabels { get; init; } = [];

    public string Slug => Slugs.From(Title);
    public string Path => $"/offres/{Id}-{Slug}";
}
