using Dapper;
using Npgsql;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Board;

/// <summary>
/// Territories as lists show them: larger ones first (France, région, département), then by name in the database's own
/// collation. The board's rows and the digest's items both name their territories this way, from memory: a subquery
/// per row over the territories table was most of a list statement's time (and of the digest's offers read).
/// </summary>
public sealed class TerritoryOrder
{
    private const string Sql = "SELECT code, name FROM territories t ORDER BY array_length(lineage, 1), search_name, code";

    private readonly Dictionary<string, (int Rank, string Name, string Label)> _byCode;

    private TerritoryOrder(IEnumerable<(string Code, string Name, string Label)> inOrder) =>
        _byCode = inOrder.Select((t, i) => (t.Code, Rank: i, t.Name, t.Label))
            .ToDictionary(t => t.Code, t => (t.Rank, t.Name, t.Label), StringComparer.Ordinal);

    /// <summary>The order from the database's collation; labels from the tree (<see cref="TerritoryInfo.Label"/>, their one definition).</summary>
    public static async Task<TerritoryOrder> LoadAsync(NpgsqlConnection conn, TerritoryTree tree, CancellationToken ct) =>
        new((await conn.QueryAsync<(string Code, string Name)>(new CommandDefinition(Sql, cancellationToken: ct)))
            .Select(t => (t.Code, t.Name, tree.Get(t.Code)?.Label ?? t.Name)));

    /// <summary>The label of a known code ("Bègles (33)"); null for null or unknown.</summary>
    public string? Label(string? code) => code is not null && _byCode.TryGetValue(code, out var t) ? t.Label : null;

    /// <summary>The known codes among <paramref name="codes"/>, once each and in order, and their names.</summary>
    public (string[] Codes, string[] Names) Sort(IEnumerable<string> codes)
    {
        var known = codes.Where(_byCode.ContainsKey).Distinct().OrderBy(c => _byCode[c].Rank).ToArray();
        return (known, [.. known.Select(c => _byCode[c].Name)]);
    }
}
