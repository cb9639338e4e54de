using Opportunites.Web.Digests;

namespace Opportunites.Tests.Subscriptions;

/// <summary>
/// DigestOffers.Match (ranks and bit masks) against the rule written plainly with LINQ, on random offers with many ties
/// of dates, for many groups in a row on the same run (its working lists and marks are reused from one group to the
/// next).
/// </summary>
public sealed class DigestOffersTests
{
    private static readonly string[] Kinds = ["aap", "ami", "emploi"];

    private static readonly Dictionary<string, string[]> MatchSets = new()
    {
        ["FR"] = ["FR", "R75", "33", "40", "R11", "75"],
        ["R75"] = ["FR", "R75", "33", "40"],
        ["33"] = ["FR", "R75", "33"],
        ["40"] = ["FR", "R75", "40"],
        ["R11"] = ["FR", "R11", "75"],
        ["75"] = ["FR", "R11", "75"],
    };

    [TestCase(12)]
    [TestCase(70)]
    public void Match_RandomOffersAndGroups_SameItemsOrderAndTotalsAsThePlainRule(int themeCount)
    {
        // 70 themes: more than a 64-bit mask holds, Match compares the strings instead.
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var themes = Enumerable.Range(0, themeCount).Select(i => $"theme-{i}").ToArray();
        var territories = MatchSets.Keys.ToArray();
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
        }).ToList();
        var offers = DigestOffers.Create(candidates, MatchSets);

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

            var match = offers.Match(groupTerritories, groupKinds, groupThemes, since, hasPrevious, until, closingUntil, window, max);

            var codes = groupTerritories.SelectMany(t => MatchSets[t]).ToHashSet();
            var matched = candidates.Where(c => c.TerritoryCodes.Any(codes.Contains) && groupKinds.Contains(c.Kind)
                                                && (groupThemes.Length == 0 || c.ThemeCodes.Any(groupThemes.Contains))).ToList();
            var fresh = matched.Where(c => c.PublishedAt > since && c.PublishedAt <= until)
                .OrderByDescending(c => c.PublishedAt).ThenBy(c => c.Id).ToList();
            var closing = matched.Except(fresh)
                .Where(c => c.ClosesAt is { } closes && closes <= closingUntil && !(hasPrevious && c.PublishedAt <= since && closes <= since + window))
                .OrderBy(c => c.ClosesAt).ThenBy(c => c.Id).ToList();
            var context = $"graine {seed}, groupe {g}";
            Assert.That(match.FreshTotal, Is.EqualTo(fresh.Count), context);
            Assert.That(match.ClosingTotal, Is.EqualTo(closing.Count), context);
            Assert.That(match.Fresh.Select(i => i.Id), Is.EqualTo(fresh.Take(max).Select(c => c.Id)), context);
            Assert.That(match.Closing.Select(i => i.Id), Is.EqualTo(closing.Take(max).Select(c => c.Id)), context);
            Assert.That(match.Fresh.Select(i => i.IsNew).Concat(match.Closing.Select(i => !i.IsNew)), Is.All.True, context);
        }
    }
}
