using Dapper;
using Opportunites.Tests;
using Opportunites.Tests.Infrastructure;

namespace Opportunites.Tests.Data;

public sealed class TerritoryTests
{
    private static async Task<string[]> MatchSetAsync(string code)
    {
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<string[]>("SELECT territory_match_set(@code)", new { code }) ?? [];
    }

    [Test]
    public async Task MatchSet_Gironde_IncludesAncestorsAndWhatItContainsButNotSiblings()
    {
        var set = await MatchSetAsync("33");

        Assert.That(set, Is.SupersetOf(new[] { "FR", "R75", "33", "E243300316", "C33039" }));
        Assert.That(set, Does.Not.Contain("40").And.Not.Contain("C40192").And.Not.Contain("R76"));
    }

    [Test]
    public async Task MatchSet_NouvelleAquitaine_IncludesItsDepartementsCommunesAndFrance()
    {
        var set = await MatchSetAsync("R75");

        Assert.That(set, Is.SupersetOf(new[] { "33", "40", "FR", "R75", "C33039", "C40192" }));
        Assert.That(set, Does.Not.Contain("31").And.Not.Contain("C31555"));
    }

    [Test]
    public async Task MatchSet_France_IncludesEveryTerritory()
    {
        var set = await MatchSetAsync("FR");
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();

        Assert.That(set, Has.Length.EqualTo(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM territories")));
    }

    [Test]
    public async Task Opportunities_MatchBothWaysThroughHierarchy()
    {
        var db = SharedDatabase.DataSource;
        var tag = TestData.Unique("Hiérarchie");
        var gironde = await TestData.CreateOpportunityAsync(db, tag + " Gironde", ["33"]);
        var region = await TestData.CreateOpportunityAsync(db, tag + " Région", ["R75"]);
        var national = await TestData.CreateOpportunityAsync(db, tag + " National", ["FR"]);
        var landes = await TestData.CreateOpportunityAsync(db, tag + " Landes", ["40"]);

        async Task<long[]> MatchingAsync(string code)
        {
            await using var conn = await db.OpenConnectionAsync();
            return (await conn.QueryAsync<long>("""
                SELECT id FROM opportunities
                WHERE title LIKE @tag || '%' AND territory_codes && territory_match_set(@code)
                """, new { tag, code })).ToArray();
        }

        Assert.That(await MatchingAsync("33"), Is.EquivalentTo(new[] { gironde, region, national }));
        Assert.That(await MatchingAsync("R75"), Is.EquivalentTo(new[] { gironde, region, national, landes }));
        Assert.That(await MatchingAsync("40"), Is.EquivalentTo(new[] { region, national, landes }));
        Assert.That(await MatchingAsync("FR"), Is.EquivalentTo(new[] { gironde, region, national, landes }));
    }

    [Test]
    public async Task Territories_NamesKeepTheirAccents()
    {
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        var names = (await conn.QueryAsync<string>("SELECT name FROM territories WHERE code = ANY(@codes) ORDER BY code",
            new { codes = new[] { "79", "R84", "2A", "974" } })).ToArray();

        Assert.That(names, Is.EqualTo(new[] { "2A", "79", "974", "R84" }.Select(c => c switch
        {
            "2A" => "Corse-du-Sud",
            "79" => "Deux-Sèvres",
            "974" => "La Réunion",
            _ => "Auvergne-Rhône-Alpes",
        })));
    }
}
