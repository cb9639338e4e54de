using Opportunites.Tests;
using Opportunites.Web.Board;
using Opportunites.Web.Territories;

namespace Opportunites.Tests.Board;

public sealed class BoardFilterParserTests
{
    private static async Task<BoardFilterResult> ParseAsync(string query) =>
        await new BoardFilterParser(await TerritoryDirectory.LoadAsync(SharedDatabase.DataSource), new ThemeCatalog(SharedDatabase.DataSource))
            .ParseAsync(BoardQueryInput.Parse(query));

    [Test]
    public async Task Parse_NoParameters_OpenOffersByDeadlinePageOne()
    {
        var r = await ParseAsync("");

        Assert.That(r.IsValid, Is.True);
        Assert.That(r.Filter.Sort, Is.EqualTo(BoardSort.Deadline));
        Assert.That(r.Filter.Page, Is.EqualTo(1));
        Assert.That(r.Filter.IncludeClosed, Is.False);
        Assert.That(r.Filter.ToQueryString(), Is.EqualTo(""));
    }

    [Test]
    public async Task Parse_SeveralKindsThemesAndOptions_AllKept()
    {
        var r = await ParseAsync("?type=aap&type=AMI&type=aap&theme=numerique&cloture=7&archives=1&tri=recent&emetteur=12&limite=30/06/2027");

        Assert.That(r.IsValid, Is.True, string.Join(" ", r.Errors.Values.SelectMany(v => v)));
        Assert.That(r.Filter.Kinds, Is.EqualTo(new[] { "aap", "ami" }));
        Assert.That(r.Filter.Themes, Is.EqualTo(new[] { "numerique" }));
        Assert.That(r.Filter.ClosingWithinDays, Is.EqualTo(7));
        Assert.That(r.Filter.IncludeClosed, Is.True);
        Assert.That(r.Filter.Sort, Is.EqualTo(BoardSort.Newest));
        Assert.That(r.Filter.IssuerId, Is.EqualTo(12));
        Assert.That(r.Filter.DeadlineBy, Is.EqualTo(new DateOnly(2027, 6, 30)));
    }

    [TestCase("gironde", "33")]
    [TestCase("Gironde", "33")]
    [TestCase("33", "33")]
    [TestCase("Gironde (33)", "33")]
    [TestCase("2a", "2A")]
    [TestCase("r75", "R75")]
    [TestCase("nouvelle aquitaine", "R75")]
    [TestCase("ile-de-france", "R11")]
    [TestCase("deux sevres", "79")]
    [TestCase("FR", "FR")]
    [TestCase("La Réunion", "R04")]
    public async Task Parse_TerritoryByNameOrCode_ResolvesToCode(string text, string code)
    {
        var r = await ParseAsync("?territoire=" + Uri.EscapeDataString(text));

        Assert.That(r.IsValid, Is.True);
        Assert.That(r.Filter.Territories.Select(t => t.Code), Is.EqualTo(new[] { code }));
    }

    [Test]
    public async Task Parse_RepeatedTerritories_KeepsEachInOrderOnce()
    {
        var r = await ParseAsync("?territoire=24&territoire=33&territoire=R75&territoire=33&territoire=&type=aap");

        Assert.That(r.IsValid, Is.True, string.Join(" ", r.Errors.Values.SelectMany(v => v)));
        Assert.That(r.Filter.Territories.Select(t => t.Code), Is.EqualTo(new[] { "24", "33", "R75" }));
        Assert.That(r.Filter.ToQueryString(), Is.EqualTo("?type=aap&territoire=24&territoire=33&territoire=R75"));
    }

    [Test]
    public async Task Parse_OneUnknownAmongTerritories_NamesOnlyTheUnknownOne()
    {
        var r = await ParseAsync("?territoire=33&territoire=Atlantide");

        Assert.That(r.Errors["territoire"].Single(), Does.Contain("« Atlantide »").And.Not.Contain("« 33 »"));
        Assert.That(r.Filter.Territories.Select(t => t.Code), Is.EqualTo(new[] { "33" }));
    }

    [TestCase("?type=stage", "type")]
    [TestCase("?page=-1", "page")]
    [TestCase("?page=0", "page")]
    [TestCase("?page=1000000000", "page")]
    [TestCase("?page=abc", "page")]
    [TestCase("?territoire=Atlantide", "territoire")]
    [TestCase("?theme=inconnu", "theme")]
    [TestCase("?cloture=15", "cloture")]
    [TestCase("?tri=hasard", "tri")]
    [TestCase("?archives=peut-etre", "archives")]
    [TestCase("?emetteur=abc", "emetteur")]
    [TestCase("?limite=31/02/2027", "limite")]
    [TestCase("?limite=demain", "limite")]
    [TestCase("?apres=xyz", "apres")]
    public async Task Parse_BadValue_FrenchErrorOnThatParameter(string query, string key)
    {
        var r = await ParseAsync(query);

        Assert.That(r.IsValid, Is.False);
        Assert.That(r.Errors.Keys, Is.EquivalentTo(new[] { key }));
        Assert.That(r.Errors[key][0], Does.Match("[a-zéèàç]"));
    }

    [Test]
    public async Task Parse_FiveKilobyteQuery_RejectedAsTooLong()
    {
        var r = await ParseAsync("?q=" + new string('a', 5000));

        Assert.That(r.IsValid, Is.False);
        Assert.That(r.Errors["q"][0], Does.Contain("trop longue"));
    }

    [Test]
    public async Task Parse_RelevanceWithoutText_FallsBackToDeadline()
    {
        var withoutText = await ParseAsync("?tri=pertinence");
        var withText = await ParseAsync("?tri=pertinence&q=jeunesse");

        Assert.That(withoutText.Filter.Sort, Is.EqualTo(BoardSort.Deadline));
        Assert.That(withText.Filter.Sort, Is.EqualTo(BoardSort.Relevance));
    }

    [Test]
    public async Task ToQueryString_ParsedBack_GivesTheSameFilter()
    {
        var r = await ParseAsync("?q=médiation numérique&type=emploi&territoire=Gironde&theme=insertion&cloture=30&archives=1&tri=pertinence&limite=2027-01-15");

        var again = await ParseAsync(r.Filter.ToQueryString());

        Assert.That(again.IsValid, Is.True);
        string[] none = [];
        Territory[] noTerritory = [];
        Assert.That(again.Filter with { Kinds = none, Themes = none, Territories = noTerritory },
            Is.EqualTo(r.Filter with { Kinds = none, Themes = none, Territories = noTerritory }));
        Assert.That(again.Filter.Territories.Select(t => t.Code), Is.EqualTo(new[] { "33" }));
        Assert.That(again.Filter.Kinds, Is.EqualTo(r.Filter.Kinds));
        Assert.That(again.Filter.Themes, Is.EqualTo(r.Filter.Themes));
    }
}
