using System.Globalization;
using Npgsql;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Publishing;

/// <summary>
/// The territories as forms and imports use them, over the <see cref="TerritoryTree"/> held in memory: codes and names
/// of every level resolve without a query; <see cref="All"/> keeps the short list (France, régions, départements).
/// </summary>
public sealed class TerritoryDirectory(TerritoryTree tree)
{
    public TerritoryTree Tree => tree;

    /// <summary>France, régions and départements, larger first.</summary>
    public IReadOnlyList<TerritoryInfo> All { get; } = [.. tree.All.Where(t => t.LevelRank <= 2)];

    public static async Task<TerritoryDirectory> LoadAsync(NpgsqlDataSource db) => new(await TerritoryTree.LoadAsync(db));

    public TerritoryInfo? Get(string? code) => tree.Get(code);

    /// <summary>A code ("33", "R75", "C33039"), a postal code, a name ("Gironde", "deux sevres", "Bègles") or a label to its territory.</summary>
    public TerritoryInfo? Resolve(string? text) => string.IsNullOrWhiteSpace(text) ? null : tree.Resolve(text);

    /// <summary>How every page names a territory: "Bègles (33)", "Gironde (33)" (<see cref="TerritoryInfo.Label"/>).</summary>
    public string Label(string code) => Get(code)?.Label ?? code;

    public IEnumerable<TerritoryInfo> Regions => All.Where(t => t.Level == "region").OrderBy(t => t.Name, StringComparer.Create(CultureInfo.GetCultureInfo("fr-FR"), true));

    public IEnumerable<TerritoryInfo> ChildrenOf(string code) => All.Where(t => t.ParentCode == code).OrderBy(t => t.Code, StringComparer.Ordinal);

    /// <inheritdoc cref="TerritoryTree.Fold"/>
    public static string Fold(string text) => TerritoryTree.Fold(text);
}
