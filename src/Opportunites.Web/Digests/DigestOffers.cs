using Dapper;
using Npgsql;
using Opportunites.Web.Board;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Digests;

/// <summary>An open offer that may appear in a digest of the run (published in some window, or closing soon).</summary>
public sealed class DigestCandidate
{
    public long Id { get; init; }
    public string Kind { get; init; } = "";
    public string Title { get; init; } = "";
    public string IssuerName { get; init; } = "";
    public DateOnly? DeadlineDate { get; init; }
    public DateTime? ClosesAt { get; init; }
    public DateTime PublishedAt { get; init; }
    public string[] TerritoryCodes { get; init; } = [];

    /// <summary>Its scope (migration 0082): its territories and their ancestors, and its territories as '=' keys.</summary>
    public string[] TerritoryScope { get; init; } = [];

    /// <summary>In the board's order (<see cref="Board.TerritoryOrder"/>): larger territories first, then by name.</summary>
    public string[] TerritoryLabels { get; internal set; } = [];
    public string[] ThemeCodes { get; init; } = [];

    /// <summary>Position in the run's list: marks "already seen for this group" without a set per group.</summary>
    internal int Index { get; set; }

    /// <summary>Position among the run's offers newest first, and soonest deadline first (ties by id).</summary>
    internal int NewestRank { get; set; }

    internal int SoonestRank { get; set; }

    /// <summary>Its kind and themes as bits of the run (<see cref="DigestOffers"/>).</summary>
    internal ulong KindMask { get; set; }

    internal ulong ThemeMask { get; set; }

    /// <summary>This offer as a new item and as a closing one, made once per run: every group listing it shares them,
    /// and with them the lines DigestRenderer writes for it (<see cref="DigestItem.Lines"/>).</summary>
    internal DigestItem? AsNew { get; set; }

    internal DigestItem? AsClosing { get; set; }

    /// <summary>deadline_sort: the closing instant, or last when there is no deadline.</summary>
    internal DateTime DeadlineSort => ClosesAt ?? DateTime.MaxValue;
}

/// <summary>What one preference group gets: the listed offers of each section and the section totals.</summary>
public sealed record DigestMatch(IReadOnlyList<DigestItem> Fresh, IReadOnlyList<DigestItem> Closing, int FreshTotal, int ClosingTotal);

/// <summary>
/// The offers of one digest run, read once (a bounded set: open offers published since the earliest window start,
/// or closing soon), indexed by territory; each preference group is then matched in memory. At national scale one SQL
/// match per group read ~1,400 rows and ~10,000 heap pages per group (11 s for 50 groups, issue 8 benchmark); the
/// candidates are ~15,000 rows read once, whatever the number of subscribers.
/// </summary>
public sealed class DigestOffers
{
    private readonly TerritoryTree _tree;

    // The candidates by scope key: a group reads its territories' keys and, unless it wants local offers only, the
    // '=' keys of their ancestors (ScopeKeys, as the board), a handful of lists whatever the level.
    private readonly Dictionary<string, List<DigestCandidate>> _byKey = new(StringComparer.Ordinal);
    private readonly int[] _seenBy;
    private int _stamp;

    // The candidates in each section's order, once per run. A group's matches are marked by rank in a bit set and its
    // first items read from the lowest bits: sorting them, through a date-then-id delegate, was half of Match's time
    // (CPU profile of a 100,000-subscriber run: Match ~18 % of the application's CPU, its sorts 9 %), and sorting
    // their ranks still 4 % (a national group matches nearly every offer of the run, for 40 items shown).
    private readonly DigestCandidate[] _byNewestFirst;
    private readonly DigestCandidate[] _bySoonestFirst;
    // The marks by distance: [0] the local offers (of the group's territories and what they contain), [d] the offers
    // made for a territory d levels above one of the group's (its EPCI, département, région, France), listed in that
    // order: nearest first.
    private readonly List<ulong[]> _fresh = [];
    private readonly List<ulong[]> _closing = [];
    private readonly int _words;

    // Kinds and themes as bits (a handful of each): a group's filter is then one AND per candidate instead of string
    // comparisons. Null when a run has more than 64 of either (never so far): Match then compares the strings.
    private readonly Dictionary<string, int>? _kindBits;
    private readonly Dictionary<string, int>? _themeBits;

    private DigestOffers(IReadOnlyList<DigestCandidate> candidates, TerritoryTree tree)
    {
        _tree = tree;
        _seenBy = new int[candidates.Count];
        _kindBits = Bits(candidates.Select(c => c.Kind));
        _themeBits = Bits(candidates.SelectMany(c => c.ThemeCodes));
        for (var i = 0; i < candidates.Count; i++)
        {
            var c = candidates[i];
            c.Index = i;
            c.KindMask = Mask(_kindBits, [c.Kind]);
            c.ThemeMask = Mask(_themeBits, c.ThemeCodes);
            foreach (var key in c.TerritoryScope)
            {
                if (!_byKey.TryGetValue(key, out var list))
                {
                    _byKey[key] = list = [];
                }

                list.Add(c);
            }
        }

        _words = (candidates.Count + 63) / 64;
        _byNewestFirst = [.. candidates];
        Array.Sort(_byNewestFirst, NewestFirst);
        _bySoonestFirst = [.. candidates];
        Array.Sort(_bySoonestFirst, SoonestFirst);
        for (var i = 0; i < candidates.Count; i++)
        {
            _byNewestFirst[i].NewestRank = i;
            _bySoonestFirst[i].SoonestRank = i;
        }
    }

