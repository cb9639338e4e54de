using System.Net;
using Dapper;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Subscriptions;
using static Opportunites.Tests.Subscriptions.AlertTestKit;

namespace Opportunites.Tests.Subscriptions;

/// <summary>What the alert pages say after each step: no silent "all types", no empty form after success, no false
/// "an email was sent", no "prochaine veille" to a reminder-only subscriber, a confirmation before deleting.</summary>
public sealed class AlertFormBehaviourTests
{
    private AlertsAppFactory app = null!;

    [OneTimeSetUp]
    public void Start() => app = new AlertsAppFactory();

    [OneTimeTearDown]
    public async Task StopAsync() => await app.DisposeAsync();

    private HttpClient Client() => app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    private static KeyValuePair<string, string> F(string k, string v) => new(k, v);

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string pageUrl, string postUrl,
        IEnumerable<KeyValuePair<string, string>> fields)
    {
        var html = await client.GetStringAsync(pageUrl);
        return await client.PostAsync(postUrl, new FormUrlEncodedContent(fields.Append(F("__RequestVerificationToken", AntiforgeryToken(html)))));
    }

    [Test]
    public async Task Subscribe_EveryTypeUnticked_AsksForOneAndStoresNothing()
    {
        var email = UniqueEmail("sanstype");
        using var client = Client();

        var response = await PostAsync(client, "/alertes", "/alertes", [F("Email", email), F("territoire", "33"), F("Frequency", "weekly")]);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await WebForms.TextAsync(response), Does.Contain("Choisissez au moins un type d'offre"));
        Assert.That(await OutboxAsync(email), Is.Empty);
    }

    [Test]
    public async Task ManagePage_EveryTypeUnticked_AsksForOneAndKeepsTheKinds()
    {
        var email = UniqueEmail("gerersanstype");
        var id = await SubscribeConfirmedAsync(app.Services, email, ["33"], kinds: [Kinds.Aap]);
        var manage = new Uri(app.Services.GetRequiredService<SubscriptionService>().ManageUrl(id)).PathAndQuery;
        using var client = Client();

        var response = await PostAsync(client, manage, manage + "&handler=Save", [F("territoire", "33"), F("Frequency", "weekly")]);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await WebForms.TextAsync(response), Does.Contain("Choisissez au moins un type d'offre"));
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        Assert.That(await conn.ExecuteScalarAsync<string[]>("SELECT kinds FROM digest_subscriptions WHERE subscriber_id = @id", new { id }),
            Is.EqualTo(new[] { Kinds.Aap }));
    }

    [Test]
    public async Task Subscribe_Done_PageSaysWhatNextWithoutTheFormAgain()
    {
        using var client = Client();

        var response = await PostAsync(client, "/alertes", "/alertes",
            [F("Email", UniqueEmail("succes")), F("territoire", "33"), F("Kinds", "aap"), F("Frequency", "weekly")]);
        var page = await WebForms.GetTextAsync(client, response.Headers.Location!.ToString());

        Assert.That(page, Does.Contain("Vérifiez votre boîte mail"));
        Assert.That(page, Does.Not.Contain("<form method=\"post\"").And.Not.Contain("M'abonner"));
    }

    [Test]
    public async Task Subscribe_AgainWithinTheResendDelay_SaysNoEmailWasSentAndFromWhen()
    {
        var email = UniqueEmail("attente");
        using var client = Client();
        string[] fields = ["territoire", "33"];
        var first = await PostAsync(client, "/alertes", "/alertes", [F("Email", email), F(fields[0], fields[1]), F("Kinds", "aap")]);
        Assert.That(await WebForms.GetTextAsync(client, first.Headers.Location!.ToString()), Does.Contain("un email vient de lui être envoyé"));

        var second = await PostAsync(client, "/alertes", "/alertes", [F("Email", email), F(fields[0], fields[1]), F("Kinds", "aap")]);
        var page = await WebForms.GetTextAsync(client, second.Headers.Location!.ToString());

        Assert.That(await OutboxAsync(email), Has.Count.EqualTo(1));
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        var sentAt = await conn.ExecuteScalarAsync<DateTime>("SELECT last_confirmation_sent_at FROM subscribers WHERE email = @email", new { email });
        var from = Opportunites.Web.Shared.ParisTime.ToParis(new DateTimeOffset(sentAt, TimeSpan.Zero).AddMinutes(10));
        Assert.That(page, Does.Contain("Aucun nouvel email envoyé").And.Not.Contain("vient de lui être envoyé"));
        Assert.That(page, Does.Contain($"à partir de {from:HH'h'mm}"));
    }

    [Test]
    public async Task Confirm_ReminderOnlyAddress_SpeaksOfTheReminderNotOfADigest()
    {
        var offer = await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, TestData.Unique("AAP rappel seul"), ["33"],
            Kinds.Aap, ParisDay(DateTimeOffset.UtcNow).AddDays(30));
        var email = UniqueEmail("rappelseul");
        await app.Services.GetRequiredService<SubscriptionService>().RequestReminderAsync(email, offer, null);
        var link = (await OutboxAsync(email)).Single().Link("/alertes/confirmer");
        using var client = Client();

        var confirmed = await PostAsync(client, link, link, []);
        var html = await confirmed.Content.ReadAsStringAsync();
        var page = WebUtility.HtmlDecode(html);

        Assert.That(page, Does.Contain("Adresse confirmée").And.Contain("votre rappel est actif"));
        Assert.That(page, Does.Not.Contain("prochaine veille"));
        var manage = PageLinks.Named(html, "Gérer mes rappels");
        var managePage = await WebForms.GetTextAsync(client, manage);
        Assert.That(managePage, Does.Contain("Mes rappels de date limite").And.Not.Contain("prochaine veille"));
    }

    [Test]
    public async Task ManagePage_DeleteEverything_BehindAConfirmationStep()
    {
        var email = UniqueEmail("confirmersuppression");
        var id = await SubscribeConfirmedAsync(app.Services, email, ["33"]);
        var manage = new Uri(app.Services.GetRequiredService<SubscriptionService>().ManageUrl(id)).PathAndQuery;
        using var client = Client();

        var page = await client.GetStringAsync(manage);

        // The button that deletes is inside a closed <details>: a first click opens it (no JavaScript needed).
        var details = page[page.IndexOf("<details class=\"confirm-step\">", StringComparison.Ordinal)..];
        details = details[..(details.IndexOf("</details>", StringComparison.Ordinal) + 10)];
        Assert.That(details, Does.Contain("<summary").And.Contain("Supprimer toutes mes données…"));
        Assert.That(details, Does.Contain("handler=Delete").And.Contain("Oui, supprimer définitivement mes données"));
        Assert.That(page.Replace(details, "", StringComparison.Ordinal), Does.Not.Contain("handler=Delete"));
    }

    [Test]
    public async Task AlertPages_Wording_OneWordForUnsubscribedAndForEmailAddress()
    {
        var id = await SubscribeConfirmedAsync(app.Services, UniqueEmail("mots"), ["33"]);
        var subscriptions = app.Services.GetRequiredService<SubscriptionService>();
        using var client = Client();
        var pages = new[]
        {
            await WebForms.GetTextAsync(client, "/alertes"),
            await WebForms.GetTextAsync(client, new Uri(subscriptions.ManageUrl(id)).PathAndQuery),
            await WebForms.GetTextAsync(client, new Uri(subscriptions.DigestUnsubscribeUrl(id)).PathAndQuery),
        };

        foreach (var page in pages)
        {
            Assert.That(page, Does.Not.Contain("désabonn").IgnoreCase.And.Not.Contain("adresse électronique").IgnoreCase);
        }

        Assert.That(pages[2], Does.Contain("Me désinscrire"));
    }

    [Test]
    public async Task AlertPage_Themes_InFrenchOrder()
    {
        var page = await WebForms.GetTextAsync(Client(), "/alertes");

        var order = new[] { "Culture", "Économie sociale et solidaire", "Éducation", "Égalité", "Emploi", "Environnement", "Insertion" }
            .Select(label => page.IndexOf("> " + label, StringComparison.Ordinal)).ToList();
        Assert.That(order, Is.All.GreaterThan(0));
        Assert.That(order, Is.Ordered);
    }
}
