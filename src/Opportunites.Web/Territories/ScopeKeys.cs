namespace Opportunites.Web.Territories;

/// <summary>
/// The keys of the offers' scopes (migration 0082) that a search for some territories reads, both ways through the
/// hierarchy: each territory itself (its offers and those of everything it contains, whose scope holds its code) and,
/// when wider offers are wanted, '=' + each of its ancestors (offers made for a territory containing it: its EPCI,
/// département, région, France). The board, its feeds and the digests all match this way.
/// </summary>
public static class ScopeKeys
{
    /// <param name="lineages">The searched territories' lineages (ancestors and self, root first).</param>
    /// <param name="includeWider">False: "seulement ce territoire et ce qu'il contient".</param>
    /// <returns>The local keys (the territories; one inside another searched one is kept: an EPCI over two
    /// départements is in the lineage of both without lying wholly in either) and the wider ones; both sorted, so that
    /// equal searches give equal statements.</returns>
    public static (string[] Local, string[] Wider) For(IReadOnlyCollection<string[]> lineages, bool includeWider)
    {
        var searched = lineages.Where(l => l.Length > 0).Select(l => l[^1]).ToHashSet(StringComparer.Ordinal);
        var local = searched.Order(StringComparer.Ordinal).ToArray();
        if (!includeWider)
        {
            return (local, []);
        }

        var wider = lineages.SelectMany(l => l.Length > 0 ? l[..^1] : [])
            .Where(a => !searched.Contains(a))
            .Distinct().Order(StringComparer.Ordinal).Select(a => "=" + a).ToArray();
        return (local, wider);
    }

    /// <summary>Local keys then wider ones: what an offer's scope must overlap to match.</summary>
    public static string[] All((string[] Local, string[] Wider) keys) => [.. keys.Local, .. keys.Wider];
}
