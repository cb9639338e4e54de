using System.Net;
using System.Text.Json;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Opportunities;
using static Opportunites.Tests.Board.BoardSeed;

namespace Opportunites.Tests.Board;

public sealed class BoardApiTests
{
    private AppFactory _app = null!;
    private HttpClient _client = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _app = new AppFactory(new Dictionary<string, string> { ["Site:BaseUrl"] = "https://opportunites.test" });
        _client = _app.CreateClient();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
    }

    private async Task<(HttpResponseMessage Response, JsonElement Json)> GetJsonAsync(string url)
    {
        var response = await _client.GetAsync(url);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        return (response, json);
    }

    [Test]
    public async Task List_FilteredSearch_TotalItemsAndCursorLinks()
    {
        var issuer = await IssuerAsync();
        var tag = TestData.Unique("API");
        for (var i = 1; i <= 21; i++)
        {
            await OfferAsync(issuer, $"{tag} {i:00}", ["33"], daysLeft: 5 + i);
        }

        await OfferAsync(issuer, tag + " Landes", ["40"]);

        var (response, json) = await GetJsonAsync($"/api/v1/opportunites?emetteur={issuer}&territoire=33");
        var items = json.GetProperty("items");
        var next = json.GetProperty("links").GetProperty("next").GetString()!;
        var (_, page2) = await GetJsonAsync(new Uri(next).PathAndQuery);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Headers.GetValues("Access-Control-Allow-Origin"), Is.EqualTo(new[] { "*" }));
        Assert.That(json.GetProperty("total").GetInt64(), Is.EqualTo(21));
        Assert.That(json.GetProperty("pageSize").GetInt32(), Is.EqualTo(20));
        Assert.That(items.GetArrayLength(), Is.EqualTo(20));
        var first = items[0];
        Assert.That(first.GetProperty("title").GetString(), Is.EqualTo($"{tag} 01"));
        Assert.That(first.GetProperty("type").GetString(), Is.EqualTo("aap"));
        Assert.That(first.GetProperty("issuer").GetProperty("id").GetInt64(), Is.EqualTo(issuer));
        Assert.That(first.GetProperty("territories")[0].GetProperty("code").GetString(), Is.EqualTo("33"));
        Assert.That(first.GetProperty("deadline").GetString(), Is.EqualTo(Today.AddDays(6).ToString("yyyy-MM-dd")));
        Assert.That(first.GetProperty("closed").GetBoolean(), Is.False);
        Assert.That(first.GetProperty("url").GetString(), Does.Match(@"^https://opportunites\.test/offres/\d+-api-"));
        Assert.That(json.GetProperty("links").GetProperty("previous").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(page2.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("title").GetString()), Is.EqualTo(new[] { $"{tag} 21" }));
    }

    [Test]
    public async Task Get_PublicOffer_FullShape()
    {
        var issuer = await IssuerAsync();
        var title = TestData.Unique("API détail");
        var id = await OfferAsync(issuer, title, ["2A"], kind: Kinds.Ami, description: "**Important**", themes: ["culture"]);

        var (response, json) = await GetJsonAsync($"/api/v1/opportunites/{id}");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(json.GetProperty("id").GetInt64(), Is.EqualTo(id));
        Assert.That(json.GetProperty("title").GetString(), Is.EqualTo(title));
        Assert.That(json.GetProperty("typeLabel").GetString(), Is.EqualTo("Appel à manifestation d'intérêt"));
        Assert.That(json.GetProperty("territories")[0].GetProperty("name").GetString(), Is.EqualTo("Corse-du-Sud"));
        Assert.That(json.GetProperty("themes")[0].GetProperty("code").GetString(), Is.EqualTo("culture"));
        Assert.That(json.GetProperty("description").GetString(), Is.EqualTo("**Important**"));
        Assert.That(json.GetProperty("descriptionHtml").GetString(), Does.Contain("<strong>Important</strong>"));
    }

    [Test]
    public async Task Get_UnknownDraftOrMalformedId_ProblemDetails()
    {
        var draft = await OfferAsync(await IssuerAsync(), TestData.Unique("API brouillon"), status: Statuses.Draft);

        foreach (var (url, status) in new[] { ($"/api/v1/opportunites/{draft}", 404), ("/api/v1/opportunites/999999999999", 404), ("/api/v1/opportunites/abc", 400), ("/api/v1/opportunites/-5", 400) })
        {
            var (response, json) = await GetJsonAsync(url);

            Assert.That((int)response.StatusCode, Is.EqualTo(status), url);
            Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/problem+json"));
            Assert.That(json.GetProperty("status").GetInt32(), Is.EqualTo(status));
            Assert.That(json.GetProperty("title").GetString(), Is.EqualTo(status == 404 ? "Offre introuvable" : "Identifiant invalide"));
        }
    }

    [Test]
    public async Task UnknownApiPath_404ProblemDetails()
    {
        var (response, json) = await GetJsonAsync("/api/v1/nimporte-quoi");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(json.GetProperty("title").GetString(), Is.EqualTo("Ressource introuvable"));
    }

    [TestCase("type=stage", "type")]
    [TestCase("page=-1", "page")]
    [TestCase("page=1000000000", "page")]
    [TestCase("territoire=Atlantide", "territoire")]
    [TestCase("limite=2026-02-30", "limite")]
    [TestCase("tri=n%27importe", "tri")]
    public async Task List_BadFilter_400ValidationProblemInFrench(string query, string key)
    {
        var (response, json) = await GetJsonAsync("/api/v1/opportunites?" + query);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That(json.GetProperty("title").GetString(), Is.EqualTo("Paramètres de recherche invalides"));
        Assert.That(json.GetProperty("errors").GetProperty(key)[0].GetString(), Is.Not.Empty);
    }

    [Test]
    public async Task List_FiveKilobyteQuery_400()
    {
        var (response, json) = await GetJsonAsync("/api/v1/opportunites?q=" + new string('x', 5000));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(json.GetProperty("errors").GetProperty("q")[0].GetString(), Does.Contain("trop longue"));
    }

    [Test]
    public async Task Territories_NameOrCodeWithoutAccents_BestMatchFirst()
    {
        var (response, gironde) = await GetJsonAsync("/api/v1/territoires?q=giro");
        var (_, code) = await GetJsonAsync("/api/v1/territoires?q=2a");
        var (_, accents) = await GetJsonAsync("/api/v1/territoires?q=deux%20sevres");
        var (_, empty) = await GetJsonAsync("/api/v1/territoires?q=");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(gironde[0].GetProperty("code").GetString(), Is.EqualTo("33"));
        Assert.That(gironde[0].GetProperty("label").GetString(), Is.EqualTo("Gironde (33)"));
        Assert.That(code[0].GetProperty("name").GetString(), Is.EqualTo("Corse-du-Sud"));
        Assert.That(accents[0].GetProperty("name").GetString(), Is.EqualTo("Deux-Sèvres"));
        Assert.That(empty.GetArrayLength(), Is.EqualTo(0));
    }

    [Test]
    public async Task OpenApi_Document_DescribesTheEndpointsAndFilters()
    {
        var (response, json) = await GetJsonAsync("/openapi/v1.json");
        var paths = json.GetProperty("paths");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(paths.TryGetProperty("/api/v1/opportunites", out var list), Is.True);
        Assert.That(paths.TryGetProperty("/api/v1/opportunites/{id}", out _), Is.True);
        Assert.That(paths.TryGetProperty("/api/v1/territoires", out _), Is.True);
        var parameters = list.GetProperty("get").GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToList();
        Assert.That(parameters, Is.SupersetOf(new[] { "q", "type", "territoire", "theme", "cloture", "archives", "tri", "page", "apres" }));
    }
}
