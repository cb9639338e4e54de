using Opportunites.Web.Publishing;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Import;

/// <summary>What the guesser made of a line: the territories (most precise only), and why, in French.</summary>
/// <param name="Codes">Empty when the line is "à compléter".</param>
/// <param name="Candidates">Homonyms a person chooses between ("Ville de Saint-Denis"), when no context told them apart.</param>
/// <param name="Words">The line's words that name those homonyms.</param>
public sealed record TerritoryGuess(IReadOnlyList<string> Codes, string Reason, IReadOnlyList<TerritoryInfo> Candidates, string? Words = null)
{
    public bool Known => Codes.Count > 0;
}

/// <summary>
/// Guesses the territory of an import line from the official names behind the issuer's words: "Ville de X" → commune X,
/// "X Métropole", "CC X", "CA X", "Agglo X", "Grand X" → that EPCI, "Conseil départemental de X", "Préfecture de X" →
/// the département, "Région X" → the région, acronyms of regional State services ("DREETS N-A"), then département and
/// région names anywhere ("… pour la Gironde"). The most precise places win; homonyms are told apart by a département
/// or région named in the line, else left to choose. Nothing recognised is "à compléter", never France.
/// </summary>
public sealed class TerritoryGuesser(TerritoryDirectory territories)
{
    private TerritoryTree Tree => territories.Tree;

    // Words an official name may carry or drop without changing the place: "CA du Grand Angoulême" = "Agglo Grand Angoulême".
    private static readonly HashSet<string> Articles = ["de", "du", "des", "d", "la", "le", "les", "l", "et", "en", "sur"];

    // EPCI type words, left out when comparing an EPCI's own words ("Métropole du Grand Paris" is "Grand Paris").
    private static readonly HashSet<string> EpciTypeWords = ["cc", "ca", "cu", "metropole", "eurometropole", "communaute", "communes", "agglomeration", "urbaine"];

    // Names that are also everyday French words ("somme", "lot", "nord", "cher"…): only capitalised after "de la", "du",
    // "en"…, as in "Préfecture du Nord" or "Conseil départemental de la Somme", or after a département keyword.
    private static readonly HashSet<string> AmbiguousNames =
    [
        "ain", "aisne", "allier", "aube", "aude", "cher", "creuse", "doubs", "eure", "gard", "gers", "indre", "jura",
        "loire", "lot", "manche", "marne", "meuse", "nord", "oise", "orne", "paris", "sarthe", "somme", "tarn", "var",
        "vienne", "yonne", "corse", "centre",
    ];

    // Regional State services, then the short names they put after them ("DREETS N-A", "DRAJES NA", "ARS NA").
    private static readonly HashSet<string> RegionalServices =
        ["dreets", "drajes", "dreal", "drac", "draaf", "drfip", "drdfe", "ars", "sgar", "drari"];

    private static readonly Dictionary<string, string> RegionShortNames = new()
    {
        ["na"] = "R75",
        ["n a"] = "R75",
        ["ara"] = "R84",
        ["bfc"] = "R27",
        ["cvl"] = "R24",
        ["hdf"] = "R32",
        ["idf"] = "R11",
        ["paca"] = "R93",
        ["pdl"] = "R52",
    };

    private enum Kind { Commune, Epci, Departement, Region }

    // A keyword (folded words) and what the words after it name. Longest first at one position.
    private static readonly (string[] Words, Kind Kind, string? EpciType, bool Capital)[] Keywords =
    [
        (["communaute", "de", "communes"], Kind.Epci, "cc", false),
        (["communaute", "d", "agglomeration"], Kind.Epci, "ca", false),
        (["communaute", "d", "agglo"], Kind.Epci, "ca", false),
        (["communaute", "urbaine"], Kind.Epci, "cu", false),
        (["conseil", "departemental"], Kind.Departement, null, false),
        (["conseil", "general"], Kind.Departement, null, false),
        (["conseil", "regional"], Kind.Region, null, false),
        (["prefecture", "de", "region"], Kind.Region, null, false),
        (["prefecture", "de", "la", "region"], Kind.Region, null, false),
        (["agglomeration"], Kind.Epci, "ca", true),
        (["agglo"], Kind.Epci, "ca", true),
        (["cdc"], Kind.Epci, "cc", true),
        (["cc"], Kind.Epci, "cc", true),
        (["ca"], Kind.Epci, "ca", true),
        (["cu"], Kind.Epci, "cu", true),
        (["metropole"], Kind.Epci, "metropole", false),
        (["grand"], Kind.Epci, "grand", true),
        (["ville"], Kind.Commune, null, false),
        (["mairie"], Kind.Commune, null, false),
        (["commune"], Kind.Commune, null, false),
        (["departement"], Kind.Departement, null, false),
        (["prefecture"], Kind.Departement, null, false),
        (["region"], Kind.Region, null, false),
    ];

