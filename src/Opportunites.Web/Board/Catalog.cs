using System.Globalization;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;

namespace Opportunites.Web.Board;

public sealed class Territory
{
    public string Code { get; init; } = "";
    public string InseeCode { get; init; } = "";
    public string Name { get; init; } = "";
    public string Level { get; init; } = "";

    /// <summary>
    /// The codes an offer may carry to match this territory both ways (territory_match_set: itself, its ancestors,
    /// its descendants). Sent as a value, not a subquery, so the planner estimates the filter from the column's
    /// statistics: a guessed selectivity made it sort thousands of rows where an index walk reads a few dozen.
    /// </summary>
    public string[] MatchSet { get; init; } = [];

    /// <summary>What the territory field shows and accepts back: "Gironde (33)".</summary>
    public string Label => $"{Name} ({Code})";

    public string LevelLabel => Level switch
    {
        "pays" => "Pays",
        "region" => "Région",
        "departement" => "Département",
        "epci" => "Intercommunalité",
        "commune" => "Commune",
        _ => Level,
    };
}

public sealed class Theme
{
    public string Code { get; init; } = "";
    public string Label { get; init; } = "";
}

/// <summary>Finds territories by code or name (accent- and case-insensitive), for filters and autocomplete.</summary>
public sealed partial class TerritoryDirectory(NpgsqlDataSource db)
{
    // "Gironde (33)" as offered by the autocomplete list: the code in parentheses wins.
    [GeneratedRegex(@"\(([A-Za-z0-9]{1,12})\)\s*$")]
    private static partial Regex LabelCode();

    // Exact code first ('33', '2a', 'r75', 'fr'), then the exact unaccented name; several territories may share a
    // name (La Réunion is a région and a département): the larger one, which matches the other both ways, wins.
    // Internal (not private) so that the benchmark replays this exact statement for each page view with a territory.
    internal const string ResolveSql = """
        SELECT code, insee_code, name, level, territory_match_set(code) AS match_set
        FROM territories
        WHERE code = upper(@text)
           OR replace(search_name, '-', ' ') = replace(lower(immutable_unaccent(@text)), '-', ' ')
        ORDER BY (code = upper(@text)) DESC, array_length(lineage, 1), code
        LIMIT 1
        """;

    /// <summary>The territory meant by a code, a name or a "Name (code)" label; null when none.</summary>
    public async Task<Territory?> ResolveAsync(string text, CancellationToken ct = default)
    {
        text = WithoutControlCharacters(text).Trim();
        if (LabelCode().Match(text) is { Success: true } m)
        {
            text = m.Groups[1].Value;
        }

        // The codes of France, the régions and the départements (what the board's links and forms carry) are answered
        // from the list kept in memory: one round trip less per page view. Same answer as the statement, where an
        // exact code wins.
        if (FindMainCode(await GetMainAsync(ct), text) is { } known)
        {
            return known;
        }

        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<Territory>(new CommandDefinition(ResolveSql, new { text }, cancellationToken: ct));
    }

    // Trigram index territories_search_name_trgm serves both the prefix LIKE and the similarity operator.
    private const string SearchSql = """
        WITH q AS (SELECT lower(immutable_unaccent(@text)) AS s, upper(@text) AS c)
        SELECT t.code, t.insee_code, t.name, t.level
        FROM territories t, q
        WHERE t.code = q.c OR t.search_name LIKE q.s || '%' OR t.search_name LIKE '%' || q.s || '%' OR t.search_name % q.s
        ORDER BY (t.code = q.c) DESC, (t.search_name LIKE q.s || '%') DESC, similarity(t.search_name, q.s) DESC,
                 array_length(t.lineage, 1), t.search_name
        LIMIT @limit
        """;

    /// <summary>Autocomplete: best matches for what the user typed so far.</summary>
    public async Task<IReadOnlyList<Territory>> SearchAsync(string text, int limit = 10, CancellationToken ct = default)
    {
        // PostgreSQL text cannot hold NUL: control characters typed or pasted become spaces.
        text = WithoutControlCharacters(text).Trim();
        if (text.Length == 0)
        {
            return [];
        }

        // LIKE wildcards typed by the user are literal text here.
        text = text.Replace("\\", "", StringComparison.Ordinal).Replace("%", "", StringComparison.Ordinal)
            .Replace("_", " ", StringComparison.Ordinal);
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<Territory>(new CommandDefinition(SearchSql, new { text, limit }, cancellationToken: ct));
        return rows.AsList();
    }

    private static string WithoutControlCharacters(string text) =>
        text.Any(char.IsControl) ? new string(text.Select(c => char.IsControl(c) ? ' ' : c).ToArray()) : text;

    private const string ListSql = """
        SELECT code, insee_code, name, level, territory_match_set(code) AS match_set
        FROM territories
        WHERE level IN ('pays', 'region', 'departement')
        ORDER BY array_length(lineage, 1), search_name
        """;

    private IReadOnlyList<Territory>? _main;

    /// <summary>The territory of the main list whose code is <paramref name="text"/> (any case); null when none.</summary>
    internal static Territory? FindMainCode(IReadOnlyList<Territory> main, string text) =>
        main.FirstOrDefault(t => string.Equals(t.Code, text.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>France, régions and départements: the list offered without JavaScript (fixed data, kept in memory).</summary>
    public async Task<IReadOnlyList<Territory>> GetMainAsync(CancellationToken ct = default)
    {
        if (_main is { } cached)
        {
            return cached;
        }

        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = (await conn.QueryAsync<Territory>(new CommandDefinition(ListSql, cancellationToken: ct))).AsList();
        _main = rows;
        return rows;
    }
}

/// <summary>The themes (a small fixed list from migrations, kept in memory).</summary>
public sealed class ThemeCatalog(NpgsqlDataSource db)
{
    private const string AllSql = "SELECT code, label FROM themes ORDER BY label";

    private IReadOnlyList<Theme>? _all;

    public async Task<IReadOnlyList<Theme>> GetAllAsync(CancellationToken ct = default)
    {
        if (_all is { } cached)
        {
            return cached;
        }

        await using var conn = await db.OpenConnectionAsync(ct);
        // French order: "Économie" among the E, not after Z as the database's C collation would put it.
        var comparer = StringComparer.Create(Shared.ParisTime.French, CompareOptions.IgnoreCase | CompareOptions.IgnoreNonSpace);
        var rows = (await conn.QueryAsync<Theme>(new CommandDefinition(AllSql, cancellationToken: ct)))
            .OrderBy(t => t.Label, comparer).ToList();
        _all = rows;
        return rows;
    }
}
