using System.Net;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Digests;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Shared;
using Opportunites.Web.Subscriptions;
using static Opportunites.Tests.Subscriptions.AlertTestKit;

namespace Opportunites.Tests.Subscriptions;

public sealed class ReminderTests
{
    private AlertsAppFactory app = null!;

    [OneTimeSetUp]
    public void Start() => app = new AlertsAppFactory();

    [OneTimeTearDown]
    public async Task StopAsync() => await app.DisposeAsync();

    private ReminderRunner Reminders => app.Services.GetRequiredService<ReminderRunner>();

    private static DateTimeOffset At(DateOnly day) => ParisInstant(day, new TimeOnly(8, 0));

    private static async Task<long> SubscriberIdAsync(string email)
    {
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<long>("SELECT id FROM subscribers WHERE email = @email", new { email });
    }

    private static async Task<List<OutboxRow>> RemindersAsync(string email) =>
        (await OutboxAsync(email)).Where(r => r.Category == "reminder").ToList();

    [Test]
    public async Task Reminder_RequestedFromOfferForm_ConfirmedThenJ7AndJ1SentOnceEach()
    {
        var deadline = ParisDay(DateTimeOffset.UtcNow).AddDays(20);
        var title = TestData.Unique("AAP à ne pas manquer");
        var offer = await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, title, ["31"], Kinds.Aap, deadline);
        var email = UniqueEmail("rappel");
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        var form = await client.GetStringAsync($"/alertes/rappel?offre={offer}");
        Assert.That(form, Does.Contain("Me rappeler la date limite"));
        var posted = await client.PostAsync("/alertes/rappel", new FormUrlEncodedContent(
        [
            new("__RequestVerificationToken", AntiforgeryToken(form)),
            new("OpportunityId", offer.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("Email", email),
        ]));
        Assert.That(posted.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await posted.Content.ReadAsStringAsync(), Does.Contain("Rappel enregistré"));
        var confirmation = (await OutboxAsync(email)).Single();
        Assert.That(confirmation.Category, Is.EqualTo("alert_confirmation"));
        Assert.That(confirmation.TextBody, Does.Contain(title));
        var id = await SubscriberIdAsync(email);

        await Reminders.RunAsync(At(deadline.AddDays(-7)), [id]);
        Assert.That(await RemindersAsync(email), Is.Empty, "rien avant la confirmation");

        var token = Regex.Match(confirmation.TextBody, "jeton=([A-Za-z0-9_-]+)").Groups[1].Value;
        await app.Services.GetRequiredService<SubscriptionService>().ConfirmAsync(token, null);
        await Reminders.RunAsync(At(deadline.AddDays(-7)), [id]);
        await Reminders.RunAsync(At(deadline.AddDays(-6)), [id]);
        await Reminders.RunAsync(At(deadline.AddDays(-2)), [id]);
        await Reminders.RunAsync(At(deadline.AddDays(-1)), [id]);
        await Reminders.RunAsync(At(deadline.AddDays(-1)).AddHours(3), [id]);
        await Reminders.RunAsync(At(deadline), [id]);

        var sent = await RemindersAsync(email);
        Assert.That(sent, Has.Count.EqualTo(2));
        Assert.That(sent[0].Subject, Does.StartWith("Rappel : «").And.Contain(deadline.ToString("dd/MM/yyyy")));
        Assert.That(sent[1].Subject, Does.StartWith("Dernier jour : «"));
        Assert.That(sent[0].TextBody, Does.Contain("Jusqu'au " + deadline.ToString("dd/MM/yyyy")));
        Assert.That(sent[0].TextBody, Does.Contain(OfferLinks.DetailPath(offer, title)));
        Assert.That(sent[0].Headers["List-Unsubscribe"], Does.StartWith("<http://localhost/alertes/desinscription?rappel="));
        Assert.That(sent[0].Headers["List-Unsubscribe-Post"], Is.EqualTo("List-Unsubscribe=One-Click"));
        Assert.That(sent[0].TextBody, Does.Contain("Ne plus recevoir de rappel pour cette offre : http://localhost/alertes/desinscription?rappel="));
    }

    [Test]
    public async Task Reminder_DeadlineMovedLater_RemindersFollowTheNewDate()
    {
        var deadline = ParisDay(DateTimeOffset.UtcNow).AddDays(15);
        var moved = deadline.AddDays(10);
        var offer = await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, TestData.Unique("AAP reporté"), ["31"], Kinds.Aap, deadline);
        var email = UniqueEmail("report");
        var id = await SubscribeConfirmedAsync(app.Services, email, ["31"]);
        // Already confirmed: no second confirmation, the reminder is active at once.
        Assert.That(await app.Services.GetRequiredService<SubscriptionService>().RequestReminderAsync(email, offer, null), Is.Null);
        Assert.That((await OutboxAsync(email)).Count(r => r.Category == "alert_confirmation"), Is.EqualTo(1));

