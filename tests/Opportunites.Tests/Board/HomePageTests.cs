using System.Net;
using Opportunites.Tests;
using Opportunites.Tests.Infrastructure;

namespace Opportunites.Tests.Board;

public sealed class HomePageTests
{
    [Test]
    public async Task Home_OpenOpportunityCreatedByTest_IsListedWithFrenchDeadline()
    {
        var title = TestData.Unique("AAP lutte contre la précarité étudiante");
        // A deadline earlier than any other row: it must come first, soonest deadline first.
        var deadline = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(2));
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, title, ["33"], deadline: deadline);
        await using var app = new AppFactory();
        using var client = app.CreateClient();

        // Searched by its unique title: other tests' offers may fill the first page.
        var response = await client.GetAsync("/?q=" + Uri.EscapeDataString(title));
        var html = await response.Content.ReadAsStringAsync();

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(html, Does.Contain(title));
        Assert.That(html, Does.Contain($"Jusqu'au {deadline:dd/MM/yyyy}"));
    }

    [Test]
    public async Task Home_ExpiredOrDraftOpportunity_IsNotListed()
    {
        var expired = TestData.Unique("Offre expirée");
        var draft = TestData.Unique("Offre brouillon");
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, expired, ["33"], deadline: new DateOnly(2020, 1, 1));
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, draft, ["33"], status: "draft");
        await using var app = new AppFactory();
        using var client = app.CreateClient();

        Assert.That(await BoardLookup.IsListedAsync(client, expired, "/"), Is.False);
        Assert.That(await BoardLookup.IsListedAsync(client, draft, "/"), Is.False);
        // The same lookup finds an open offer: the absence above is not a lookup that never matches.
        var open = TestData.Unique("Offre ouverte");
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, open, ["33"], deadline: new DateOnly(2099, 1, 1));
        Assert.That(await BoardLookup.IsListedAsync(client, open, "/"), Is.True);
    }

    [Test]
    public async Task Healthz_DatabaseReachable_ReportsHealthy()
    {
        await using var app = new AppFactory();
        using var client = app.CreateClient();

        var response = await client.GetAsync("/healthz");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo("Healthy"));
    }

    [Test]
    public async Task UnknownPage_Answers404InFrench()
    {
        await using var app = new AppFactory();
        using var client = app.CreateClient();

        var response = await client.GetAsync("/cette-page-n-existe-pas");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain("Page introuvable"));
    }
}
