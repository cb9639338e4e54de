using System.Net;
using Opportunites.Tests.Infrastructure;

namespace Opportunites.Tests.Board;

public sealed class ReminderOnDetailTests
{
    [Test]
    public async Task Detail_OpenOfferWithDeadline_OffersTheReminderFormWithItsToken()
    {
        var id = await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, TestData.Unique("AAP rappel sur la page"), ["33"],
            deadline: DateOnly.FromDateTime(DateTime.UtcNow.AddDays(20)));
        await using var app = new AppFactory();
        using var client = app.CreateClient();

        var html = await client.GetStringAsync($"/offres/{id}");

        Assert.That(html, Does.Contain("Me rappeler la date limite"));
        Assert.That(html, Does.Contain($"name=\"OpportunityId\" value=\"{id}\""));
        Assert.That(html, Does.Contain("action=\"/alertes/rappel\"").And.Contain("__RequestVerificationToken"));
    }

    [Test]
    public async Task Detail_OfferWithoutDeadline_HasNoReminderForm()
    {
        var id = await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, TestData.Unique("AMI sans date"), ["33"]);
        await using var app = new AppFactory();
        using var client = app.CreateClient();

        var response = await client.GetAsync($"/offres/{id}");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Not.Contain("Me rappeler la date limite"));
    }

    [Test]
    public async Task Detail_OfferClosingToday_NoReminderFormButTheAgendaLink()
    {
        var today = Opportunites.Web.Shared.ParisTime.Today(TimeProvider.System);
        var id = await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, TestData.Unique("AAP dernier jour"), ["33"],
            deadline: today, deadlineTime: new TimeOnly(23, 59));
        await using var app = new AppFactory();
        using var client = app.CreateClient();

        var html = await client.GetStringAsync($"/offres/{id}");

        Assert.That(html, Does.Not.Contain("Me rappeler la date limite"));
        Assert.That(html, Does.Contain($"/offres/{id}/agenda.ics"), "the offer is still open");
    }
}