        await Reminders.RunAsync(At(deadline.AddDays(-7)), [id]);
        await using (var conn = await SharedDatabase.DataSource.OpenConnectionAsync())
        {
            await conn.ExecuteAsync("UPDATE opportunities SET deadline_date = @moved WHERE id = @offer", new { moved, offer });
        }

        // The old J-1 is no reminder any more; the new date's J-7 and J-1 are.
        await Reminders.RunAsync(At(deadline.AddDays(-1)), [id]);
        await Reminders.RunAsync(At(moved.AddDays(-7)), [id]);
        await Reminders.RunAsync(At(moved.AddDays(-1)), [id]);

        var sent = await RemindersAsync(email);
        Assert.That(sent.Select(s => s.Subject.Split(':')[0]), Is.EqualTo(new[] { "Rappel ", "Rappel ", "Dernier jour " }));
        Assert.That(sent[0].Subject, Does.Contain(deadline.ToString("dd/MM/yyyy")));
        Assert.That(sent[1].Subject, Does.Contain(moved.ToString("dd/MM/yyyy")));
        Assert.That(sent[2].Subject, Does.Contain(moved.ToString("dd/MM/yyyy")));
    }

    [Test]
    public async Task Reminder_OfferClosedBeforeTheDate_Skipped()
    {
        var deadline = ParisDay(DateTimeOffset.UtcNow).AddDays(12);
        var offer = await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, TestData.Unique("AAP retiré"), ["31"], Kinds.Aap, deadline);
        var email = UniqueEmail("ferme");
        var id = await SubscribeConfirmedAsync(app.Services, email, ["31"]);
        await app.Services.GetRequiredService<SubscriptionService>().RequestReminderAsync(email, offer, null);
        await using (var conn = await SharedDatabase.DataSource.OpenConnectionAsync())
        {
            await conn.ExecuteAsync("UPDATE opportunities SET status = 'closed', closed_at = now() WHERE id = @offer", new { offer });
        }

        await Reminders.RunAsync(At(deadline.AddDays(-7)), [id]);
        await Reminders.RunAsync(At(deadline.AddDays(-1)), [id]);

        Assert.That(await RemindersAsync(email), Is.Empty);
    }

    [Test]
    public async Task Reminder_OneClickUnsubscribe_StopsTheNextStage()
    {
        var deadline = ParisDay(DateTimeOffset.UtcNow).AddDays(12);
        var offer = await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, TestData.Unique("AAP rappel arrêté"), ["31"], Kinds.Aap, deadline);
        var email = UniqueEmail("stoprappel");
        var id = await SubscribeConfirmedAsync(app.Services, email, ["31"]);
        await app.Services.GetRequiredService<SubscriptionService>().RequestReminderAsync(email, offer, null);
        await Reminders.RunAsync(At(deadline.AddDays(-7)), [id]);
        var url = (await RemindersAsync(email)).Single().Headers["List-Unsubscribe"].Trim('<', '>')[AlertsAppFactory.BaseUrl.Length..];
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var before = await (await client.GetAsync(url)).Content.ReadAsStringAsync();

        var post = await client.PostAsync(url, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));
        await Reminders.RunAsync(At(deadline.AddDays(-1)), [id]);
        var after = await (await client.GetAsync(url)).Content.ReadAsStringAsync();

        Assert.That(post.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await post.Content.ReadAsStringAsync(), Does.Contain("Vous ne recevrez plus de rappel pour cette offre"));
        Assert.That(await RemindersAsync(email), Has.Count.EqualTo(1));
        Assert.That(before, Does.Contain("Ne plus recevoir ce rappel"));
        Assert.That(after, Does.Contain("Vous êtes déjà désinscrit").And.Contain("plus actif").And.Not.Contain("Ne plus recevoir ce rappel"));
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        Assert.That(await conn.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM digest_subscriptions WHERE subscriber_id = @id)", new { id }),
            Is.True, "la veille continue");
    }

    [Test]
    public async Task Reminder_OfferWithoutDeadline_FrenchError()
    {
        var offer = await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, TestData.Unique("Emploi sans date"), ["31"], Kinds.Emploi);
        var email = UniqueEmail("sansdate");

        var error = await app.Services.GetRequiredService<SubscriptionService>().RequestReminderAsync(email, offer, null);

        Assert.That(error, Does.Contain("pas de date limite"));
        Assert.That(await OutboxAsync(email), Is.Empty);
    }

    [Test]
    public async Task Reminder_OfferClosingToday_TooLateFrenchError()
    {
        var today = ParisTime.Today(TimeProvider.System);
        var offer = await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, TestData.Unique("AAP dernier jour"), ["31"],
            deadline: today, deadlineTime: new TimeOnly(23, 59));
        var email = UniqueEmail("dernierjour");

        var error = await app.Services.GetRequiredService<SubscriptionService>().RequestReminderAsync(email, offer, null);

        Assert.That(error, Is.EqualTo("La date limite de cette offre est aujourd'hui : il est trop tard pour un rappel."));
        Assert.That(await RemindersAsync(email), Is.Empty);
        Assert.That(await OutboxAsync(email), Is.Empty);
    }
}
