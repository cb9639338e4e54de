using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Accounts;
using Opportunites.Web.Opportunities;
using static Opportunites.Tests.Infrastructure.WebForms;

namespace Opportunites.Tests.Publishing;

/// <summary>A job's place of work (a commune): the form, the public page, its JSON-LD, the search and the feeds.</summary>
public sealed class WorkPlaceTests
{
    private const string Begles = "C33039";
    private AppFactory app = null!;

    [OneTimeSetUp]
    public void Start() => app = new AppFactory();

    [OneTimeTearDown]
    public async Task Stop() => await app.DisposeAsync();

    private static List<KeyValuePair<string, string>> JobFields(string title, string workPlace, string territory = "33") =>
    [
        F("Input.Kind", "emploi"), F("Input.Title", title), F("Input.Territories", territory), F("Input.Deadline", InDays(30)),
        F("Input.ContractType", "cdd"), F("Input.WorkPlace", workPlace), F("Input.Description", "Animation du centre social."),
        F("Action", "soumettre"),
    ];

    private static async Task<string?> WorkPlaceOfAsync(long id)
    {
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<string?>("SELECT work_territory_code FROM opportunities WHERE id = @id", new { id });
    }

    private static long IdFrom(HttpResponseMessage r) => long.Parse(r.Headers.Location!.ToString().Split('/')[3], System.Globalization.CultureInfo.InvariantCulture);

    private static JsonElement JsonLd(string html)
    {
        var json = Regex.Match(html, "<script type=\"application/ld\\+json\">(.*?)</script>", RegexOptions.Singleline).Groups[1].Value;
        return JsonDocument.Parse(json).RootElement.Clone();
    }

