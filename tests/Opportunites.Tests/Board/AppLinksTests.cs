using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Shared;
using Opportunites.Web.Subscriptions;
using static Opportunites.Tests.Subscriptions.AlertTestKit;

namespace Opportunites.Tests.Board;

/// <summary>
/// Every address the app writes must open the search it describes. These tests read the links from what the app
/// rendered (the page, the digest in the outbox, the feeds, the API) and follow them; none builds the expected URL.
/// A database of the fixture's own, so that a search shows exactly this fixture's offers.
/// </summary>
public sealed partial class AppLinksTests
{
    private PrivateDatabase _db = null!;
    private AppFactory _app = null!;
    private HttpClient _client = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _db = await PrivateDatabase.CreateAsync("opportunites_links");
        _app = new AppFactory(_db.ConnectionString, new Dictionary<string, string>
        {
            ["Site:BaseUrl"] = "http://localhost",
            ["Alertes:FormPermitLimit"] = "1000",
            ["Alertes:MaxItemsPerSection"] = "100000",
        });
        _client = _app.CreateClient(new() { AllowAutoRedirect = false });
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
        await _db.DisposeAsync();
    }

    private Task<long> OfferAsync(string title, string[] territories, string kind = Kinds.Aap, int daysLeft = 40,
        string[]? themes = null, DateTimeOffset? publishedAt = null) =>
        TestData.CreateOpportunityAsync(_db.DataSource, title, territories, kind,
            ParisTime.Today(TimeProvider.System).AddDays(daysLeft), themes: themes, publishedAt: publishedAt);

    private async Task<(HttpStatusCode Status, string Body)> FollowAsync(string href)
    {
        var response = await _client.GetAsync(PageLinks.Local(href));
        return (response.StatusCode, WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()));
    }

    [Test]
    public async Task DigestLink_TwoTerritorySubscriber_OpensTheBoardWithThatSubscribersOffers()
    {
        var monday = NextMonday0700();
        var published = monday.AddDays(-2);
        var dordogne = TestData.Unique("AAP Dordogne");
        var gironde = TestData.Unique("AAP Gironde");
        var landes = TestData.Unique("AAP Landes");
        var girondeJob = TestData.Unique("Emploi Gironde");
        await OfferAsync(dordogne, ["24"], publishedAt: published);
        await OfferAsync(gironde, ["33"], publishedAt: published);
        await OfferAsync(landes, ["40"], publishedAt: published);
        await OfferAsync(girondeJob, ["33"], Kinds.Emploi, publishedAt: published);
        var email = UniqueEmail("deux-territoires");
        var id = await SubscribeConfirmedAsync(_app.Services, email, ["24", "33"], kinds: [Kinds.Aap], db: _db.DataSource);

        await Runner(_app.Services).RunAsync(monday, Frequencies.Weekly, [id]);

        var digest = (await OutboxAsync(email, _db.DataSource)).Single(r => r.Category == "digest");
        Assert.That(digest.TextBody, Does.Contain(dordogne).And.Contain(gironde).And.Not.Contain(landes));
        var (status, board) = await FollowAsync(PageLinks.Named(digest.HtmlBody, "Toutes les offres de votre sélection"));
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), board);
        Assert.That(board, Does.Contain(dordogne).And.Contain(gironde));
        Assert.That(board, Does.Not.Contain(landes).And.Not.Contain(girondeJob));

        // The plain-text part carries the same address.
        var textLink = Regex.Match(digest.TextBody, @"Toutes les offres de votre sélection : (\S+)").Groups[1].Value;
        Assert.That((await FollowAsync(textLink)).Status, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task BoardPage_TwoTerritoriesTwoThemes_EveryLinkItWritesOpensThatSearch()
    {
        var tag = TestData.Unique("Liens");
        var inside = new List<string>();
        // 21 matching offers: a second page.
        for (var i = 0; i < 21; i++)
        {
            var title = $"{tag} dedans {i:00}";
            inside.Add(title);
            await OfferAsync(title, [i % 2 == 0 ? "24" : "R11"], daysLeft: 10 + i, themes: [i % 3 == 0 ? "jeunesse" : "numerique"]);
        }

        var wrongTheme = $"{tag} autre thème";
        var wrongPlace = $"{tag} ailleurs";
        var wrongKind = $"{tag} emploi";
        await OfferAsync(wrongTheme, ["24"], themes: ["culture"]);
        await OfferAsync(wrongPlace, ["40"], themes: ["jeunesse"]);
        await OfferAsync(wrongKind, ["24"], Kinds.Emploi, themes: ["jeunesse"]);

        var (status, page) = await FollowAsync("/offres?territoire=24&territoire=R11&type=aap&theme=jeunesse&theme=numerique");
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), page);
        Assert.That(page, Does.Contain("21 offres"));

        // Pagination: the next page holds the 21st offer, and its "previous" link the first 20 again.
        var (nextStatus, next) = await FollowAsync(PageLinks.Named(page, "Page suivante →"));
        Assert.That(nextStatus, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(next, Does.Contain(inside[20]).And.Not.Contain(inside[0]));
        var (_, previous) = await FollowAsync(PageLinks.Named(next, "← Page précédente"));
        Assert.That(previous, Does.Contain(inside[0]).And.Not.Contain(inside[20]));

        // Feeds, calendar, spreadsheet and API: the same search.
        foreach (var name in new[] { "Flux RSS", "Agenda (.ics)", "Tableur (CSV)", "Cette recherche en JSON" })
        {
            var (s, body) = await FollowAsync(PageLinks.Named(page, name));
            Assert.That(s, Is.EqualTo(HttpStatusCode.OK), $"{name} : {body}");
            Assert.That(body, Does.Contain(inside[0]).And.Contain(inside[1]), name);
            Assert.That(body, Does.Not.Contain(wrongTheme).And.Not.Contain(wrongPlace).And.Not.Contain(wrongKind), name);
        }

        // The API's own next link, and the RSS channel's link back to the board.
        var (_, json) = await FollowAsync(PageLinks.Named(page, "Cette recherche en JSON"));
        var apiNext = JsonDocument.Parse(json).RootElement.GetProperty("links").GetProperty("next").GetString()!;
        var (apiStatus, apiPage2) = await FollowAsync(apiNext);
        Assert.That(apiStatus, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(apiPage2, Does.Contain(inside[20]));
        var (_, rss) = await FollowAsync(PageLinks.Named(page, "Flux RSS"));
        var channelLink = Regex.Match(rss, "<channel>.*?<link>([^<]+)</link>", RegexOptions.Singleline).Groups[1].Value;
        var (channelStatus, channel) = await FollowAsync(WebUtility.HtmlDecode(channelLink));
        Assert.That(channelStatus, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(channel, Does.Contain("21 offres"));

        // "Recevoir ces offres par email" opens the alert form.
        var (alertStatus, alert) = await FollowAsync(PageLinks.Named(page, "Recevoir ces offres par email"));
        Assert.That(alertStatus, Is.EqualTo(HttpStatusCode.OK), alert);
        Assert.That(alert, Does.Contain("<form"));

        // An offer, then its back link: the same search, the same page.
        var offer = PageLinks.All(next).First(l => l.Text == inside[20]).Href;
        var (offerStatus, detail) = await FollowAsync(offer);
        Assert.That(offerStatus, Is.EqualTo(HttpStatusCode.OK));
        var (backStatus, back) = await FollowAsync(PageLinks.Named(detail, "← Retour à votre recherche"));
        Assert.That(backStatus, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(back, Does.Contain(inside[20]).And.Contain("Page 2 sur 2"));
        Assert.That(back, Does.Contain("value=\"jeunesse\" checked").And.Contain("value=\"numerique\" checked"));
    }

    [Test]
    public async Task BoardPage_SeveralThemes_BothTickedAndKeptByTheNextSearch()
    {
        var (status, page) = await FollowAsync("/offres?theme=jeunesse&theme=numerique&territoire=24&territoire=33");

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        var ticked = CheckedValues(page);
        Assert.That(ticked, Does.Contain(("theme", "jeunesse")).And.Contain(("theme", "numerique")));
        Assert.That(ticked, Does.Contain(("territoire", "24")).And.Contain(("territoire", "33")));
        // "Rechercher" sends the ticked boxes again: the search the form submits is the same one.
        var resubmitted = "/offres?" + string.Join("&", ticked.Select(t => $"{t.Name}={Uri.EscapeDataString(t.Value)}"));
        var (againStatus, again) = await FollowAsync(resubmitted);
        Assert.That(againStatus, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(CheckedValues(again), Is.EquivalentTo(ticked));
        Assert.That(again, Does.Contain("<title>Offres ouvertes · Dordogne, Gironde — Opportunités</title>"));
    }

    private static List<(string Name, string Value)> CheckedValues(string html) =>
        CheckedBox().Matches(html).Select(m => (m.Groups["name"].Value, m.Groups["value"].Value)).ToList();

    [GeneratedRegex("""<input type="checkbox" name="(?<name>[a-z]+)" value="(?<value>[^"]*)" checked""")]
    private static partial Regex CheckedBox();
}
