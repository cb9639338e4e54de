using Dapper;
using Opportunites.Web.Territories;
using static Opportunites.Tests.Board.BoardSeed;

namespace Opportunites.Tests.Territories;

/// <summary>
/// The board both ways at every level, on the real territories of migration 0081: a search shows the offers of the
/// territory, of what it contains and (unless "portee=local") of what contains it, never its siblings'. Each test
/// filters on its own issuer (match ranges) or its own word (text index), so that other tests' offers never count.
/// </summary>
public sealed class TerritoryMatchingTests
{
    private const string Begles = "C33039";
    private const string Lormont = "C33249";
    private const string Merignac = "C33281";
    private const string Langon = "C33227";
    private const string BordeauxMetropole = "E243300316";
    private const string MontDeMarsan = "C40192";

    private static async Task<(long Issuer, string Word, Dictionary<string, string> TitleOf)> SeedAsync(params string[] codes)
    {
        var issuer = await IssuerAsync();
        var word = Word();
        var titles = new Dictionary<string, string>();
        foreach (var code in codes)
        {
            titles[code] = $"{word} {code}";
            await OfferAsync(issuer, titles[code], [code]);
        }

        return (issuer, word, titles);
    }

    /// <summary>The codes of the seeded offers a search shows, through the match ranges and through the text index.</summary>
    private static async Task<string[]> ShownAsync(long issuer, string word, string query)
    {
        var byRanges = (await TitlesAsync($"?emetteur={issuer}&{query}")).Select(t => t.Split(' ')[1]).Order().ToArray();
        var byWords = (await TitlesAsync($"?q={word}&{query}")).Select(t => t.Split(' ')[1]).Order().ToArray();
        Assert.That(byWords, Is.EqualTo(byRanges), "la recherche par mots donne les mêmes offres que par territoire seul");
        return byRanges;
    }

    private static readonly string[] NouvelleAquitaineOffers = [Begles, Lormont, Merignac, Langon, BordeauxMetropole, "33", MontDeMarsan, "40", "R75", "FR", "R11"];

    [Test]
    public async Task Search_Commune_ShowsItsOwnAndWhatContainsItNotItsSiblings()
    {
        var (issuer, word, _) = await SeedAsync(NouvelleAquitaineOffers);

        Assert.That(await ShownAsync(issuer, word, $"territoire={Begles}"),
            Is.EquivalentTo(new[] { Begles, BordeauxMetropole, "33", "R75", "FR" }));
    }

    [Test]
    public async Task Search_Departement_ShowsItsCommunesAndEpciAndWhatContainsIt()
    {
        var (issuer, word, _) = await SeedAsync(NouvelleAquitaineOffers);

        Assert.That(await ShownAsync(issuer, word, "territoire=33"),
            Is.EquivalentTo(new[] { Begles, Lormont, Merignac, Langon, BordeauxMetropole, "33", "R75", "FR" }));
    }

    [Test]
    public async Task Search_Epci_ShowsItsCommunesNotTheOthersOfItsDepartement()
    {
        var (issuer, word, _) = await SeedAsync(NouvelleAquitaineOffers);

        Assert.That(await ShownAsync(issuer, word, $"territoire={BordeauxMetropole}"),
            Is.EquivalentTo(new[] { Begles, Lormont, Merignac, BordeauxMetropole, "33", "R75", "FR" }));
    }

    [Test]
    public async Task Search_RegionAndFrance_ShowEverythingTheyContain()
    {
        var (issuer, word, _) = await SeedAsync(NouvelleAquitaineOffers);

        Assert.That(await ShownAsync(issuer, word, "territoire=R75"), Is.EquivalentTo(NouvelleAquitaineOffers.Except(["R11"])));
        Assert.That(await ShownAsync(issuer, word, "territoire=FR"), Is.EquivalentTo(NouvelleAquitaineOffers));
    }

    [Test]
    public async Task Search_LocalOnly_LeavesOutWhatContainsTheTerritory()
    {
        var (issuer, word, _) = await SeedAsync(NouvelleAquitaineOffers);

        Assert.That(await ShownAsync(issuer, word, $"territoire={Begles}&portee=local"), Is.EqualTo(new[] { Begles }));
        Assert.That(await ShownAsync(issuer, word, "territoire=33&portee=local"),
            Is.EquivalentTo(new[] { Begles, Lormont, Merignac, Langon, BordeauxMetropole, "33" }));
    }

    [Test]
    public async Task Search_CountOfSeveralRanges_CountsAnOfferOnce()
    {
        // An offer for Bègles and France holds two of the keys a Gironde search reads (33 and =FR).
        var issuer = await IssuerAsync();
        var word = Word();
        await OfferAsync(issuer, $"{word} double", [Begles, "FR"]);
        await OfferAsync(issuer, $"{word} seule", ["FR"]);

        var page = await Queries().SearchAsync(await FilterAsync($"?emetteur={issuer}&territoire=33"));

        Assert.That(page.Items.Select(i => i.Title), Is.EquivalentTo(new[] { $"{word} double", $"{word} seule" }));
        Assert.That(page.Total, Is.EqualTo(2));
    }