    private const int MaxNameWords = 8;

    private sealed record Token(string Folded, int Start, int End, bool Capital, bool AfterParenthesis);

    private sealed record Found(IReadOnlyList<TerritoryInfo> Places, string Reason, string Words);

    private (string Words, string Code)[]? names;

    // Département and région names (folded), longest first, for the names-anywhere pass.
    private (string Words, string Code)[] Names => names ??= [.. territories.All
        .Where(t => t.Level is "departement" or "region")
        .Select(t => (TerritoryDirectory.Fold(t.Name), t.Code))
        .OrderByDescending(n => n.Item1.Length)];

    private Dictionary<string, List<(string[] Words, string[] Core, TerritoryInfo T)>>? epcis;

    // Every EPCI's significant words ("CA du Grand Angoulême" → ca grand angouleme), by type.
    private Dictionary<string, List<(string[] Words, string[] Core, TerritoryInfo T)>> Epcis => epcis ??= BuildEpcis();

    private Dictionary<string, List<(string[] Words, string[] Core, TerritoryInfo T)>> BuildEpcis()
    {
        var all = new List<(string[], string[], TerritoryInfo)>();
        foreach (var t in Tree.All.Where(t => t.Level == "epci"))
        {
            var words = Significant(TerritoryTree.SearchFold(t.Name).Split(' '));
            all.Add((words, [.. words.Where(w => !EpciTypeWords.Contains(w))], t));
        }

        return new()
        {
            ["cc"] = [.. all.Where(e => e.Item1[0] == "cc")],
            ["ca"] = [.. all.Where(e => e.Item1[0] == "ca")],
            ["cu"] = [.. all.Where(e => e.Item1[0] == "cu")],
            ["metropole"] = [.. all.Where(e => e.Item1.Any(w => w.EndsWith("metropole", StringComparison.Ordinal)))],
            ["grand"] = all,
        };
    }

    private static string[] Significant(IEnumerable<string> words) => [.. words.Where(w => w.Length > 0 && !Articles.Contains(w))];

    /// <summary>The territory of a line from its issuer and title (or any text, such as a CSV's territory name).</summary>
    public TerritoryGuess Guess(string issuer, string? title = null)
    {
        var text = title is null ? issuer : issuer + " / " + title;
        // Issuer and title are read apart: a name never runs from one into the other.
        var segments = Segments(text);
        var found = new List<Found>();
        var unresolved = new List<(Found F, Kind Kind)>();
        var notFound = new List<string>();
        foreach (var tokens in segments)
        {
            var used = new bool[tokens.Count];
            ReadKeywords(text, tokens, used, found, unresolved, notFound);
            ReadRegionalServices(text, tokens, used, found);
            ReadNamesAnywhere(text, tokens, used, found);
        }

        // What the line names elsewhere tells homonyms apart: "Ville de Saint-Denis (974)", "… en Seine-Saint-Denis".
        var context = found.SelectMany(f => f.Places.Select(p => (Place: p, f.Words)))
            .Concat(ParenthesisCodes(segments).Select(p => (Place: p, Words: $"({p.Code})"))).ToList();
        var candidates = new List<TerritoryInfo>();
        foreach (var (f, _) in unresolved)
        {
            var inContext = f.Places.Where(p => context.Any(c => Tree.IsWithin(p.Code, c.Place.Code))).ToList();
            if (inContext.Count == 1)
            {
                var by = context.First(c => Tree.IsWithin(inContext[0].Code, c.Place.Code)).Words;
                found.Add(new Found(inContext, $"« {f.Words} » → {Describe(inContext[0])}, d'après « {by} »", f.Words));
            }
            else if (Dominant(inContext.Count > 1 ? inContext : f.Places) is { } town)
            {
                found.Add(new Found([town.Place], $"« {f.Words} » → {Describe(town.Place)}, de loin la plus peuplée des communes "
                    + $"de ce nom ({town.Others})", f.Words));
            }
            else
            {
                candidates.AddRange(inContext.Count > 1 ? inContext : f.Places);
            }
        }

        if (candidates.Count > 0)
        {
            var (f, kind) = unresolved.First(u => u.F.Places.Contains(candidates[0]));
            return new TerritoryGuess([], $"« {f.Words} » : plusieurs {Plural(kind)} portent ce nom ("
                + string.Join(", ", candidates.Select(c => c.Label)) + ") : à compléter", candidates, f.Words);
        }

        // Keep the most precise places: a région or département drops out when a place inside it was named too.
        var codes = found.SelectMany(f => f.Places).Select(p => p.Code).Distinct().ToList();
        var kept = codes.Where(c => !codes.Any(other => other != c && Tree.IsWithin(other, c))).ToList();
        if (kept.Count == 0)
        {
            return new TerritoryGuess([], "aucun territoire reconnu"
                + (notFound.Count > 0 ? " (" + string.Join(" ; ", notFound) + ")" : "") + " : à compléter", []);
        }

        var reasons = found.Where(f => f.Places.Any(p => kept.Contains(p.Code))).Select(f => f.Reason).Distinct();
        return new TerritoryGuess(kept, string.Join(" ; ", reasons), []);
    }