    /// <summary>The offers of a run as read by <see cref="LoadAsync"/> (the tests give them directly).</summary>
    internal static DigestOffers Create(IReadOnlyList<DigestCandidate> candidates, TerritoryTree tree) => new(candidates, tree);

    private static Dictionary<string, int>? Bits(IEnumerable<string> values)
    {
        var bits = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            if (!bits.ContainsKey(value))
            {
                if (bits.Count == 64)
                {
                    return null;
                }

                bits[value] = bits.Count;
            }
        }

        return bits;
    }

    private static ulong Mask(Dictionary<string, int>? bits, IEnumerable<string> values)
    {
        var mask = 0UL;
        if (bits is not null)
        {
            foreach (var value in values)
            {
                // A group's kind or theme that no candidate has: no bit, no candidate matches it.
                if (bits.TryGetValue(value, out var bit))
                {
                    mask |= 1UL << bit;
                }
            }
        }

        return mask;
    }

    public int Count => _seenBy.Length;

    // Open offers that are new in some window starting at or after @since, or that close soon. deadline_sort equals
    // closes_at when there is a deadline (infinity otherwise), so the closing test uses the board's (deadline_sort, id)
    // index and the new test the (published_at) one. @scopeKeys narrows the read to one group (the preview). Territory
    // names come from TerritoryOrder: a subquery per offer over the territories table was 0.45 s of a 0.8 s read
    // (EXPLAIN ANALYZE, ~15,000 offers).
    private const string CandidatesSql = """
        SELECT o.id, o.kind, o.title, o.issuer_name, o.deadline_date, o.closes_at, o.published_at, o.territory_codes,
               o.territory_scope,
               ARRAY(SELECT ot.theme_code FROM opportunity_themes ot WHERE ot.opportunity_id = o.id) AS theme_codes
        FROM opportunities o
        WHERE o.status = 'published' AND o.deadline_sort > @now
          AND ((o.published_at > @since AND o.published_at <= @until) OR o.deadline_sort <= @closingUntil)
          AND (NOT @filtered OR o.territory_scope && @scopeKeys)
        """;

    /// <param name="territories">Null: every offer of the run; otherwise only those matching these territories.</param>
    public static async Task<DigestOffers> LoadAsync(NpgsqlConnection conn, TerritoryTree tree, DateTimeOffset now,
        DateTimeOffset since, DateTimeOffset until, DateTimeOffset closingUntil, IReadOnlyCollection<string>? territories,
        CancellationToken ct)
    {
        var order = await TerritoryOrder.LoadAsync(conn, tree, ct);
        var scopeKeys = territories is null ? [] : ScopeKeys.All(KeysOf(tree, territories, includeWider: true));
        var candidates = (await conn.QueryAsync<DigestCandidate>(new CommandDefinition(CandidatesSql, new
        {
            now,
            since,
            until,
            closingUntil,
            filtered = territories is not null,
            scopeKeys,
        }, commandTimeout: 0, cancellationToken: ct))).AsList();
        foreach (var c in candidates)
        {
            c.TerritoryLabels = [.. order.Sort(c.TerritoryCodes).Codes.Select(code => order.Label(code)!)];
        }

        return new DigestOffers(candidates, tree);
    }

    private static (string[] Local, string[] Wider) KeysOf(TerritoryTree tree, IEnumerable<string> territories, bool includeWider) =>
        ScopeKeys.For([.. territories.Select(t => tree.Get(t)?.Lineage ?? [t])], includeWider);

    /// <summary>
    /// The offers of a group: in one of its territories' match sets, of one of its kinds and (when it has themes) of one
    /// of its themes; new when published in (since, until], otherwise listed when closing by <paramref name="closingUntil"/>
    /// unless the previous digest already listed it as closing (published by then and closing within its window).
    /// Local offers (of its territories and what they contain) come first in each section, then the wider ones
    /// (<paramref name="includeWider"/>: of the territories containing its own, as the board's "portee"), nearest first:
    /// its EPCI's, then its département's, its région's, and the national ones.
    /// </summary>
    public DigestMatch Match(IReadOnlyList<string> territories, IReadOnlyList<string> kinds, IReadOnlyList<string> themes,
        DateTime since, bool hasPrevious, DateTime until, DateTime closingUntil, TimeSpan previousClosingWindow, int max,
        bool includeWider = true)
    {
        _stamp++;
        int freshTotal = 0, closingTotal = 0;
        var previousClosingEnd = since + previousClosingWindow;
        var masks = _kindBits is not null && _themeBits is not null;
        var kindMask = Mask(_kindBits, kinds);
        var themeMask = Mask(_themeBits, themes);
        var (localKeys, widerKeys) = KeysOf(_tree, territories, includeWider);
        var distances = 0;
        foreach (var (distance, keys) in ByDistance(territories, localKeys, widerKeys))
        {
            while (_fresh.Count <= distance)
            {
                _fresh.Add(new ulong[_words]);
                _closing.Add(new ulong[_words]);
            }

            distances = Math.Max(distances, distance + 1);
            var fresh = _fresh[distance];
            var closing = _closing[distance];
            foreach (var code in keys)
            {
                if (!_byKey.TryGetValue(code, out var list))
                {
                    continue;
                }

                foreach (var c in list)
                {
                    if (_seenBy[c.Index] == _stamp)
                    {
                        continue;
                    }

                    _seenBy[c.Index] = _stamp;
                    if (masks
                            ? (c.KindMask & kindMask) == 0 || (themes.Count > 0 && (c.ThemeMask & themeMask) == 0)
                            : !Contains(kinds, c.Kind) || (themes.Count > 0 && !c.ThemeCodes.Any(t => Contains(themes, t))))
                    {
                        continue;
                    }

                    if (c.PublishedAt > since && c.PublishedAt <= until)
                    {
                        fresh[c.NewestRank >> 6] |= 1UL << c.NewestRank;
                        freshTotal++;
                    }
                    else if (c.ClosesAt is { } closes && closes <= closingUntil
                             && !(hasPrevious && c.PublishedAt <= since && closes <= previousClosingEnd))
                    {
                        closing[c.SoonestRank >> 6] |= 1UL << c.SoonestRank;
                        closingTotal++;
                    }
                }
            }
        }

        // Within each distance, newest first for the new ones, soonest deadline first for the closing ones, ties by id:
        // the ranks' order.
        var freshItems = new List<DigestItem>(Math.Min(max, freshTotal));
        var closingItems = new List<DigestItem>(Math.Min(max, closingTotal));
        for (var d = 0; d < distances; d++)
        {
            Top(_fresh[d], _byNewestFirst, Math.Min(max, freshTotal), isNew: true, freshItems);
            Top(_closing[d], _bySoonestFirst, Math.Min(max, closingTotal), isNew: false, closingItems);
        }

        return new DigestMatch(freshItems, closingItems, freshTotal, closingTotal);
    }

    /// <summary>
    /// The keys to read, by distance from the group's territories: 0 for their own (local) keys, then each wider key
    /// ('=' + an ancestor) at the fewest levels it lies above one of them.
    /// </summary>
    private IEnumerable<(int Distance, string[] Keys)> ByDistance(IReadOnlyList<string> territories, string[] local, string[] wider)
    {
        yield return (0, local);
        if (wider.Length == 0)
        {
            yield break;
        }

        var distance = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in territories)
        {
            var lineage = _tree.Get(t)?.Lineage ?? [t];
            for (var i = 0; i < lineage.Length - 1; i++)
            {
                var key = "=" + lineage[i];
                var d = lineage.Length - 1 - i;
                if (!distance.TryGetValue(key, out var known) || d < known)
                {
                    distance[key] = d;
                }
            }
        }

        foreach (var level in wider.GroupBy(k => distance.GetValueOrDefault(k, 1)).OrderBy(g => g.Key))
        {
            yield return (level.Key, level.ToArray());
        }
    }

    /// <summary>Adds to <paramref name="items"/> the lowest ranks marked in <paramref name="marks"/> until it holds
    /// <paramref name="count"/>, and clears the marks for the next group.</summary>
    private static void Top(ulong[] marks, DigestCandidate[] ordered, int count, bool isNew, List<DigestItem> items)
    {
        for (var w = 0; w < marks.Length && items.Count < count; w++)
        {
            for (var word = marks[w]; word != 0 && items.Count < count; word &= word - 1)
            {
                items.Add(Item(ordered[(w << 6) + System.Numerics.BitOperations.TrailingZeroCount(word)], isNew));
            }
        }

        Array.Clear(marks);
    }

    private static readonly Comparison<DigestCandidate> NewestFirst = (a, b) =>
        b.PublishedAt.CompareTo(a.PublishedAt) is var c and not 0 ? c : a.Id.CompareTo(b.Id);

    private static readonly Comparison<DigestCandidate> SoonestFirst = (a, b) =>
        a.DeadlineSort.CompareTo(b.DeadlineSort) is var c and not 0 ? c : a.Id.CompareTo(b.Id);

    private static bool Contains(IReadOnlyList<string> values, string value)
    {
        for (var i = 0; i < values.Count; i++)
        {
            if (string.Equals(values[i], value, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static DigestItem Item(DigestCandidate c, bool isNew) =>
        isNew ? c.AsNew ??= NewItem(c, true) : c.AsClosing ??= NewItem(c, false);

    private static DigestItem NewItem(DigestCandidate c, bool isNew) => new()
    {
        Id = c.Id,
        Kind = c.Kind,
        Title = c.Title,
        IssuerName = c.IssuerName,
        DeadlineDate = c.DeadlineDate,
        ClosesAt = c.ClosesAt,
        PublishedAt = c.PublishedAt,
        IsNew = isNew,
        TerritoryLabels = c.TerritoryLabels,
    };
}
