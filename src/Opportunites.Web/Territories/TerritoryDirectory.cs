using System.Globalization;
using Npgsql;
using Opportunites.Web.Board;

namespace Opportunites.Web.Territories;

/// <summary>
/// Every territory as pages, forms, filters, imports and the autocomplete use them, over the <see cref="TerritoryTree"/>
/// held in memory: names (case-, accent- and hyphen-insensitive, "st" for "saint"), codes, INSEE and postal codes and
/// SIREN resolve without a query. <see cref="All"/> keeps the short list (France, régions, départements).
/// </summary>
public sealed class TerritoryDirectory(TerritoryTree tree)
{
    public TerritoryTree Tree => tree;

    /// <summary>France, régions and départements, larger first.</summary>
    public IReadOnlyList<TerritoryInfo> All { get; } = [.. tree.All.Where(t => t.LevelRank <= 2)];

    /// <summary>The directory of this database (its tree is read once per process).</summary>
    public static async Task<TerritoryDirectory> LoadAsync(NpgsqlDataSource db) => new(await TerritoryTree.LoadAsync(db));

    public TerritoryInfo? Get(string? code) => tree.Get(code);

    /// <summary>
    /// A code ("33", "R75", "C33039"), a postal code, a name ("Gironde", "deux sevres", "Bègles") or a label to its
    /// territory; null when none. For homonyms, the larger then the more populous: <see cref="ResolveCandidates"/>
    /// gives them all.
    /// </summary>
    public TerritoryInfo? Resolve(string? text) => string.IsNullOrWhiteSpace(text) ? null : tree.Resolve(text);

    /// <summary>Every territory an entry may designate (homonyms "Saint-Denis", a postal code shared by several
    /// communes), best first; empty when none. One: the entry is not ambiguous.</summary>
    public IReadOnlyList<Territory> ResolveCandidates(string text) => [.. tree.ResolveCandidates(text).Select(Describe)];

    /// <summary>Autocomplete: best matches for what the user typed so far.</summary>
    public IReadOnlyList<Territory> Search(string text, int limit = 10) => [.. tree.Search(text, limit).Select(Describe)];

    /// <summary>A territory as the field, the filters and the API show it, with its département's and région's names.</summary>
    public Territory Describe(TerritoryInfo t) => Territory.From(t, tree);

    /// <summary>How every page names a territory: "Bègles (33)", "Gironde (33)" (<see cref="TerritoryInfo.Label"/>).</summary>
    public string Label(string code) => Get(code)?.Label ?? code;

    public IEnumerable<TerritoryInfo> Regions => All.Where(t => t.Level == "region").OrderBy(t => t.Name, StringComparer.Create(CultureInfo.GetCultureInfo("fr-FR"), true));

    public IEnumerable<TerritoryInfo> ChildrenOf(string code) => All.Where(t => t.ParentCode == code).OrderBy(t => t.Code, StringComparer.Ordinal);

    /// <inheritdoc cref="TerritoryTree.Fold"/>
    public static string Fold(string text) => TerritoryTree.Fold(text);
}
