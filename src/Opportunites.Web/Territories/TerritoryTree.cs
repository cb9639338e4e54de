using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Dapper;
using Npgsql;

namespace Opportunites.Web.Territories;

/// <summary>A territory as the tree holds it (a class: Dapper maps text[] columns to properties).</summary>
public sealed class TerritoryInfo
{
    public string Code { get; init; } = "";
    public string InseeCode { get; init; } = "";
    public string Name { get; init; } = "";
    public string Level { get; init; } = "";
    public string? ParentCode { get; init; }

    /// <summary>Ancestors and self, root first: {FR, R75, 33, E243300316, C33039} for Bègles.</summary>
    public string[] Lineage { get; init; } = [];

    public string[] PostalCodes { get; init; } = [];
    public int? Population { get; init; }
    public string? Siren { get; init; }

    /// <summary>The département that labels it (its own code for a département; the main one of an EPCI); null above.</summary>
    public string? DepartementCode { get; internal set; }

    public string? RegionCode { get; internal set; }

    /// <summary>How a région's or département's name takes an article (INSEE: 2 "le", 3 "la", 4 "les", 5 "l'"); null below.</summary>
    public short? NameArticle { get; init; }

    /// <summary>"Where" in words, for titles: "en Gironde", "dans les Landes", "à Bègles", "au Bouscat", "en France".</summary>
    public string In => Level switch
    {
        "pays" => "en " + Name,
        "region" or "departement" => NameArticle switch
        {
            2 => "dans le " + Name,
            4 => "dans les " + Name,
            5 => "dans l'" + Name,
            // No article: "à Paris", "à Mayotte", "à La Réunion", "à Saint-Martin"; otherwise "en Maine-et-Loire".
            0 when Name is "Paris" or "Mayotte" || Name.StartsWith("La ", StringComparison.Ordinal)
                || Name.StartsWith("Saint-", StringComparison.Ordinal) || Name.StartsWith("Wallis", StringComparison.Ordinal) => "à " + Name,
            _ => "en " + Name,
        },
        "epci" => Name.StartsWith("C", StringComparison.Ordinal) && Name.Length > 2 && Name[2] == ' ' ? "dans la " + Name : "dans " + Name,
        _ when Name.StartsWith("Le ", StringComparison.Ordinal) => "au " + Name[3..],
        _ when Name.StartsWith("Les ", StringComparison.Ordinal) => "aux " + Name[4..],
        _ => "à " + Name,
    };

    /// <summary>The one way every page, form, email and API names it: "Bègles (33)", "Gironde (33)", "Nouvelle-Aquitaine (région)".</summary>
    public string Label { get; internal set; } = "";

    /// <summary>Ancestors without self, root first.</summary>
    public ReadOnlySpan<string> Ancestors => Lineage.AsSpan(0, Math.Max(0, Lineage.Length - 1));

    /// <summary>0 France, 1 région, 2 département, 3 EPCI, 4 commune: larger first in lists.</summary>
    public int LevelRank => TerritoryTree.RankOf(Level);
}

/// <summary>
/// Every French territory (France, régions, départements, EPCI, communes, municipal arrondissements: ~36,400 rows from
/// migrations, tools/territories) held in memory once per process: finding a name as it is typed, resolving a code,
/// a postal code or a SIREN, and walking the hierarchy both ways never needs a query. ~10 MB.
/// </summary>
public sealed class TerritoryTree
{
    private readonly Dictionary<string, TerritoryInfo> _byCode;
    private readonly Dictionary<string, List<TerritoryInfo>> _byPostalCode = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TerritoryInfo> _bySiren = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<TerritoryInfo>> _byFoldedName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<TerritoryInfo>> _contained = new(StringComparer.Ordinal);

    // Every word start of every folded name ("mont de marsan", "de marsan", "marsan"), sorted: a typed prefix is a
    // binary search and a short range, whatever the number of names.
    // Rank is the part of a name match's score that depends on the territory only (level, then population). Whole
    // names and later word starts apart: a name starting with the text always beats one with a later word doing so,
    // so the second range is read only when the first gave too few.
    private readonly (string Key, int Index, bool Whole, long Rank)[] _names;
    private readonly (string Key, int Index, bool Whole, long Rank)[] _words;
    private readonly TerritoryInfo[] _all;

