using System.Text.RegularExpressions;
using Opportunites.Web.Publishing;

namespace Opportunites.Web.Import;

/// <summary>
/// Guesses the territory of a newsletter line from its issuer and title: département and région names
/// ("Préfecture de la Gironde", "DDETSPP Landes", "Deux Sèvres"), a few local names ("Bordeaux Métropole", "Limoges")
/// and acronyms of regional State services ("DREETS N-A", "DRAJES NA"). The most precise places win:
/// "DRAJES NA / … pour la Gironde" is Gironde, not the whole région.
/// </summary>
public sealed partial class TerritoryGuesser(TerritoryDirectory territories)
{
    // Folded text (see TerritoryDirectory.Fold) → territory code.
    private static readonly Dictionary<string, string> Aliases = new()
    {
        ["bordeaux metropole"] = "33",
        ["bordeaux"] = "33",
        ["dreets n a"] = "R75",
        ["dreets na"] = "R75",
        ["dreets nouvelle aquitaine"] = "R75",
        ["drajes n a"] = "R75",
        ["drajes na"] = "R75",
        ["dreal n a"] = "R75",
        ["dreal na"] = "R75",
        ["prefecture de region nouvelle aquitaine"] = "R75",
        ["limoges"] = "87",
        ["poitiers"] = "86",
        ["niort"] = "79",
        ["la rochelle"] = "17",
        ["angouleme"] = "16",
        ["perigueux"] = "24",
        ["mont de marsan"] = "40",
        ["agen"] = "47",
        ["gueret"] = "23",
        ["bayonne"] = "64",
        ["pays basque"] = "64",
    };

    // Names that are also everyday French words ("somme", "lot", "nord", "cher"…): only after "de la", "du", "en"…
    // and capitalised, as in "Préfecture du Nord" or "Conseil départemental de la Somme".
    private static readonly HashSet<string> AmbiguousNames =
    [
        "ain", "aisne", "allier", "aube", "aude", "cher", "creuse", "doubs", "eure", "gard", "gers", "indre", "jura",
        "loire", "lot", "manche", "marne", "meuse", "nord", "oise", "orne", "paris", "sarthe", "somme", "tarn", "var",
        "vienne", "yonne", "corse", "centre",
    ];

    private List<(string Folded, string Code)>? patterns;

    private List<(string Folded, string Code)> Patterns => patterns ??= BuildPatterns();

    private List<(string Folded, string Code)> BuildPatterns()
    {
        var list = Aliases.Select(a => (a.Key, a.Value)).ToList();
        foreach (var t in territories.All.Where(t => t.Level != "pays"))
        {
            var folded = TerritoryDirectory.Fold(t.Name);
            if (!AmbiguousNames.Contains(folded))
            {
                list.Add((folded, t.Code));
            }
        }

        // Longest first: "charente maritime" before "charente", "haute vienne" before "vienne".
        return [.. list.OrderByDescending(p => p.Item1.Length)];
    }

    /// <returns>The guessed territory codes (most precise only), empty when nothing was recognised.</returns>
    public IReadOnlyList<string> Guess(string text)
    {
        var folded = " " + TerritoryDirectory.Fold(text) + " ";
        var found = new List<string>();
        foreach (var (name, code) in Patterns)
        {
            var needle = " " + name + " ";
            var at = folded.IndexOf(needle, StringComparison.Ordinal);
            if (at < 0)
            {
                continue;
            }

            found.Add(code);
            // Consume the match so that "Charente" does not match again inside "Charente-Maritime".
            folded = folded[..(at + 1)] + new string('#', name.Length) + folded[(at + 1 + name.Length)..];
        }

        foreach (Match m in AmbiguousContext().Matches(text))
        {
            var t = territories.Resolve(m.Groups["name"].Value);
            if (t is not null && t.Level == "departement")
            {
                found.Add(t.Code);
            }
        }

        var distinct = found.Distinct().ToList();
        // Keep the most precise places: drop a région when one of its départements was named too.
        return distinct.Where(c => !distinct.Any(other => other != c && (territories.Get(other)?.Lineage.Contains(c) ?? false))).ToList();
    }

    [GeneratedRegex(@"(?i:\b(?:de la|de l['’]|du|des|en|dans le|dans l['’])\s*)(?<name>Ain|Aisne|Allier|Aube|Aude|Cher|Creuse|Doubs|Eure|Gard|Gers|Indre|Jura|Loire|Lot|Manche|Marne|Meuse|Nord|Oise|Orne|Paris|Sarthe|Somme|Tarn|Var|Vienne|Yonne)\b")]
    private static partial Regex AmbiguousContext();
}
