using Opportunites.Web.Digests;
using Opportunites.Web.Territories;

namespace Opportunites.Tests.Subscriptions;

/// <summary>
/// DigestOffers.Match (ranks and bit masks) against the rule written plainly with LINQ, on random offers with many ties
/// of dates, for many groups in a row on the same run (its working lists and marks are reused from one group to the
/// next).
/// </summary>
public sealed class DigestOffersTests
{
    private static readonly string[] Kinds = ["aap", "ami", "emploi"];

    // A small hierarchy with an EPCI over two départements (Gironde and Landes) and communes in it.
    private static readonly TerritoryTree Tree = new(new (string Code, string[] Lineage)[]
    {
        ("FR", ["FR"]),
        ("R75", ["FR", "R75"]),
        ("33", ["FR", "R75", "33"]),
        ("40", ["FR", "R75", "40"]),
        ("E1", ["FR", "R75", "33", "40", "E1"]),
        ("C33001", ["FR", "R75", "33", "E1", "C33001"]),
        ("C40001", ["FR", "R75", "40", "E1", "C40001"]),
        ("C33002", ["FR", "R75", "33", "C33002"]),
        ("R11", ["FR", "R11"]),
        ("75", ["FR", "R11", "75"]),
    }.Select(t => new TerritoryInfo { Code = t.Code, Name = t.Code, Level = "commune", Lineage = t.Lineage }));

    private static string[] ScopeOf(string[] codes) =>
        [.. codes.SelectMany(c => Tree.Get(c)!.Lineage).Concat(codes.Select(c => "=" + c)).Distinct()];

    [TestCase(12)]
    [TestCase(70)]
    public void Match_RandomOffersAndGroups_SameItemsOrderAndTotalsAsThePlainRule(int themeCount)
    {
        // 70 themes: more than a 64-bit mask holds, Match compares the strings instead.
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var themes = Enumerable.Range(0, themeCount).Select(i => $"theme-{i}").ToArray();
        var territories = Tree.All.Select(t => t.Code).ToArray();
        var t0 = new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);
        var candidates = Enumerable.Range(1, 600).Select(i => new DigestCandidate
        {
            Id = 1000 + ((i * 7919) % 600),
            Kind = Kinds[random.Next(Kinds.Length)],
            Title = $"Offre {i}",
            // Few distinct instants: many ties, broken by id.
            PublishedAt = t0.AddHours(random.Next(0, 20) * 12),
            ClosesAt = random.Next(10) == 0 ? null : t0.AddDays(random.Next(5, 30)),
            TerritoryCodes = territories.OrderBy(_ => random.Next()).Take(random.Next(1, 3)).ToArray(),
            ThemeCodes = themes.OrderBy(_ => random.Next()).Take(random.Next(0, 4)).ToArray(),
        }).Select(c => new DigestCandidate
        {
            Id = c.Id,
            Kind = c.Kind,
            Title = c.Title,
            PublishedAt = c.PublishedAt,
            ClosesAt = c.ClosesAt,
            TerritoryCodes = c.TerritoryCodes,
            ThemeCodes = c.ThemeCodes,
            TerritoryScope = ScopeOf(c.TerritoryCodes),
        }).ToList();
        var offers = DigestOffers.Create(candidates, Tree);

        for (var g = 0; g < 200; g++)
        {
            var groupTerritories = territories.OrderBy(_ => random.Next()).Take(random.Next(1, 3)).ToArray();
            var groupKinds = Kinds.Append("inconnu").OrderBy(_ => random.Next()).Take(random.Next(1, 4)).ToArray();
            var groupThemes = random.Next(3) == 0 ? [] : themes.Append("theme-absent").OrderBy(_ => random.Next()).Take(random.Next(1, 5)).ToArray();
            var since = t0.AddHours(random.Next(0, 20) * 12);
            var until = since.AddDays(7);
            var hasPrevious = random.Next(2) == 0;
            var closingUntil = t0.AddDays(random.Next(10, 30));
            var window = TimeSpan.FromDays(random.Next(0, 15));
            var max = random.Next(1, 40);

            var includeWider = random.Next(3) != 0;

            var match = offers.Match(groupTerritories, groupKinds, groupThemes, since, hasPrevious, until, closingUntil, window, max,
                includeWider);

            // Local: one of its territories lies within one of the group's; wider: contains one of them.
            bool Local(DigestCandidate c) => c.TerritoryCodes.Any(t => groupTerritories.Any(g => Tree.IsWithin(t, g)));
            bool Wider(DigestCandidate c) => includeWider && c.TerritoryCodes.Any(t => groupTerritories.Any(g => Tree.IsWithin(g, t)));
            // Local first, then the wider ones nearest first: levels between the offer's territory and the group's.
            int Distance(DigestCandidate c) => Local(c) ? 0 : c.TerritoryCodes
                .SelectMany(t => groupTerritories.Where(g => Tree.IsWithin(g, t))
                    .Select(g => Tree.Get(g)!.Lineage.Length - 1 - Array.IndexOf(Tree.Get(g)!.Lineage, t)))
                .Min();
            var matched = candidates.Where(c => (Local(c) || Wider(c)) && groupKinds.Contains(c.Kind)
                                                && (groupThemes.Length == 0 || c.ThemeCodes.Any(groupThemes.Contains))).ToList();
            var fresh = matched.Where(c => c.PublishedAt > since && c.PublishedAt <= until)
                .OrderBy(Distance).ThenByDescending(c => c.PublishedAt).ThenBy(c => c.Id).ToList();
            var closing = matched.Except(fresh)
                .Where(c => c.ClosesAt is { } closes && closes <= closingUntil && !(hasPrevious && c.PublishedAt <= since && closes <= since + window))
                .OrderBy(Distance).ThenBy(c => c.ClosesAt).ThenBy(c => c.Id).ToList();
            var context = $"graine {seed}, groupe {g}";
            Assert.That(match.FreshTotal, Is.EqualTo(fresh.Count), context);
            Assert.That(match.ClosingTotal, Is.EqualTo(closing.Count), context);
            Assert.That(match.Fresh.Select(i => i.Id), Is.EqualTo(fresh.Take(max).Select(c => c.Id)), context);
            Assert.That(match.Closing.Select(i => i.Id), Is.EqualTo(closing.Take(max).Select(c => c.Id)), context);
            Assert.That(match.Fresh.Select(i => i.IsNew).Concat(match.Closing.Select(i => !i.IsNew)), Is.All.True, context);
        }
    }
}