    public TerritoryTree(IEnumerable<TerritoryInfo> territories)
    {
        _all = [.. territories.OrderBy(t => t.Lineage.Length).ThenBy(t => t.Code, StringComparer.Ordinal)];
        _byCode = _all.ToDictionary(t => t.Code, StringComparer.OrdinalIgnoreCase);
        var words = new List<(string, int, bool, long)>(_all.Length * 3);
        for (var i = 0; i < _all.Length; i++)
        {
            var t = _all[i];
            t.DepartementCode = t.Level switch
            {
                "departement" => t.Code,
                "epci" => t.ParentCode,
                "commune" => t.Lineage.Length > 2 ? t.Lineage[2] : null,
                _ => null,
            };
            t.RegionCode = t.Level == "region" ? t.Code : t.DepartementCode is { } d && _byCode.TryGetValue(d, out var dep) ? dep.ParentCode : null;
            t.Label = LabelOf(t);
            foreach (var postal in t.PostalCodes)
            {
                Add(_byPostalCode, postal, t);
            }

            if (t.Siren is { Length: > 0 } siren)
            {
                _bySiren.TryAdd(siren, t);
            }

            foreach (var ancestor in t.Ancestors)
            {
                Add(_contained, ancestor, t);
            }

            var folded = Fold(t.Name);
            Add(_byFoldedName, folded, t);
            for (var at = 0; at < folded.Length; at++)
            {
                if (at == 0 || folded[at - 1] == ' ')
                {
                    words.Add((folded[at..], i, at == 0, ((long)t.LevelRank << 36) | (0xFFFFFFFL - Math.Min(t.Population ?? 0, 0xFFFFFFF))));
                }
            }
        }

        words.Sort((a, b) => string.CompareOrdinal(a.Item1, b.Item1));
        _names = [.. words.Where(w => w.Item3)];
        _words = [.. words.Where(w => !w.Item3)];
    }

    private static void Add(Dictionary<string, List<TerritoryInfo>> map, string key, TerritoryInfo t)
    {
        if (!map.TryGetValue(key, out var list))
        {
            map[key] = list = [];
        }

        list.Add(t);
    }

    public IReadOnlyList<TerritoryInfo> All => _all;

    public int Count => _all.Length;

    public static int RankOf(string level) => level switch
    {
        "pays" => 0,
        "region" => 1,
        "departement" => 2,
        "epci" => 3,
        _ => 4,
    };

    private static string LabelOf(TerritoryInfo t) => t.Level switch
    {
        "pays" => t.Name,
        "region" => $"{t.Name} (région)",
        "departement" => $"{t.Name} ({t.Code})",
        _ => t.DepartementCode is { } d ? $"{t.Name} ({d})" : t.Name,
    };

    private const string LoadSql = """
        SELECT code, insee_code, name, level, parent_code, lineage, postal_codes, population, siren, name_article FROM territories
        """;

    private static readonly ConcurrentDictionary<string, Lazy<Task<TerritoryTree>>> Loaded = new(StringComparer.Ordinal);

    /// <summary>
    /// The tree of this database, read once per process (fixed data: only migrations change it; a new INSEE year is a
    /// new migration and a restart).
    /// </summary>
    public static Task<TerritoryTree> LoadAsync(NpgsqlDataSource db) =>
        Loaded.GetOrAdd(db.ConnectionString, _ => new Lazy<Task<TerritoryTree>>(() => ReadAsync(db))).Value;

    private static async Task<TerritoryTree> ReadAsync(NpgsqlDataSource db)
    {
        try
        {
            await using var conn = await db.OpenConnectionAsync();
            return new TerritoryTree(await conn.QueryAsync<TerritoryInfo>(LoadSql));
        }
        catch
        {
            // A failed read (database not migrated yet, down) is not remembered: the next call tries again.
            Loaded.TryRemove(db.ConnectionString, out _);
            throw;
        }
    }

    public TerritoryInfo? Get(string? code) => code is not null && _byCode.TryGetValue(code.Trim(), out var t) ? t : null;

    /// <summary>What <paramref name="code"/> contains, at any depth (a région's départements, EPCI and communes).</summary>
    public IReadOnlyList<TerritoryInfo> Contained(string code) => _contained.TryGetValue(code, out var list) ? list : [];

    /// <summary>Whether <paramref name="inner"/> is <paramref name="outer"/> or lies inside it.</summary>
    public bool IsWithin(string inner, string outer) =>
        Get(inner) is { } t && Array.IndexOf(t.Lineage, Get(outer)?.Code ?? outer) >= 0;

    /// <summary>
    /// The territories a text designates exactly: a code (33, R75, FR, C33039, E243300316), a postal code (33130,
    /// several communes may share one), an INSEE code (33039), a SIREN, a name (any case, accents, hyphens, "st" for
    /// "saint") or a label ("Saint-Denis (974)", "Gironde (33)"). Several for homonyms, larger and more populous first.
    /// </summary>
    public IReadOnlyList<TerritoryInfo> ResolveCandidates(string? text) => Candidates(text, inseeBehindPostal: false);

