using System.Globalization;
using System.Text;
using Dapper;
using Npgsql;

namespace Opportunites.Web.Publishing;

public sealed class TerritoryInfo
{
    public string Code { get; init; } = "";
    public string Name { get; init; } = "";
    public string Level { get; init; } = "";
    public string? ParentCode { get; init; }
    public string[] Lineage { get; init; } = [];
}

/// <summary>
/// The territory tree (France, régions, départements: ~120 rows, changed only by migrations) held in memory:
/// forms list it, and names typed by people or found in newsletter lines resolve to codes without a query.
/// </summary>
public sealed class TerritoryDirectory
{
    private readonly Dictionary<string, TerritoryInfo> byCode;
    private readonly Dictionary<string, TerritoryInfo> byName;

    public TerritoryDirectory(IEnumerable<TerritoryInfo> territories)
    {
        All = [.. territories.OrderBy(t => t.Lineage.Length).ThenBy(t => t.Code, StringComparer.Ordinal)];
        byCode = All.ToDictionary(t => t.Code, StringComparer.OrdinalIgnoreCase);
        byName = new Dictionary<string, TerritoryInfo>();
        foreach (var t in All)
        {
            byName.TryAdd(Fold(t.Name), t);
        }
    }

    public IReadOnlyList<TerritoryInfo> All { get; }

    private const string LoadSql = "SELECT code, name, level, parent_code, lineage FROM territories WHERE level IN ('pays', 'region', 'departement')";

    public static async Task<TerritoryDirectory> LoadAsync(NpgsqlDataSource db)
    {
        await using var conn = await db.OpenConnectionAsync();
        return new TerritoryDirectory(await conn.QueryAsync<TerritoryInfo>(LoadSql));
    }

    public TerritoryInfo? Get(string? code) => code is not null && byCode.TryGetValue(code.Trim(), out var t) ? t : null;

    /// <summary>A code ("33", "R75", "FR") or a name ("Gironde", "gironde", "Deux Sèvres") to its territory.</summary>
    public TerritoryInfo? Resolve(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        return Get(text) ?? (byName.TryGetValue(Fold(text), out var t) ? t : null);
    }

    public string Name(string code) => Get(code)?.Name ?? code;

    public IEnumerable<TerritoryInfo> Regions => All.Where(t => t.Level == "region").OrderBy(t => t.Name, StringComparer.Create(CultureInfo.GetCultureInfo("fr-FR"), true));

    public IEnumerable<TerritoryInfo> ChildrenOf(string code) => All.Where(t => t.ParentCode == code).OrderBy(t => t.Code, StringComparer.Ordinal);

    /// <summary>Lower case, no accents, hyphens and apostrophes as spaces, single spaces: "Deux-Sèvres" = "deux sevres".</summary>
    public static string Fold(string text)
    {
        var decomposed = text.Trim().ToLowerInvariant().Normalize(NormalizationForm.FormD);
        var sb = new StringBuilder(decomposed.Length);
        var space = false;
        foreach (var c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark)
            {
                continue;
            }

            if (char.IsLetterOrDigit(c))
            {
                sb.Append(c);
                space = false;
            }
            else if (!space && sb.Length > 0)
            {
                sb.Append(' ');
                space = true;
            }
        }

        return sb.ToString().TrimEnd();
    }
}
