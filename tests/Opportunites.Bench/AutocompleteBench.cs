using System.Globalization;
using System.Text;
using Npgsql;
using Opportunites.Web.Territories;

namespace Opportunites.Bench;

/// <summary>
/// The territory field's autocomplete (issue 22: <c>GET /api/v1/territoires?q=</c> within 5 ms p99 over the ~37,000
/// names). Queries as people type them, drawn with a seed: the start of a commune's name (communes drawn by population,
/// 2 characters to the whole name, half without accents or hyphens, some lower case), an EPCI's name, a département's
/// name or number, a postal code (whole or its first 2 to 4 digits), an INSEE code. Timed in-process on the app's
/// tree (one thread) and over HTTP against the running app (<see cref="HttpMeasurements"/>, wrk at low concurrency).
/// </summary>
internal static class AutocompleteBench
{
    public const string ApiPath = "/api/v1/territoires?q=";
    public const double P99TargetMs = 5;

    public static IReadOnlyList<string> Queries(TerritoryTree tree, int count, int seed = 5)
    {
        var random = new Random(seed);
        var communes = tree.All.Where(t => t.Level == "commune" && t.Population is > 0).ToArray();
        // Cumulative populations: a binary search draws a commune by population.
        var cumulative = new long[communes.Length];
        long total = 0;
        for (var i = 0; i < communes.Length; i++)
        {
            total += communes[i].Population!.Value;
            cumulative[i] = total;
        }

        var epcis = tree.All.Where(t => t.Level == "epci").ToArray();
        var departements = tree.All.Where(t => t.Level == "departement").ToArray();
        TerritoryInfo Commune()
        {
            var at = Array.BinarySearch(cumulative, (long)(random.NextDouble() * total));
            return communes[Math.Min(communes.Length - 1, at < 0 ? ~at : at)];
        }

        string Typed(string name)
        {
            var length = Math.Min(name.Length, 2 + random.Next(Math.Max(1, name.Length - 1)));
            var text = name[..length];
            var style = random.NextDouble();
            return style < 0.5 ? Plain(text) : style < 0.7 ? text.ToLowerInvariant() : text;
        }

        var queries = new List<string>(count);
        while (queries.Count < count)
        {
            var kind = random.NextDouble();
            var q = kind switch
            {
                < 0.60 => Typed(Commune().Name),
                < 0.70 => Typed(epcis[random.Next(epcis.Length)].Name),
                < 0.78 => random.NextDouble() < 0.5 ? Typed(departements[random.Next(departements.Length)].Name) : departements[random.Next(departements.Length)].Code,
                < 0.95 => Commune().PostalCodes is { Length: > 0 } postal ? postal[0][..(random.NextDouble() < 0.6 ? 5 : 2 + random.Next(3))] : null,
                _ => Commune().InseeCode,
            };
            if (q is { Length: > 0 })
            {
                queries.Add(q);
            }
        }

        return queries;
    }

    /// <summary>The app's search on its in-memory tree, one thread: p50, p99 and max in milliseconds.</summary>
    public static (double P50, double P99, double Max) MeasureInProcess(TerritoryTree tree, IReadOnlyList<string> queries)
    {
        foreach (var q in queries)
        {
            tree.Search(q); // warm-up: the optimised JIT tier
        }

        var samples = new double[queries.Count];
        for (var i = 0; i < queries.Count; i++)
        {
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            tree.Search(queries[i]);
            samples[i] = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(samples);
        return (samples[samples.Length / 2], samples[Math.Min(samples.Length - 1, (int)(samples.Length * 0.99))], samples[^1]);
    }

    public static async Task RunAsync(NpgsqlDataSource db, Report report, string file, int count = 2_000)
    {
        var tree = await TerritoryTree.LoadAsync(db);
        var queries = Queries(tree, count);
        await File.WriteAllLinesAsync(file, queries.Select(q => ApiPath + Uri.EscapeDataString(q)));
        var (p50, p99, max) = MeasureInProcess(tree, queries);
        report.Add("autocomplétion territoires, en mémoire : p50", $"{queries.Count:N0} saisies (noms, codes postaux, INSEE), {tree.Count:N0} territoires, TerritoryTree.Search, un fil",
            p50, "ms");
        report.Add("autocomplétion territoires, en mémoire : p99", $"max {max.ToString("0.###", CultureInfo.InvariantCulture)} ms", p99, "ms");
    }

    private static string Plain(string text)
    {
        var sb = new StringBuilder();
        foreach (var c in text.Normalize(NormalizationForm.FormD))
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark)
            {
                sb.Append(c is '-' or '\'' ? ' ' : c);
            }
        }

        return sb.ToString().Normalize(NormalizationForm.FormC).ToLowerInvariant();
    }
}
