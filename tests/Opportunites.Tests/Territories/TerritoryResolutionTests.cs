using System.Diagnostics;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Shared;
using Opportunites.Web.Territories;

namespace Opportunites.Tests.Territories;

/// <summary>Finding a territory by what people type, on the real data of migration 0081.</summary>
public sealed class TerritoryResolutionTests
{
    private static Task<TerritoryTree> TreeAsync() => TerritoryTree.LoadAsync(SharedDatabase.DataSource);

    [Test]
    public async Task Load_OfficialDivisions_EveryCurrentCommuneAndEpciWithTheirLinks()
    {
        var tree = await TreeAsync();

        Assert.That(tree.All.Count(t => t.Level == "commune"), Is.EqualTo(34969 + 45));
        Assert.That(tree.All.Count(t => t.Level == "epci"), Is.EqualTo(1255));
        var begles = tree.Get("C33039")!;
        Assert.That(begles.Lineage, Is.EqualTo(new[] { "FR", "R75", "33", "E243300316", "C33039" }));
        Assert.That(begles.PostalCodes, Is.EqualTo(new[] { "33130" }));
        Assert.That(begles.Siren, Is.EqualTo("213300395"));
        Assert.That(tree.Contained("E243300316").Count(t => t.Level == "commune"), Is.EqualTo(28));
        Assert.That(tree.Get("33")!.Name, Is.EqualTo("Gironde"));
        Assert.That(tree.Get("R75")!.Name, Is.EqualTo("Nouvelle-Aquitaine"));
    }

    [TestCase("33", "en Gironde")]
    [TestCase("40", "dans les Landes")]
    [TestCase("59", "dans le Nord")]
    [TestCase("01", "dans l'Ain")]
    [TestCase("49", "en Maine-et-Loire")]
    [TestCase("35", "en Ille-et-Vilaine")]
    [TestCase("75", "à Paris")]
    [TestCase("974", "à La Réunion")]
    [TestCase("R75", "en Nouvelle-Aquitaine")]
    [TestCase("R32", "dans les Hauts-de-France")]
    [TestCase("R44", "dans le Grand Est")]
    [TestCase("FR", "en France")]
    [TestCase("C33039", "à Bègles")]
    [TestCase("C33069", "au Bouscat")]
    [TestCase("C17300", "à La Rochelle")]
    [TestCase("E243300316", "dans Bordeaux Métropole")]
    public async Task In_EachLevel_SaysWhereInFrench(string code, string expected)
    {
        var tree = await TreeAsync();

        Assert.That(tree.Get(code)!.In, Is.EqualTo(expected));
    }

    [Test]
    public async Task In_CommunauteDeCommunes_TakesTheArticle()
    {
        var tree = await TreeAsync();

        Assert.That(tree.Resolve("CC Aunis Sud")!.In, Is.EqualTo("dans la CC Aunis Sud"));
    }

    [TestCase("Bègles", "C33039")]
    [TestCase("begles", "C33039")]
    [TestCase("BEGLES", "C33039")]
    [TestCase("33130", "C33039")]
    [TestCase("33039", "C33039")]
    [TestCase("C33039", "C33039")]
    [TestCase("mont de marsan", "C40192")]
    [TestCase("Mont-de-Marsan", "C40192")]
    [TestCase("la rochelle", "C17300")]
    [TestCase("st medard en jalles", "C33449")]
    [TestCase("Ste-Foy-la-Grande", "C33402")]
    [TestCase("243300316", "E243300316")]
    [TestCase("Bordeaux Métropole", "E243300316")]
    [TestCase("Bordeaux Métropole (33)", "E243300316")]
    [TestCase("33", "33")]
    [TestCase("Gironde (33)", "33")]
    [TestCase("2a", "2A")]
    [TestCase("deux sevres", "79")]
    [TestCase("R75", "R75")]
    [TestCase("Nouvelle-Aquitaine (région)", "R75")]
    [TestCase("France", "FR")]
    [TestCase("Saint-Denis (974)", "C97411")]
    [TestCase("Saint-Denis (93)", "C93066")]
    [TestCase("Marseille 13e Arrondissement", "C13213")]
    public async Task Resolve_WhatPeopleType_TheTerritory(string text, string code)
    {
        var tree = await TreeAsync();

        Assert.That(tree.Resolve(text)?.Code, Is.EqualTo(code));
    }