    // "Ville de La Rochelle" is the préfecture of Charente-Maritime (77,000 people), not its Haute-Saône homonym (40):
    // a commune ten times as populous as every homonym is the one meant; the reason names the others for correction.
    private static (TerritoryInfo Place, string Others)? Dominant(IReadOnlyList<TerritoryInfo> places)
    {
        if (places.Count < 2 || places.Any(p => p.Level != "commune"))
        {
            return null;
        }

        var byPopulation = places.OrderByDescending(p => p.Population ?? 0).ToList();
        var (first, second) = (byPopulation[0].Population ?? 0, byPopulation[1].Population ?? 0);
        if (first < 1000 || first < 10L * second)
        {
            return null;
        }

        return (byPopulation[0], "autres : " + string.Join(", ", byPopulation.Skip(1).Select(p => p.Label)));
    }

    private void ReadKeywords(string text, List<Token> tokens, bool[] used, List<Found> found,
        List<(Found, Kind)> unresolved, List<string> notFound)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            if (used[i])
            {
                continue;
            }

            foreach (var (words, kind, epciType, capital) in Keywords)
            {
                if (!StartsWith(tokens, i, words) || (capital && !tokens[i].Capital))
                {
                    continue;
                }

                var after = i + words.Length;
                var match = kind == Kind.Epci ? FindEpci(tokens, i, after, epciType!) : FindName(tokens, i, after, kind);
                if (match is null)
                {
                    // "Grand", "Métropole", "Région" alone are common words: only a named place counts.
                    if (kind != Kind.Epci && tokens[i].Capital && after < tokens.Count)
                    {
                        notFound.Add($"« {Quote(text, tokens[i], tokens[Math.Min(tokens.Count - 1, after + 3)])} » : {Singular(kind)} introuvable");
                    }

                    continue;
                }

                var (from, to, places) = match.Value;
                for (var k = from; k < to; k++)
                {
                    used[k] = true;
                }

                var quoted = Quote(text, tokens[from], tokens[to - 1]);
                if (places.Count == 1)
                {
                    found.Add(new Found(places, $"« {quoted} » → {Describe(places[0])}", quoted));
                }
                else
                {
                    unresolved.Add((new Found(places, "", quoted), kind));
                }

                i = to - 1;
                break;
            }
        }
    }

    // "de la Gironde", "du Haillan", "d'Agen", "des Deux-Sèvres": the article may be part of the name (Le Haillan,
    // La Rochelle) or not (Gironde): with it first, then without, longest name first.
    private (int From, int To, IReadOnlyList<TerritoryInfo> Places)? FindName(List<Token> tokens, int keyword, int after, Kind kind)
    {
        var level = kind switch { Kind.Commune => "commune", Kind.Departement => "departement", _ => "region" };
        var starts = new List<(int At, string? Article)>();
        if (after < tokens.Count)
        {
            switch (tokens[after].Folded)
            {
                case "de" or "d" when after + 1 < tokens.Count && tokens[after + 1].Folded is "la" or "l":
                    starts.Add((after + 2, tokens[after + 1].Folded));
                    starts.Add((after + 2, null));
                    break;
                case "de" or "d":
                    starts.Add((after + 1, null));
                    break;
                case "du":
                    starts.Add((after + 1, "le"));
                    starts.Add((after + 1, null));
                    break;
                case "des":
                    starts.Add((after + 1, "les"));
                    starts.Add((after + 1, null));
                    break;
            }
        }

        starts.Add((after, null));
        foreach (var (at, article) in starts)
        {
            // A number names a département ("Préfecture 33"), never a commune (postal codes are not read here).
            if (at >= tokens.Count || (level != "departement" && tokens[at].Folded.All(char.IsAsciiDigit)))
            {
                continue;
            }

            for (var n = Math.Min(MaxNameWords, tokens.Count - at); n >= 1; n--)
            {
                var name = (article is null ? "" : article + " ") + string.Join(' ', tokens.Skip(at).Take(n).Select(t => t.Folded));
                var places = Tree.ResolveCandidates(name).Where(t => t.Level == level).ToList();
                if (places.Count > 0)
                {
                    return (keyword, at + n, places);
                }
            }
        }

        return null;
    }

    // "CC Aunis Sud", "Agglo Grand Angoulême", "Grand Poitiers", "Bordeaux Métropole", "Métropole de Lyon": the words
    // of the EPCI's official name, in order, among those of the given type; the longest run of the line's words that
    // names some, and among several the one whose name has no other word.
    private (int From, int To, IReadOnlyList<TerritoryInfo> Places)? FindEpci(List<Token> tokens, int keyword, int after, string type)
    {
        var list = Epcis[type];
        if (type == "metropole")
        {
            // "Bordeaux Métropole": the words before; "Métropole de Lyon", "Métropole Rouen Normandie": the words after.
            for (var n = Math.Min(MaxNameWords, keyword); n >= 1; n--)
            {
                var words = Significant(tokens.Skip(keyword - n).Take(n + 1).Select(t => t.Folded));
                if (Best(list, words, false) is { } before)
                {
                    return (keyword - n, after, before);
                }
            }
        }

        for (var n = Math.Min(MaxNameWords, tokens.Count - after); n >= 1; n--)
        {
            var words = Significant(tokens.Skip(type is "grand" or "metropole" ? keyword : after).Take(n + (type is "grand" or "metropole" ? after - keyword : 0)).Select(t => t.Folded));
            if (Best(list, words, type == "grand") is { } places)
            {
                return (keyword, after + n, places);
            }
        }

        return null;
    }

    // Compared without the type words: "Métropole de Bordeaux" is "Bordeaux Métropole", "Agglo Angoulême" is in
    // "CA du Grand Angoulême"; a name with no other word wins ("Grand Paris" is the Métropole, not "CA Grand Paris Sud …").
    private IReadOnlyList<TerritoryInfo>? Best(List<(string[] Words, string[] Core, TerritoryInfo T)> list, string[] words, bool grand)
    {
        var core = words.Where(w => !EpciTypeWords.Contains(w)).ToArray();
        // "Grand Est" is a région, "Grand Ouest" no place: "Grand" needs the rest of an EPCI's name.
        if (core.Length == 0 || (grand && (core.Length < 2 || core[0] != "grand" || Names.Any(n => n.Words == string.Join(' ', core)))))
        {
            return null;
        }

        var matches = list.Where(e => Contains(e.Core, core)).ToList();
        if (matches.Count == 0)
        {
            return null;
        }

        var exact = matches.Where(e => e.Core.SequenceEqual(core)).ToList();
        return [.. (exact.Count > 0 ? exact : matches).Select(e => e.T)];
    }

    private static bool Contains(string[] words, string[] part)
    {
        for (var i = 0; i + part.Length <= words.Length; i++)
        {
            if (words.AsSpan(i, part.Length).SequenceEqual(part))
            {
                return true;
            }
        }

        return false;
    }

    // "DREETS N-A", "DRAJES NA", "DREAL Nouvelle-Aquitaine": the région of a regional State service.
    private void ReadRegionalServices(string text, List<Token> tokens, bool[] used, List<Found> found)
    {
        for (var i = 0; i + 1 < tokens.Count; i++)
        {
            if (used[i] || !RegionalServices.Contains(tokens[i].Folded))
            {
                continue;
            }

            foreach (var n in new[] { 2, 1 })
            {
                if (i + n < tokens.Count && !used[i + n]
                    && RegionShortNames.TryGetValue(string.Join(' ', tokens.Skip(i + 1).Take(n).Select(t => t.Folded)), out var code)
                    && Tree.Get(code) is { } region)
                {
                    var quoted = Quote(text, tokens[i], tokens[i + n]);
                    found.Add(new Found([region], $"« {quoted} » (service régional de l'État) → {Describe(region)}", quoted));
                    for (var k = i; k <= i + n; k++)
                    {
                        used[k] = true;
                    }

                    break;
                }
            }
        }
    }

    // "… pour la Gironde", "DDETSPP Landes", "Préfecture du Nord" (an everyday word only capitalised after "du", "de la", "en"…).
    private void ReadNamesAnywhere(string text, List<Token> tokens, bool[] used, List<Found> found)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            foreach (var (name, code) in Names)
            {
                var words = name.Split(' ');
                if (!StartsWith(tokens, i, words) || Enumerable.Range(i, words.Length).Any(k => used[k]))
                {
                    continue;
                }

                // A place name is written with a capital ("la réunion du comité" names no région).
                var first = Enumerable.Range(i, words.Length).First(k => !Articles.Contains(tokens[k].Folded) || k == i + words.Length - 1);
                if (!tokens[first].Capital)
                {
                    continue;
                }

                if (AmbiguousNames.Contains(name) && !AfterPlaceArticle(tokens, i))
                {
                    continue;
                }

                var place = Tree.Get(code)!;
                var quoted = Quote(text, tokens[i], tokens[i + words.Length - 1]);
                found.Add(new Found([place], $"« {quoted} » nommé dans la ligne → {Describe(place)}", quoted));
                for (var k = i; k < i + words.Length; k++)
                {
                    used[k] = true;
                }

                i += words.Length - 1;
                break;
            }
        }
    }

    private static bool AfterPlaceArticle(List<Token> tokens, int i)
    {
        string? Prev(int back) => i - back >= 0 ? tokens[i - back].Folded : null;
        return Prev(1) is "du" or "des" or "en"
            || (Prev(1) is "la" or "l" && Prev(2) is "de" or "dans")
            || (Prev(1) == "le" && Prev(2) == "dans");
    }

    // "Saint-Denis (974)": a département code in brackets tells homonyms apart.
    private IEnumerable<TerritoryInfo> ParenthesisCodes(List<List<Token>> segments) =>
        segments.SelectMany(s => s).Where(t => t.AfterParenthesis)
            .Select(t => Tree.Get(t.Folded)).OfType<TerritoryInfo>().Where(t => t.Level == "departement");

    private static bool StartsWith(List<Token> tokens, int at, string[] words)
    {
        if (at + words.Length > tokens.Count)
        {
            return false;
        }

        for (var k = 0; k < words.Length; k++)
        {
            if (tokens[at + k].Folded != words[k])
            {
                return false;
            }
        }

        return true;
    }

    private static string Quote(string text, Token from, Token to) => text[from.Start..to.End];

    /// <summary>"commune de Bègles (33)", "intercommunalité CC Aunis Sud (17)", "département Gironde (33)", "région Nouvelle-Aquitaine".</summary>
    public static string Describe(TerritoryInfo t) => t.Level switch
    {
        "commune" => (StartsWithVowel(t.Name) ? "commune d'" : "commune de ") + t.Label,
        "epci" => "intercommunalité " + t.Label,
        "departement" => "département " + t.Label,
        "region" => "région " + t.Name,
        _ => t.Label,
    };

    private static bool StartsWithVowel(string name) => TerritoryDirectory.Fold(name) is { Length: > 0 } f && "aeiouyh".Contains(f[0]);

    private static string Singular(Kind kind) => kind switch
    {
        Kind.Commune => "commune",
        Kind.Epci => "intercommunalité",
        Kind.Departement => "département",
        _ => "région",
    };

    private static string Plural(Kind kind) => kind switch
    {
        Kind.Commune => "communes",
        Kind.Epci => "intercommunalités",
        Kind.Departement => "départements",
        _ => "régions",
    };

    // Words (letters and digits) with their place in the text; " / " splits issuer from title.
    private static List<List<Token>> Segments(string text)
    {
        var segments = new List<List<Token>> { new() };
        var i = 0;
        while (i < text.Length)
        {
            if (char.IsLetterOrDigit(text[i]))
            {
                var start = i;
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || char.GetUnicodeCategory(text[i]) == System.Globalization.UnicodeCategory.NonSpacingMark))
                {
                    i++;
                }

                var word = text[start..i];
                var afterParenthesis = start > 0 && text[start - 1] == '(';
                segments[^1].Add(new Token(TerritoryDirectory.Fold(word), start, i, char.IsUpper(word[0]), afterParenthesis));
            }
            else
            {
                if (text[i] == '/' && i > 0 && text[i - 1] == ' ' && i + 1 < text.Length && text[i + 1] == ' ')
                {
                    segments.Add([]);
                }

                i++;
            }
        }

        return segments;
    }
}
