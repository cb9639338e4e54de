using System.Globalization;
using System.Text;

namespace Opportunites.Bench;

/// <summary>
/// Realistic board URLs, deterministic for a seed. Browse: a territory (mostly a département, popular ones more often),
/// a kind, page 1 to 3. Search: one or two words of the dataset's vocabulary (often typed without accents), sometimes
/// with a territory or a kind. The mix alternates browse and search so any window of the file holds both.
/// At commune granularity (issue 22), the same shapes with territories drawn by population: a commune (55 %), its EPCI
/// (25 %), its département (15 %) or its région (5 %).
/// </summary>
public static class BoardUrls
{
    public const string Path = "/offres";

    private static readonly string[] Kinds = ["emploi", "aap", "ami"];

    /// <param name="departements">Département codes, most popular first (the dataset is Zipf-like in this order).</param>
    public static IReadOnlyList<string> Browse(int count, IReadOnlyList<string> departements, IReadOnlyList<string> regions, int seed = 1)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => BrowseUrl(random, p => Territory(random, departements, regions, p))).ToList();
    }

    /// <param name="places">Communes drawn by population, each with its EPCI, département and région.</param>
    public static IReadOnlyList<string> BrowseCommunes(int count, IReadOnlyList<Place> places, int seed = 3)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => BrowseUrl(random, p => Local(random, places, p))).ToList();
    }

    /// <summary>Half browse, half text search, alternating, at commune granularity.</summary>
    public static IReadOnlyList<string> MixCommunes(int count, IReadOnlyList<Place> places, IReadOnlyList<string> vocabulary, int seed = 4)
    {
        var random = new Random(seed);
        Func<double, string?> territory = p => Local(random, places, p);
        return Enumerable.Range(0, count)
            .Select(i => i % 2 == 0 ? BrowseUrl(random, territory) : SearchUrl(random, territory, vocabulary))
            .ToList();
    }

    /// <summary>Half browse, half text search, alternating.</summary>
    public static IReadOnlyList<string> Mix(int count, IReadOnlyList<string> departements, IReadOnlyList<string> regions,
        IReadOnlyList<string> vocabulary, int seed = 2)
    {
        var random = new Random(seed);
        Func<double, string?> territory = p => Territory(random, departements, regions, p);
        return Enumerable.Range(0, count)
            .Select(i => i % 2 == 0 ? BrowseUrl(random, territory) : SearchUrl(random, territory, vocabulary))
            .ToList();
    }

    private static string BrowseUrl(Random r, Func<double, string?> territory)
    {
        var q = new List<string>();
        if (territory(0.9) is { } t)
        {
            q.Add("territoire=" + t);
        }

        var k = r.NextDouble();
        if (k < 0.7)
        {
            q.Add("type=" + Kinds[r.Next(Kinds.Length)]);
        }
        else if (k < 0.8)
        {
            var first = r.Next(Kinds.Length);
            q.Add("type=" + Kinds[first]);
            q.Add("type=" + Kinds[(first + 1 + r.Next(Kinds.Length - 1)) % Kinds.Length]);
        }

        var p = r.NextDouble();
        if (p >= 0.6)
        {
            q.Add("page=" + (p < 0.85 ? 2 : 3).ToString(CultureInfo.InvariantCulture));
        }

        return Build(q);
    }

    private static string SearchUrl(Random r, Func<double, string?> territory, IReadOnlyList<string> vocabulary)
    {
        var words = Enumerable.Range(0, r.NextDouble() < 0.4 ? 1 : 2).Select(_ => vocabulary[r.Next(vocabulary.Count)]);
        var text = string.Join(' ', words);
        if (r.NextDouble() < 0.5)
        {
            text = Unaccent(text);
        }

        var q = new List<string> { "q=" + Uri.EscapeDataString(text) };
        if (territory(0.4) is { } t)
        {
            q.Add("territoire=" + t);
        }

        if (r.NextDouble() < 0.3)
        {
            q.Add("type=" + Kinds[r.Next(Kinds.Length)]);
        }

        return Build(q);
    }

    private static string? Territory(Random r, IReadOnlyList<string> deps, IReadOnlyList<string> regs, double probability)
    {
        if (r.NextDouble() >= probability)
        {
            return null;
        }

        // Same skew as the dataset: index = n·u², so the first codes are asked for (and hold) the most.
        return r.NextDouble() < 0.8
            ? deps[(int)(deps.Count * Math.Pow(r.NextDouble(), 2))]
            : regs[(int)(regs.Count * Math.Pow(r.NextDouble(), 2))];
    }

    private static string? Local(Random r, IReadOnlyList<Place> places, double probability)
    {
        if (r.NextDouble() >= probability)
        {
            return null;
        }

        var place = places[r.Next(places.Count)];
        var level = r.NextDouble();
        return level < 0.55 ? place.Commune : level < 0.80 ? place.Epci : level < 0.95 ? place.Departement : place.Region;
    }

    private static string Build(List<string> q) => q.Count == 0 ? Path : Path + "?" + string.Join('&', q);

    private static string Unaccent(string text)
    {
        var sb = new StringBuilder();
        foreach (var c in text.Normalize(NormalizationForm.FormD))
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark)
            {
                sb.Append(c);
            }
        }

        return sb.ToString().Normalize(NormalizationForm.FormC).ToLowerInvariant();
    }
}

/// <summary>A commune with its EPCI (the commune itself when it has none), département and région.</summary>
public sealed record Place(string Commune, string Epci, string Departement, string Region);