    [Test]
    public async Task ResolveCandidates_Homonyms_AllOfThemLabelledByDepartement()
    {
        var tree = await TreeAsync();

        var labels = tree.ResolveCandidates("saint denis").Select(t => t.Label).ToList();

        Assert.That(labels, Does.Contain("Saint-Denis (93)").And.Contain("Saint-Denis (974)").And.Contain("Saint-Denis (11)"));
        Assert.That(labels[0], Is.EqualTo("Saint-Denis (974)"), "le plus peuplé d'abord");
    }

    [Test]
    public async Task ResolveCandidates_SharedPostalCode_EveryCommuneOfIt()
    {
        var tree = await TreeAsync();
        var shared = tree.All.Where(t => t.Level == "commune").SelectMany(t => t.PostalCodes.Select(p => (p, t.Code)))
            .GroupBy(x => x.p).First(g => g.Count() >= 3);

        var found = tree.ResolveCandidates(shared.Key).Select(t => t.Code).ToList();

        Assert.That(found, Is.SupersetOf(shared.Select(x => x.Code)));
    }

    [Test]
    public async Task ResolveCandidates_PostalCodeAlsoAnInseeCode_ThePostalCodeAsksNothingTheAutocompleteListsBoth()
    {
        var tree = await TreeAsync();
        var directory = await TerritoryDirectory.LoadAsync(SharedDatabase.DataSource);

        // 33130: Bègles' postal code, and the INSEE code of Coimères.
        Assert.That(tree.Get("C33130")!.Name, Is.EqualTo("Coimères"));
        Assert.That(tree.ResolveCandidates("33130").Select(t => t.Code), Is.EqualTo(new[] { "C33039" }));
        var typed = TerritorySelection.Resolve(directory, ["33130"]);
        Assert.That(typed.IsResolved, Is.True, string.Join(" ", typed.Messages));
        Assert.That(typed.Codes, Is.EqualTo(new[] { "C33039" }));
        Assert.That(tree.Search("33130").Select(t => t.Code).Take(2), Is.EqualTo(new[] { "C33039", "C33130" }));
        // An INSEE code that is no postal code, and Coimères by its name or its chip.
        Assert.That(tree.ResolveCandidates("33039").Select(t => t.Code), Is.EqualTo(new[] { "C33039" }));
        Assert.That(TerritorySelection.Resolve(directory, ["Coimères", "C33130"]).Codes, Is.EqualTo(new[] { "C33130" }));
    }

    [Test]
    public async Task Search_Prefix_BestFirstWithLabels()
    {
        var tree = await TreeAsync();

        Assert.That(tree.Search("giro")[0].Label, Is.EqualTo("Gironde (33)"));
        Assert.That(tree.Search("begl")[0].Code, Is.EqualTo("C33039"));
        Assert.That(tree.Search("bordeaux").Select(t => t.Code).Take(2), Is.EqualTo(new[] { "C33063", "E243300316" }));
        Assert.That(tree.Search("metropole").Select(t => t.Code), Does.Contain("E243300316"));
        Assert.That(tree.Search("st den", 20).Select(t => t.Label), Does.Contain("Saint-Denis (93)"));
        Assert.That(tree.Search("zzzzqq"), Is.Empty);
    }

    [Test]
    public async Task Search_ThousandsOfQueries_AFewMillisecondsAtWorst()
    {
        var tree = await TreeAsync();
        var queries = tree.All.Where((_, i) => i % 37 == 0).SelectMany(t => new[] { t.Name[..Math.Min(3, t.Name.Length)], t.Name, "s", "saint" }).ToList();
        var times = new List<double>(queries.Count);
        foreach (var q in queries)
        {
            var started = Stopwatch.GetTimestamp();
            tree.Search(q);
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        times.Sort();
        TestContext.Out.WriteLine($"p50 {times[times.Count / 2]:F3} p90 {times[(int)(times.Count * 0.9)]:F3} p99 {times[(int)(times.Count * 0.99)]:F3} max {times[^1]:F3} n {times.Count}");
        // The search itself takes microseconds (p50 7 µs, p90 55 µs here); the p99 of a test run measures the scheduler of
        // a shared machine (13 ms at a load of 60 on 2 cores), so the bound is on the p90.
        Assert.That(times[(int)(times.Count * 0.9)], Is.LessThan(1), $"p90 sur {times.Count} recherches");
    }
}