    // Five characters are first a postal code (what people type): the commune whose INSEE code they also are (33130 is
    // Bègles' postal code and Coimères' INSEE code) is a candidate only when no commune has that postal code, or for
    // the autocomplete, which lists it after them.
    private List<TerritoryInfo> Candidates(string? text, bool inseeBehindPostal)
    {
        var (name, hint) = SplitLabel(text);
        if (name.Length == 0)
        {
            return [];
        }

        var found = new List<TerritoryInfo>();
        if (Get(name) is { } byCode && (hint is null || Matches(byCode, hint)))
        {
            found.Add(byCode);
        }

        var compact = name.Replace(" ", "", StringComparison.Ordinal);
        if (compact.Length == 5 && compact.All(char.IsAsciiLetterOrDigit))
        {
            if (_byPostalCode.TryGetValue(compact, out var byPostal))
            {
                found.AddRange(byPostal.OrderByDescending(t => t.Population ?? 0));
            }

            // The INSEE code of a commune (2A004 too).
            if ((byPostal is null || inseeBehindPostal) && Get("C" + compact) is { } byInsee)
            {
                found.Add(byInsee);
            }
        }
        else if (compact.Length == 9 && compact.All(char.IsAsciiDigit) && _bySiren.TryGetValue(compact, out var bySiren))
        {
            found.Add(bySiren);
        }

        if (_byFoldedName.TryGetValue(SearchFold(name), out var byName))
        {
            found.AddRange(byName.Where(t => hint is null || Matches(t, hint))
                .OrderBy(t => t.LevelRank).ThenByDescending(t => t.Population ?? 0));
        }

        return found.Distinct().ToList();
    }

    /// <summary>The one territory a text designates; for homonyms the larger, then the more populous (see <see cref="ResolveCandidates"/>).</summary>
    public TerritoryInfo? Resolve(string? text) => ResolveCandidates(text) is { Count: > 0 } c ? c[0] : null;

    /// <summary>
    /// Autocomplete: exact codes (département number, INSEE, postal code, SIREN) first, then names whose start matches
    /// what was typed, then names with a word starting with it; larger territories, then more populous, first.
    /// </summary>
    public IReadOnlyList<TerritoryInfo> Search(string? text, int limit = 10) => SearchList(text, limit);

    private List<TerritoryInfo> SearchList(string? text, int limit)
    {
        limit = Math.Clamp(limit, 1, 50);
        var exact = Candidates(text, inseeBehindPostal: true);
        var result = new List<TerritoryInfo>(limit);
        result.AddRange(exact.Take(limit));
        var (name, hint) = SplitLabel(text);
        var q = SearchFold(name);
        if (result.Count >= limit || q.Length == 0)
        {
            return result;
        }

        // A short prefix ("s", "saint") spans thousands of names: its answer is kept (a few thousand such prefixes at
        // most are ever typed, bounded below), so the autocomplete's first keystrokes cost a lookup.
        var cacheable = hint is null && exact.Count == 0 && q.Length <= ShortPrefix;
        if (cacheable && _shortAnswers.TryGetValue((q, limit), out var known))
        {
            return known;
        }

        // Every key starting with q sorts between q and q followed by the last character.
        var best = new List<(long Score, TerritoryInfo T)>(limit + 1);
        AddBest(_names, q, hint, limit, best);
        if (best.Count < limit)
        {
            AddBest(_words, q, hint, limit, best);
        }

        foreach (var (_, t) in best)
        {
            if (result.Count == limit)
            {
                break;
            }

            if (!result.Contains(t))
            {
                result.Add(t);
            }
        }

        if (cacheable && _shortAnswers.Count < MaxShortAnswers)
        {
            _shortAnswers.TryAdd((q, limit), result);
        }

        return result;
    }