    [Test]
    public async Task Search_EpciOverTwoDepartements_IsInBothButEachCommuneOnlyInItsOwn()
    {
        var tree = await TerritoryTree.LoadAsync(Db);
        var epci = tree.All.First(t => t.Level == "epci" && t.Lineage.Count(c => tree.Get(c)?.Level == "departement") == 2);
        var (first, second) = (epci.Lineage.Where(c => tree.Get(c)!.Level == "departement").First(), epci.Lineage.Where(c => tree.Get(c)!.Level == "departement").Last());
        var members = tree.Contained(epci.Code).Where(t => t.Level == "commune").ToList();
        var inFirst = members.First(m => m.DepartementCode == first).Code;
        var inSecond = members.First(m => m.DepartementCode == second).Code;
        var (issuer, word, _) = await SeedAsync(epci.Code, inFirst, inSecond);

        Assert.That(await ShownAsync(issuer, word, $"territoire={first}"), Is.EquivalentTo(new[] { epci.Code, inFirst }));
        Assert.That(await ShownAsync(issuer, word, $"territoire={second}"), Is.EquivalentTo(new[] { epci.Code, inSecond }));
        Assert.That(await ShownAsync(issuer, word, $"territoire={inFirst}"), Is.EquivalentTo(new[] { epci.Code, inFirst }));
    }

    [Test]
    public async Task Search_Arrondissement_IsInItsCommuneAndSeesTheCommuneOffers()
    {
        // Marseille (13055), its 1st and 13th arrondissements.
        var (issuer, word, _) = await SeedAsync("C13055", "C13201", "C13213");

        Assert.That(await ShownAsync(issuer, word, "territoire=C13055&portee=local"), Is.EquivalentTo(new[] { "C13055", "C13201", "C13213" }));
        Assert.That(await ShownAsync(issuer, word, "territoire=C13213"), Is.EquivalentTo(new[] { "C13055", "C13213" }));
        Assert.That(await ShownAsync(issuer, word, "territoire=13"), Is.EquivalentTo(new[] { "C13055", "C13201", "C13213" }));
    }

    [Test]
    public async Task Search_JobWithAPlaceOfWork_IsFoundInThatCommune()
    {
        var issuer = await IssuerAsync();
        var word = Word();
        var id = await OfferAsync(issuer, $"{word} poste", [BordeauxMetropole], kind: "emploi");
        await using (var conn = await Db.OpenConnectionAsync())
        {
            await conn.ExecuteAsync("UPDATE opportunities SET work_territory_code = @c WHERE id = @id", new { c = Begles, id });
        }

        Assert.That(await TitlesAsync($"?emetteur={issuer}&territoire={Begles}&portee=local"), Is.EqualTo(new[] { $"{word} poste" }));
        Assert.That(await TitlesAsync($"?emetteur={issuer}&territoire={Lormont}&portee=local"), Is.Empty);
    }

    [Test]
    public async Task Search_RelevanceWithWiderOffers_ListsLocalOffersFirst()
    {
        var issuer = await IssuerAsync();
        var word = Word();
        // The national offer names the word three times: more relevant, still after the local one.
        await OfferAsync(issuer, $"{word} {word} {word} national", ["FR"]);
        await OfferAsync(issuer, $"{word} local", [Begles]);

        var titles = await TitlesAsync($"?q={word}&territoire={Begles}&tri=pertinence");

        Assert.That(titles, Is.EqualTo(new[] { $"{word} local", $"{word} {word} {word} national" }));
    }

    [Test]
    public async Task Matches_NationalOffer_HasTwoRowsNotOnePerTerritory()
    {
        var issuer = await IssuerAsync();
        var id = await OfferAsync(issuer, $"{Word()} national", ["FR"]);
        var communal = await OfferAsync(issuer, $"{Word()} communal", [Begles]);
        await using var conn = await Db.OpenConnectionAsync();
        var rows = (await conn.QueryAsync<(long Id, string Code)>(
            "SELECT opportunity_id, territory_code FROM opportunity_territory_matches WHERE opportunity_id = ANY (@ids)",
            new { ids = new[] { id, communal } })).ToList();

        Assert.That(rows.Where(r => r.Id == id).Select(r => r.Code), Is.EquivalentTo(new[] { "FR", "=FR" }));
        Assert.That(rows.Where(r => r.Id == communal).Select(r => r.Code),
            Is.EquivalentTo(new[] { "FR", "R75", "33", BordeauxMetropole, Begles, "=" + Begles }));
    }
}
