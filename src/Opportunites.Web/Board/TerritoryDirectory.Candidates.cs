using System.Text.RegularExpressions;
using Dapper;

namespace Opportunites.Web.Board;

/// <summary>A territory offered as a choice, with its département to tell homonyms apart ("Saint-Denis", 93 or 974).</summary>
public sealed class TerritoryCandidate
{
    public string Code { get; init; } = "";
    public string Name { get; init; } = "";
    public string Level { get; init; } = "";
    public string? DepartementCode { get; init; }
    public string? DepartementName { get; init; }

    /// <summary>Ancestors and self, root first ({FR,R75,33,…}).</summary>
    public string[] Lineage { get; init; } = [];

    /// <summary>"Gironde (33)", "Saint-Denis (93)": the département tells homonyms apart; France and régions by name.</summary>
    public string Label => Level switch
    {
        "pays" or "region" => Name,
        _ when DepartementCode is { } d => $"{Name} ({d})",
        _ => $"{Name} ({Code})",
    };

    /// <summary>"Commune, Seine-Saint-Denis": what a choice list shows beside the label.</summary>
    public string Detail => Level switch
    {
        "pays" => "Pays",
        "region" => "Région",
        "departement" => "Département",
        "epci" => DepartementName is { } d ? "Intercommunalité, " + d : "Intercommunalité",
        "commune" => DepartementName is { } d ? "Commune, " + d : "Commune",
        _ => Level,
    };
}

// The "which territories could this text mean" side of the directory: the forms' server-side resolution (without
// JavaScript) shows a choice when several places share a name, instead of silently taking one.
public sealed partial class TerritoryDirectory
{
    // "Saint-Denis (93)": a name, then a code of the territory itself or of one of its ancestors.
    [GeneratedRegex(@"^(.+?)\s*\(([A-Za-z0-9]{1,12})\)\s*$")]
    private static partial Regex NameAndQualifier();

    // The département of each row is its lineage's département (communes and EPCI have one; régions and France none).
    private const string CandidatesSql = """
        WITH q AS (SELECT upper(@text) AS c, replace(lower(immutable_unaccent(@name)), '-', ' ') AS n, upper(@qualifier) AS qual)
        SELECT t.code, t.name, t.level, t.lineage, d.code AS departement_code, d.name AS departement_name
        FROM territories t CROSS JOIN q
        LEFT JOIN LATERAL (
            SELECT p.code, p.name FROM territories p
            WHERE p.code = ANY (t.lineage) AND p.level = 'departement' LIMIT 1) d ON true
        WHERE t.code = q.c
           OR (t.level = 'commune' AND t.insee_code = @text)
           OR (replace(t.search_name, '-', ' ') = q.n
               AND (q.qual IS NULL OR q.qual = t.code OR q.qual = ANY (t.lineage) OR q.qual = d.code))
        ORDER BY (t.code = q.c) DESC, array_length(t.lineage, 1), d.code NULLS FIRST, t.code
        LIMIT 30
        """;

    /// <summary>
    /// Every territory a typed text may mean: one for a code or a name used once, several for a shared name
    /// ("Saint-Denis"), none when nothing matches exactly (then <see cref="SearchAsync"/> gives close names).
    /// A code typed exactly wins alone.
    /// </summary>
    public async Task<IReadOnlyList<TerritoryCandidate>> ResolveCandidatesAsync(string text, CancellationToken ct = default)
    {
        text = WithoutControlCharacters(text).Trim();
        if (text.Length is 0 or > 200)
        {
            return [];
        }

        var (name, qualifier) = NameAndQualifier().Match(text) is { Success: true } m
            ? (m.Groups[1].Value, m.Groups[2].Value)
            : (text, (string?)null);
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = (await conn.QueryAsync<TerritoryCandidate>(new CommandDefinition(CandidatesSql,
            new { text, name, qualifier }, cancellationToken: ct))).AsList();
        var exact = rows.FirstOrDefault(r => string.Equals(r.Code, text, StringComparison.OrdinalIgnoreCase));
        if (exact is not null)
        {
            return [exact];
        }

        // One name for nested places (La Réunion the région and the département, Paris the département and the
        // commune) asks nothing: the largest, first in this order, holds the others and matches them both ways.
        return rows.Count > 1 && rows.All(r => r.Lineage.Contains(rows[0].Code, StringComparer.Ordinal)) ? [rows[0]] : rows;
    }

    private const string ByCodesSql = """
        SELECT t.code, t.name, t.level, t.lineage, d.code AS departement_code, d.name AS departement_name
        FROM territories t
        LEFT JOIN LATERAL (
            SELECT p.code, p.name FROM territories p
            WHERE p.code = ANY (t.lineage) AND p.level = 'departement' LIMIT 1) d ON true
        WHERE t.code = ANY (@codes)
        """;

    /// <summary>The territories of these codes (any case), in the order given; unknown codes are left out.</summary>
    public async Task<IReadOnlyList<TerritoryCandidate>> GetCandidatesByCodesAsync(IEnumerable<string> codes, CancellationToken ct = default)
    {
        var wanted = codes.Select(c => WithoutControlCharacters(c).Trim().ToUpperInvariant())
            .Where(c => c.Length is > 0 and <= 12).Distinct().ToArray();
        if (wanted.Length == 0)
        {
            return [];
        }

        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = (await conn.QueryAsync<TerritoryCandidate>(new CommandDefinition(ByCodesSql, new { codes = wanted },
            cancellationToken: ct))).ToDictionary(r => r.Code, StringComparer.Ordinal);
        return [.. wanted.Where(rows.ContainsKey).Select(c => rows[c])];
    }
}
