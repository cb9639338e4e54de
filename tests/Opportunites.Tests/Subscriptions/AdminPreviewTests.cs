using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Opportunities;
using static Opportunites.Tests.Subscriptions.AlertTestKit;

namespace Opportunites.Tests.Subscriptions;

public sealed class AdminPreviewTests
{
    private AlertsAppFactory app = null!;

    [OneTimeSetUp]
    public void Start() => app = new AlertsAppFactory();

    [OneTimeTearDown]
    public async Task StopAsync() => await app.DisposeAsync();

    private async Task<HttpClient> AdminClientAsync()
    {
        var (client, _) = await TestUsers.LoggedInAsync(app, Opportunites.Web.Accounts.Policies.AdminRole);
        return client;
    }

    [Test]
    public async Task AdminPreview_Subscriber_ShowsThisWeeksDigestAsSentWithoutSendingIt()
    {
        var title = TestData.Unique("AAP aperçu admin");
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, title, ["62"], Kinds.Aap,
            ParisDay(DateTimeOffset.UtcNow).AddDays(40), themes: ["logement"], publishedAt: DateTimeOffset.UtcNow.AddDays(-1));
        var email = UniqueEmail("apercu");
        await SubscribeConfirmedAsync(app.Services, email, ["62"], themes: ["logement"]);
        using var client = await AdminClientAsync();

        var response = await client.GetAsync($"/admin/alertes?email={Uri.EscapeDataString(email)}");
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(html, Does.Contain("1 nouvelle opportunité — semaine du"));
        Assert.That(html, Does.Contain(title));
        Assert.That(html, Does.Contain("http://localhost/alertes/desinscription?jeton="));
        Assert.That(html, Does.Contain("Abonnés par territoire").And.Contain("Pas-de-Calais"));
        Assert.That(await DigestsAsync(email), Is.Empty, "un aperçu n'envoie rien");
    }

    [Test]
    public async Task AdminPreview_TerritoryAndKinds_RendersTheDigestOfThoseCriteria()
    {
        var title = TestData.Unique("AMI aperçu par critères");
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, title, ["80"], Kinds.Ami,
            ParisDay(DateTimeOffset.UtcNow).AddDays(40), publishedAt: DateTimeOffset.UtcNow.AddDays(-1));
        using var client = await AdminClientAsync();

        var withAmi = WebUtility.HtmlDecode(await client.GetStringAsync("/admin/alertes?territoire=R32&type=ami"));
        var emploiOnly = WebUtility.HtmlDecode(await client.GetStringAsync("/admin/alertes?territoire=R32&type=emploi"));

        Assert.That(withAmi, Does.Contain(title));
        Assert.That(emploiOnly, Does.Not.Contain(title));
    }

    [Test]
    public async Task AdminPreview_LocalScope_LeavesOutTheRegionalOffers()
    {
        var day = ParisDay(DateTimeOffset.UtcNow);
        var local = TestData.Unique("AMI de la Creuse pour l'aperçu");
        var regional = TestData.Unique("AMI régional pour l'aperçu");
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, local, ["23"], Kinds.Ami, day.AddDays(40), themes: ["sante"], publishedAt: DateTimeOffset.UtcNow.AddDays(-1));
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, regional, ["R75"], Kinds.Ami, day.AddDays(40), themes: ["sante"], publishedAt: DateTimeOffset.UtcNow.AddDays(-1));
        using var client = await AdminClientAsync();

        var wide = WebUtility.HtmlDecode(await client.GetStringAsync("/admin/alertes?territoire=23&type=ami&theme=sante"));
        var near = WebUtility.HtmlDecode(await client.GetStringAsync("/admin/alertes?territoire=23&type=ami&theme=sante&portee=local"));

        Assert.That(wide, Does.Contain(local).And.Contain(regional));
        Assert.That(near, Does.Contain(local).And.Not.Contain(regional));
        Assert.That(near, Does.Match("""value="local" checked"""));
    }

    [Test]
    public async Task AdminPreview_Anonymous_RedirectedToLogin()
    {
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        var response = await client.GetAsync("/admin/alertes");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(response.Headers.Location!.ToString(), Does.Contain("/connexion"));
    }
}
