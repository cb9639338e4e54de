using System.Net;
using System.Text.RegularExpressions;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Opportunities;
using static Opportunites.Tests.Board.BoardSeed;

namespace Opportunites.Tests.Board;

public sealed class BoardPageTests
{
    private AppFactory _app = null!;
    private HttpClient _client = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _app = new AppFactory();
        _client = _app.CreateClient(new() { AllowAutoRedirect = false });
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
    }

    [Test]
    public async Task List_RootAndOffres_ShowKindTitleIssuerTerritoryDeadlineAndBadges()
    {
        var issuerName = TestData.Unique("Centre social");
        var issuer = await IssuerAsync(issuerName);
        var tag = TestData.Unique("Badges");
        await OfferAsync(issuer, tag + " aujourd'hui", daysLeft: 0, kind: Kinds.Emploi);
        await OfferAsync(issuer, tag + " J-3", daysLeft: 3, territories: ["40"]);
        await OfferAsync(issuer, tag + " lointaine", daysLeft: 45, kind: Kinds.Ami);

        foreach (var path in new[] { "/", "/offres" })
        {
            var response = await _client.GetAsync($"{path}?emetteur={issuer}");
            var html = await response.Content.ReadAsStringAsync();

            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(html, Does.Contain("3 offres"));
            Assert.That(html, Does.Contain(">Aujourd&#x27;hui</span>").Or.Contain(">Aujourd'hui</span>"));
            Assert.That(html, Does.Contain(">J-3</span>"));
            Assert.That(html, Does.Not.Contain(">J-45</span>"));
            Assert.That(html, Does.Contain($"Jusqu'au {Today.AddDays(3):dd/MM/yyyy}"));
            Assert.That(html, Does.Contain("Landes").And.Contain(">Emploi<").And.Contain(">AMI<").And.Contain(">AAP<"));
            Assert.That(html, Does.Contain(issuerName));
            Assert.That(html, Does.Contain("retirer ce filtre"));
            // Soonest deadline first.
            Assert.That(html.IndexOf(tag + " J-3", StringComparison.Ordinal), Is.LessThan(html.IndexOf(tag + " lointaine", StringComparison.Ordinal)));
        }
    }

    [Test]
    public async Task List_FiltersInQueryString_OnlyMatchingOffersAndFormKeepsValues()
    {
        var issuer = await IssuerAsync();
        var tag = TestData.Unique("Filtre page");
        await OfferAsync(issuer, tag + " Gironde", ["33"], kind: Kinds.Emploi);
        await OfferAsync(issuer, tag + " Landes", ["40"], kind: Kinds.Emploi);

        var html = await _client.GetStringAsync($"/offres?emetteur={issuer}&type=emploi&territoire=gironde");

        Assert.That(html, Does.Contain(tag + " Gironde"));
        Assert.That(html, Does.Not.Contain(tag + " Landes"));
        // The territory found from the typed name is kept as the field's chosen one.
        Assert.That(html, Does.Contain("name=\"territoire\" value=\"33\" checked"));
        Assert.That(html, Does.Match("value=\"emploi\" checked"));
        Assert.That(html, Does.Contain("1 offre"));
        // Feeds of the same search are offered.
        Assert.That(html, Does.Contain($"/offres/flux.rss?type=emploi&amp;territoire=33&amp;emetteur={issuer}"));
    }

    [Test]
    public async Task List_MoreThanOnePage_NextLinkUsesCursorAndShowsNextRows()
    {
        var issuer = await IssuerAsync();
        var tag = TestData.Unique("Pages");
        for (var i = 1; i <= 22; i++)
        {
            await OfferAsync(issuer, $"{tag} {i:00}", daysLeft: 5 + i);
        }

        var first = await _client.GetStringAsync($"/offres?emetteur={issuer}");
        var next = Regex.Match(first, "<a rel=\"next\" href=\"([^\"]+)\"").Groups[1].Value.Replace("&amp;", "&", StringComparison.Ordinal);
        var second = await _client.GetStringAsync(next);

        Assert.That(first, Does.Contain($"{tag} 20").And.Not.Contain($"{tag} 21"));
        Assert.That(next, Does.Contain("apres=").And.Contain("page=2"));
        Assert.That(second, Does.Contain($"{tag} 21").And.Contain($"{tag} 22").And.Not.Contain($"{tag} 20<"));
        Assert.That(second, Does.Contain("Page 2 sur 2").And.Contain("rel=\"prev\""));
    }

    [Test]
    public async Task Detail_OpenOffer_AllFieldsMarkdownWithoutRawHtmlAndCalendarLink()
    {
        var issuer = await IssuerAsync(TestData.Unique("Mairie"));
        var title = TestData.Unique("Médiateur numérique");
        long id;
        await using (var conn = await Db.OpenConnectionAsync())
        {
            id = await OpportunityStore.CreateAsync(conn, new NewOpportunity(Kinds.Emploi, title, issuer, ["33", "R75"],
                Today.AddDays(3), new TimeOnly(12, 0), Statuses.Published,
                "## Missions\n\n- **accueillir** le public\n\n<script>alert('x')</script>\n\n[piège](javascript:alert(1))",
                "https://example.org/offre", "rh@example.org", ["numerique"], "cdd", PublishedAt: DateTimeOffset.UtcNow));
        }

        var redirect = await _client.GetAsync($"/offres/{id}");
        var canonical = redirect.Headers.Location!.OriginalString;
        var html = await _client.GetStringAsync(canonical);

        Assert.That(redirect.StatusCode, Is.EqualTo(HttpStatusCode.MovedPermanently));
        Assert.That(canonical, Does.StartWith($"/offres/{id}-mediateur-numerique-"));
        Assert.That(html, Does.Contain("<h2>Missions</h2>").And.Contain("<strong>accueillir</strong>"));
        Assert.That(html, Does.Not.Contain("<script>alert"));
        Assert.That(html, Does.Contain("&lt;script&gt;"));
        Assert.That(html, Does.Not.Contain("javascript:alert"));
        Assert.That(html, Does.Contain($"{Today.AddDays(3):dd/MM/yyyy} à 12h00").And.Contain("J-3"));
        Assert.That(html, Does.Contain("Gironde").And.Contain("Nouvelle-Aquitaine").And.Contain("Numérique").And.Contain("CDD"));
        Assert.That(html, Does.Contain("https://example.org/offre").And.Contain("rh@example.org"));
        Assert.That(html, Does.Contain($"/offres/{id}/agenda.ics").And.Contain("Ajouter à mon agenda"));
        Assert.That(html, Does.Not.Contain("Cette offre est close"));
    }

    [Test]
    public async Task Detail_JobOffer_CarriesSafeJobPostingJsonLd()
    {
        var issuer = await IssuerAsync(TestData.Unique("Association </script><b>x</b>"));
        var title = TestData.Unique("Animateur \"jeunesse\" </script>");
        var id = await OfferAsync(issuer, title, kind: Kinds.Emploi, territories: ["33"]);

        var html = await _client.GetStringAsync($"/offres/{id}-{Web.Board.Slugs.From(title)}");
        var json = Regex.Match(html, "<script type=\"application/ld\\+json\">(.*?)</script>", RegexOptions.Singleline).Groups[1].Value;
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        var root = doc.RootElement;

        Assert.That(root.GetProperty("@type").GetString(), Is.EqualTo("JobPosting"));
        Assert.That(root.GetProperty("title").GetString(), Is.EqualTo(title));
        Assert.That(root.GetProperty("hiringOrganization").GetProperty("name").GetString(), Does.StartWith("Association </script>"));
        Assert.That(root.GetProperty("validThrough").GetString(), Does.StartWith(Today.AddDays(60).ToString("yyyy-MM-dd")).Or.StartWith(Today.AddDays(61).ToString("yyyy-MM-dd")));
        Assert.That(root.GetProperty("datePosted").GetString(), Is.Not.Empty);
        Assert.That(root.GetProperty("jobLocation")[0].GetProperty("address").GetProperty("addressRegion").GetString(), Is.EqualTo("Gironde"));
        // The issuer's text never closes the script element.
        Assert.That(json, Does.Not.Contain("</script>").And.Not.Contain("<b>"));
    }

    [Test]
    public async Task Detail_ExpiredOffer_HiddenFromListButReachableWithBanner()
    {
        var issuer = await IssuerAsync();
        var title = TestData.Unique("Appel échu");
        var id = await OfferAsync(issuer, title, deadline: new DateOnly(2024, 3, 15));

        var list = await _client.GetStringAsync($"/offres?emetteur={issuer}");
        var archive = await _client.GetStringAsync($"/offres?emetteur={issuer}&archives=1");
        var response = await _client.GetAsync($"/offres/{id}-{Web.Board.Slugs.From(title)}");
        var html = await response.Content.ReadAsStringAsync();

        Assert.That(list, Does.Not.Contain(title));
        Assert.That(archive, Does.Contain(title).And.Contain(">Close</span>"));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(html, Does.Contain("Cette offre est close depuis le 15/03/2024 ; elle reste consultable pour archive"));
        Assert.That(html, Does.Not.Contain("Ajouter à mon agenda"));
    }

    [Test]
    public async Task Detail_ClosedByIssuer_BannerWithClosingDay()
    {
        var issuer = await IssuerAsync();
        var title = TestData.Unique("Offre pourvue");
        var id = await OfferAsync(issuer, title, status: Statuses.Closed);
        await using (var conn = await Db.OpenConnectionAsync())
        {
            await using var cmd = new Npgsql.NpgsqlCommand("UPDATE opportunities SET closed_at = '2026-01-10 10:00+01' WHERE id = $1", conn);
            cmd.Parameters.AddWithValue(id);
            await cmd.ExecuteNonQueryAsync();
        }

        var html = await _client.GetStringAsync($"/offres/{id}-{Web.Board.Slugs.From(title)}");

        Assert.That(html, Does.Contain("Cette offre est close depuis le 10/01/2026 ; elle reste consultable pour archive"));
    }

    [TestCase(Statuses.Draft)]
    [TestCase(Statuses.Pending)]
    public async Task Detail_UnpublishedOffer_NotFound(string status)
    {
        var id = await OfferAsync(await IssuerAsync(), TestData.Unique("Privée"), status: status);

        var response = await _client.GetAsync($"/offres/{id}-privee");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [TestCase("/offres/999999999999-rien")]
    [TestCase("/offres/abc")]
    [TestCase("/offres/99999999999999999999999")]
    public async Task Detail_UnknownOrMalformedId_FrenchNotFound(string path)
    {
        var response = await _client.GetAsync(path);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("Page introuvable"));
    }

    [TestCase("?type=stage", "Type d&#x27;offre inconnu")]
    [TestCase("?page=-1", "Le numéro de page doit être un entier")]
    [TestCase("?page=1000000000", "Le numéro de page doit être un entier")]
    [TestCase("?territoire=Atlantide", "Aucun territoire ne")]
    [TestCase("?limite=32/13/2026", "Date invalide")]
    [TestCase("?cloture=365", "La clôture se filtre à 7 ou 30 jours")]
    public async Task List_BadInput_400WithFrenchMessageAndTheForm(string query, string message)
    {
        var response = await _client.GetAsync("/offres" + query);
        var html = await response.Content.ReadAsStringAsync();

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(html, Does.Contain(message));
        Assert.That(html, Does.Contain("<form class=\"filters\""));
        Assert.That(html, Does.Contain("aria-invalid=\"true\"").Or.Contain("role=\"alert\""));
    }

    [Test]
    public async Task List_MisspelledTerritory_SuggestsCloseOnes()
    {
        var response = await _client.GetAsync("/offres?territoire=Girond&type=aap");
        var html = await response.Content.ReadAsStringAsync();

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        var text = WebUtility.HtmlDecode(html);
        Assert.That(text, Does.Contain("Aucun territoire ne s'appelle « Girond »"));
        // The close names are offered in the field itself: one click and a new search.
        Assert.That(text, Does.Contain("<input type=\"checkbox\" name=\"territoire\" value=\"33\" /> Gironde (33)"));
    }

    [Test]
    public async Task List_FiveKilobyteQuery_400TooLong()
    {
        var response = await _client.GetAsync("/offres?q=" + new string('é', 5000));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("La recherche est trop longue"));
    }

    [Test]
    public async Task List_EveryFieldHasALabel_AndTheListWorksWithoutScript()
    {
        var html = await _client.GetStringAsync("/offres");

        foreach (Match input in Regex.Matches(html, "<(input|select)[^>]*\\sid=\"([^\"]+)\""))
        {
            Assert.That(html, Does.Contain($"for=\"{input.Groups[2].Value}\""), input.Value);
        }

        Assert.That(html, Does.Contain("<form class=\"filters\" method=\"get\" action=\"/offres\""));
        // The territory is a text box the server resolves: names and codes work without the combobox script.
        Assert.That(html, Does.Contain("<input id=\"champ-territoire\" name=\"territoire\" type=\"text\""));
        Assert.That(html, Does.Contain("class=\"skip-link\""));
    }
}