    [Test]
    public async Task Create_JobWithWorkPlace_ShownOnItsPageFoundByTheCommuneAndCarriedByFeeds()
    {
        var (client, _) = await TestUsers.LoggedInAsync(app, trusted: true);
        var title = TestData.Unique("Animateur de quartier");

        // Typed as a person would without JavaScript: the name, resolved by the server.
        var response = await PostAsync(client, "/espace/offres/nouvelle", JobFields(title, "Bègles"));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Redirect), await TextAsync(response));
        var id = IdFrom(response);
        Assert.That(await WorkPlaceOfAsync(id), Is.EqualTo(Begles));
        Assert.That(WebUtility.HtmlDecode(await GetTextAsync(client, response.Headers.Location!.ToString())), Does.Contain("Lieu de travail : Bègles (33)"));

        // A Gironde job, found by a search for Bègles alone (without the wider offers) thanks to its place of work,
        // and not by one for Mérignac.
        var begles = await GetTextAsync(client, "/offres?territoire=C33039&portee=local&type=emploi");
        var merignac = await GetTextAsync(client, "/offres?territoire=C33281&portee=local&type=emploi");
        Assert.That(WebUtility.HtmlDecode(begles), Does.Contain(title));
        Assert.That(WebUtility.HtmlDecode(merignac), Does.Not.Contain(title));

        var page = await GetTextAsync(client, PageLinks.All(begles).First(l => l.Text == title).Href);
        Assert.That(Regex.Replace(WebUtility.HtmlDecode(page), @"\s+", " "), Does.Contain("<dt>Lieu de travail</dt> <dd>Bègles (33)</dd>"));
        var address = JsonLd(page).GetProperty("jobLocation")[0].GetProperty("address");
        Assert.That(address.GetProperty("addressLocality").GetString(), Is.EqualTo("Bègles"));
        Assert.That(address.GetProperty("postalCode").GetString(), Is.EqualTo("33130"));
        Assert.That(address.GetProperty("addressRegion").GetString(), Is.EqualTo("Nouvelle-Aquitaine"));
        Assert.That(address.GetProperty("addressCountry").GetString(), Is.EqualTo("FR"));

        // The feeds and exports of that search, from the board's own links: territories and place of work by label.
        var api = JsonDocument.Parse(await GetTextAsync(client, PageLinks.Named(begles, "Cette recherche en JSON"))).RootElement;
        var item = api.GetProperty("items").EnumerateArray().Single(i => i.GetProperty("id").GetInt64() == id);
        Assert.That(item.GetProperty("territories")[0].GetProperty("label").GetString(), Is.EqualTo("Gironde (33)"));
        Assert.That(item.GetProperty("workPlace").GetProperty("label").GetString(), Is.EqualTo("Bègles (33)"));
        Assert.That(item.GetProperty("workPlace").GetProperty("code").GetString(), Is.EqualTo(Begles));
        var csv = await GetTextAsync(client, PageLinks.Named(begles, "Tableur (CSV)"));
        var row = csv.Split("\r\n").Single(l => l.Contains(title, StringComparison.Ordinal));
        Assert.That(csv.Split("\r\n")[0], Does.EndWith(";Lieu de travail"));
        Assert.That(row, Does.Contain(";Gironde (33);").And.EndWith(";Bègles (33)"));
        var rss = WebUtility.HtmlDecode(await GetTextAsync(client, PageLinks.Named(begles, "Flux RSS")));
        Assert.That(rss, Does.Contain("Gironde (33) — Lieu de travail : Bègles (33)"));
        var ics = await GetTextAsync(client, PageLinks.Named(begles, "Agenda (.ics)"));
        Assert.That(Regex.Replace(ics, "\r\n ", ""), Does.Contain("Gironde (33)"));
        client.Dispose();
    }

    [Test]
    public async Task Create_WorkPlaceNotACommune_FrenchErrorAndNothingSaved()
    {
        var (client, user) = await TestUsers.LoggedInAsync(app, trusted: true);
        var title = TestData.Unique("Coordinateur départemental");

        var response = await PostAsync(client, "/espace/offres/nouvelle", JobFields(title, "E243300316"));
        var html = WebUtility.HtmlDecode(await TextAsync(response));

        Assert.That(response.StatusCode, Is.Not.EqualTo(HttpStatusCode.Redirect));
        Assert.That(html, Does.Contain("Le lieu de travail doit être une commune (par exemple Bègles), pas l'intercommunalité « Bordeaux Métropole (33) »."));
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*)::int FROM opportunities WHERE issuer_id = @IssuerId", user), Is.Zero);
        client.Dispose();
    }

    [Test]
    public async Task AdminEdit_SetsAndClearsTheWorkPlace_FormShowsIt()
    {
        var (issuer, user) = await TestUsers.LoggedInAsync(app, trusted: true);
        var title = TestData.Unique("Éducateur spécialisé");
        var id = IdFrom(await PostAsync(issuer, "/espace/offres/nouvelle", JobFields(title, "")));
        Assert.That(await WorkPlaceOfAsync(id), Is.Null);
        var (admin, _) = await TestUsers.LoggedInAsync(app, Policies.AdminRole);

        var saved = await PostAsync(admin, $"/espace/offres/{id}/modifier", JobFields(title, Begles));
        Assert.That(saved.StatusCode, Is.EqualTo(HttpStatusCode.Redirect), await TextAsync(saved));
        Assert.That(await WorkPlaceOfAsync(id), Is.EqualTo(Begles));
        var form = WebUtility.HtmlDecode(await GetTextAsync(issuer, $"/espace/offres/{id}/modifier"));
        Assert.That(form, Does.Match("name=\"Input.WorkPlace\" value=\"C33039\" checked data-label=\"Bègles \\(33\\)\""));

        await PostAsync(admin, $"/espace/offres/{id}/modifier", JobFields(title, ""));
        Assert.That(await WorkPlaceOfAsync(id), Is.Null);
        issuer.Dispose();
        admin.Dispose();
        _ = user;
    }

    [Test]
    public async Task JsonLd_CommuneOrWiderTerritory_AddressAsPreciseAsKnown()
    {
        var issuer = await TestData.CreateIssuerAsync(SharedDatabase.DataSource);
        async Task<JsonElement> AddressOfJobInAsync(string territory)
        {
            var title = TestData.Unique("Poste en " + territory);
            var id = await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, title, [territory], Kinds.Emploi,
                DateOnly.FromDateTime(DateTime.UtcNow).AddDays(20), issuerId: issuer);
            using var client = app.CreateClient();
            var html = await client.GetStringAsync($"/offres/{id}-{Web.Board.Slugs.From(title)}");
            return JsonLd(html).GetProperty("jobLocation")[0].GetProperty("address");
        }

        var commune = await AddressOfJobInAsync("C33281");
        var epci = await AddressOfJobInAsync("E243300316");
        var region = await AddressOfJobInAsync("R75");
        var france = await AddressOfJobInAsync("FR");

        Assert.That(commune.GetProperty("addressLocality").GetString(), Is.EqualTo("Mérignac"));
        Assert.That(commune.GetProperty("postalCode").GetString(), Is.EqualTo("33700"));
        Assert.That(epci.GetProperty("addressRegion").GetString(), Is.EqualTo("Gironde"));
        Assert.That(epci.TryGetProperty("postalCode", out _), Is.False);
        Assert.That(region.GetProperty("addressRegion").GetString(), Is.EqualTo("Nouvelle-Aquitaine"));
        Assert.That(france.TryGetProperty("addressRegion", out _), Is.False);
        Assert.That(france.GetProperty("addressCountry").GetString(), Is.EqualTo("FR"));
    }
}
