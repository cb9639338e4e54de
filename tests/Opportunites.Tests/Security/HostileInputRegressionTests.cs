using System.Net;
using Dapper;
using Opportunites.Tests.Infrastructure;
using static Opportunites.Tests.Infrastructure.WebForms;

namespace Opportunites.Tests.Security;

/// <summary>One test per defect or behaviour the fuzzing found, so that each stays as it is with a readable name.</summary>
public sealed class HostileInputRegressionTests
{
    private AppFactory app = null!;

    [OneTimeSetUp]
    public void Start() => app = new AppFactory();

    [OneTimeTearDown]
    public async Task StopAsync() => await app.DisposeAsync();

    [Test]
    public async Task NewOffer_NulCharacterInForm_400BeforeTheAppAndNothingStored()
    {
        var (client, user) = await TestUsers.LoggedInAsync(app, trusted: true);
        var title = TestData.Unique("Titre avec\0NUL");

        var response = await PostAsync(client, "/espace/offres/nouvelle",
            [F("Input.Kind", "aap"), F("Input.Title", title), F("Input.Territories", "33"), F("Input.Beneficiaries", "associations"),
             F("Action", "soumettre"), F("ConfirmDuplicate", "true")]);

        // The framework's form reader refuses NUL ("invalid characters"): a French 400 page, not a 500.
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await TextAsync(response), Does.Contain("<html lang=\"fr\">").And.Not.Contain("Exception"));
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        Assert.That(await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM opportunities WHERE issuer_id = @IssuerId", user), Is.Zero);
    }

    [TestCase("/offres?territoire=%00Gironde", HttpStatusCode.OK, "Gironde")]
    [TestCase("/?territoire=Giro%00nde&q=x", HttpStatusCode.BadRequest, "Aucun territoire ne")]
    public async Task Board_NulInTerritory_ReadAsASpaceNot500(string url, HttpStatusCode expected, string text)
    {
        using var client = app.CreateClient();

        var response = await client.GetAsync(url);

        Assert.That(response.StatusCode, Is.EqualTo(expected));
        Assert.That(await TextAsync(response), Does.Contain(text));
    }

    [Test]
    public async Task TerritoryAutocomplete_NulInQuery_AnswersAsWithoutIt()
    {
        using var client = app.CreateClient();

        var response = await client.GetAsync("/api/v1/territoires?q=Giro%00nde");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.StartWith("["));
    }

    [TestCase("/offres/%20%20%20")]
    [TestCase("/offres/%20")]
    public async Task Detail_BlankKey_404NotAnError(string url)
    {
        using var client = app.CreateClient();

        var response = await client.GetAsync(url);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await TextAsync(response), Does.Contain("Page introuvable"));
    }

    [TestCase("/api/v1/opportunites?theme=%3Cscript%3Exss%3C%2Fscript%3E")]
    [TestCase("/offres/flux.rss?type=%22%3E%3Cimg%20src%3Dx%3E")]
    public async Task ProblemDetails_TypedMarkup_EscapedInJsonAccentsKept(string url)
    {
        using var client = app.CreateClient();

        var response = await client.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That(body, Does.Not.Contain("<script>").And.Not.Contain("<img").And.Contain("\\u003C"));
        Assert.That(body, Does.Contain("Paramètres de recherche invalides"));
    }
}