    /// <summary>Keeps in <paramref name="best"/> the best <paramref name="limit"/> territories of the keys starting with
    /// <paramref name="q"/>, deduplicated, without sorting the whole range.</summary>
    private void AddBest((string Key, int Index, bool Whole, long Rank)[] keys, string q, string? hint, int limit,
        List<(long Score, TerritoryInfo T)> best)
    {
        var end = LowerBound(keys, q + char.MaxValue);
        for (var i = LowerBound(keys, q); i < end; i++)
        {
            var (key, index, whole, rank) = keys[i];
            var score = ((whole ? key.Length == q.Length ? 0L : 1L : 2L) << 40) | rank;
            if (best.Count == limit && best[^1].Score <= score)
            {
                continue;
            }

            var t = _all[index];
            if (hint is not null && !Matches(t, hint))
            {
                continue;
            }

            var at = IndexOf(best, t);
            if (at >= 0)
            {
                if (best[at].Score <= score)
                {
                    continue;
                }

                best.RemoveAt(at);
            }

            var pos = best.FindIndex(b => b.Score > score);
            best.Insert(pos < 0 ? best.Count : pos, (score, t));
            if (best.Count > limit)
            {
                best.RemoveAt(best.Count - 1);
            }
        }
    }

    private const int ShortPrefix = 5;
    private const int MaxShortAnswers = 50_000;
    private readonly ConcurrentDictionary<(string, int), List<TerritoryInfo>> _shortAnswers = new();

    private static int IndexOf(List<(long Score, TerritoryInfo T)> best, TerritoryInfo t)
    {
        for (var i = 0; i < best.Count; i++)
        {
            if (best[i].T == t)
            {
                return i;
            }
        }

        return -1;
    }

    private static int LowerBound((string Key, int Index, bool Whole, long Rank)[] keys, string q)
    {
        int lo = 0, hi = keys.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (string.CompareOrdinal(keys[mid].Key, q) < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    // "Saint-Denis (974)": the name, and what tells homonyms apart (a département, a code, "région").
    private static (string Name, string? Hint) SplitLabel(string? text)
    {
        var s = new string((text ?? "").Select(c => char.IsControl(c) ? ' ' : c).ToArray()).Trim();
        if (s.EndsWith(')') && s.LastIndexOf('(') is var open and > 0)
        {
            var hint = s[(open + 1)..^1].Trim();
            if (hint.Length is > 0 and <= 12)
            {
                return (s[..open].Trim(), hint);
            }
        }

        return (s, null);
    }

    private static bool Matches(TerritoryInfo t, string hint) =>
        Fold(hint) switch
        {
            "region" => t.Level == "region",
            "france" or "pays" => t.Level == "pays",
            _ => string.Equals(t.Code, hint, StringComparison.OrdinalIgnoreCase)
                 || string.Equals(t.DepartementCode, hint, StringComparison.OrdinalIgnoreCase)
                 || t.Lineage.Contains(hint.ToUpperInvariant(), StringComparer.Ordinal),
        };

    // Abbreviations people write for what official names spell out, and the reverse for EPCI ("CC", "CA", "CU").
    private static readonly (string From, string To)[] Abbreviations =
    [
        ("st", "saint"),
        ("ste", "sainte"),
        ("sts", "saints"),
        ("stes", "saintes"),
    ];

    private static readonly (string From, string To)[] EpciWords =
    [
        ("communaute de communes", "cc"),
        ("communaute d agglomeration", "ca"),
        ("communaute urbaine", "cu"),
    ];

    /// <summary>The folded form used to compare names: <see cref="Fold"/>, "st"/"ste" spelled out, EPCI types abbreviated as INSEE does.</summary>
    public static string SearchFold(string text)
    {
        var folded = Fold(text);
        if (folded.Length == 0)
        {
            return folded;
        }

        var words = folded.Split(' ');
        for (var i = 0; i < words.Length; i++)
        {
            foreach (var (from, to) in Abbreviations)
            {
                if (words[i] == from)
                {
                    words[i] = to;
                }
            }
        }

        folded = string.Join(' ', words);
        foreach (var (from, to) in EpciWords)
        {
            if (folded.StartsWith(from + " ", StringComparison.Ordinal))
            {
                folded = to + folded[from.Length..];
            }
        }

        return folded;
    }

    /// <summary>Lower case, no accents, hyphens and apostrophes as spaces, single spaces: "Deux-Sèvres" = "deux sevres".</summary>
    public static string Fold(string text)
    {
        var lower = text.Trim().ToLowerInvariant();
        string decomposed;
        try
        {
            decomposed = lower.Normalize(NormalizationForm.FormD);
        }
        catch (ArgumentException)
        {
            // A lone surrogate (hostile input) cannot be normalised; it names no place either way.
            decomposed = lower;
        }

        var sb = new StringBuilder(decomposed.Length);
        var space = false;
        foreach (var c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark)
            {
                continue;
            }

            if (c == 'œ')
            {
                sb.Append("oe");
                space = false;
            }
            else if (c == 'æ')
            {
                sb.Append("ae");
                space = false;
            }
            else if (char.IsLetterOrDigit(c))
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
