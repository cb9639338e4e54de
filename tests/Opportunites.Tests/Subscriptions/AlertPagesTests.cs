using System.Net;
using Dapper;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Digests;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Subscriptions;
using static Opportunites.Tests.Subscriptions.AlertTestKit;

namespace Opportunites.Tests.Subscriptions;

public sealed class AlertPagesTests
{
    private AlertsAppFactory app = null!;

    [OneTimeSetUp]
    public void Start() => app = new AlertsAppFactory();

    [OneTimeTearDown]
    public async Task StopAsync() => await app.DisposeAsync();

    private HttpClient Client() => app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    private static async Task<HttpResponseMessage> PostFormAsync(HttpClient client, string pageUrl, string postUrl,
        IEnumerable<KeyValuePair<string, string>> fields)
    {
        var html = await client.GetStringAsync(pageUrl);
        var form = fields.Append(new("__RequestVerificationToken", AntiforgeryToken(html)));
        return await client.PostAsync(postUrl, new FormUrlEncodedContent(form));
    }

    private static KeyValuePair<string, string> F(string k, string v) => new(k, v);

    [Test]
    public async Task Subscribe_ThroughForm_NothingButConfirmationUntilConfirmed()
    {
        var monday = NextMonday0700();
        var title = TestData.Unique("AAP pour abonné du formulaire");
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, title, ["87"], Kinds.Ami,
            ParisDay(monday).AddDays(30), publishedAt: monday.AddDays(-1));
        var email = UniqueEmail("formulaire");
        using var client = Client();

        var response = await PostFormAsync(client, "/alertes", "/alertes",
            [F("Email", "  " + email.ToUpperInvariant()), F("territoire", "87"), F("Kinds", "ami"), F("Frequency", "weekly")]);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(await client.GetStringAsync(response.Headers.Location!.ToString()), Does.Contain("Vérifiez votre boîte mail"));
        var rows = await OutboxAsync(email);
        Assert.That(rows.Select(r => r.Category), Is.EqualTo(new[] { "alert_confirmation" }));
        Assert.That(rows[0].TextBody, Does.Contain("Haute-Vienne").And.Contain("Appel à manifestation d'intérêt"));
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        var id = await conn.ExecuteScalarAsync<long>("SELECT id FROM subscribers WHERE email = @email AND consent_at IS NOT NULL", new { email });

        await Runner(app.Services).RunAsync(monday, Frequencies.Weekly, [id]);
        Assert.That(await DigestsAsync(email), Is.Empty, "rien avant la confirmation");

        // The link only shows a button: a mail scanner's GET confirms nothing.
        var confirmLink = rows[0].Link("/alertes/confirmer");
        var confirmPage = await client.GetStringAsync(confirmLink);
        Assert.That(confirmPage, Does.Contain("Confirmer mon abonnement"));
        await Runner(app.Services).RunAsync(monday, Frequencies.Weekly, [id]);
        Assert.That(await DigestsAsync(email), Is.Empty);

        var confirmed = await client.PostAsync(confirmLink,
            new FormUrlEncodedContent([F("__RequestVerificationToken", AntiforgeryToken(confirmPage))]));
        Assert.That(confirmed.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var confirmedPage = await confirmed.Content.ReadAsStringAsync();
        Assert.That(confirmedPage, Does.Contain("Adresse confirmée").And.Contain("/alertes/gerer?jeton="));

        // Single use: the same link, opened or posted again, says so and no longer leads to the manage page.
        var reopened = await client.GetStringAsync(confirmLink);
        var reposted = await client.PostAsync(confirmLink,
            new FormUrlEncodedContent([F("__RequestVerificationToken", AntiforgeryToken(confirmPage))]));
        var repostedPage = await reposted.Content.ReadAsStringAsync();
        Assert.That(reposted.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        foreach (var page in new[] { reopened, repostedPage })
        {
            Assert.That(page, Does.Contain("Adresse déjà confirmée").And.Not.Contain("/alertes/gerer").And.Not.Contain("Confirmer mon abonnement"));
        }

        await Runner(app.Services).RunAsync(monday, Frequencies.Weekly, [id]);
        Assert.That((await DigestsAsync(email)).Single().TextBody, Does.Contain(title));
        var consent = await conn.QuerySingleAsync<(DateTime ConfirmedAt, string? ConsentIp)>(
            "SELECT confirmed_at, consent_ip FROM subscribers WHERE id = @id", new { id });
        Assert.That(consent.ConfirmedAt, Is.GreaterThan(DateTime.UtcNow.AddMinutes(-5)));
    }

    [Test]
    public async Task Subscribe_KnownOrUnknownEmail_SameAnswer()
    {
        var known = UniqueEmail("connu");
        await SubscribeConfirmedAsync(app.Services, known, ["33"]);
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        // The confirmation email went out long enough ago for another email to be allowed.
        await conn.ExecuteAsync("UPDATE subscribers SET last_confirmation_sent_at = now() - interval '1 hour' WHERE email = @known", new { known });
        var unknown = UniqueEmail("inconnu");
        using var client = Client();

        var a = await PostFormAsync(client, "/alertes", "/alertes", [F("Email", known), F("territoire", "75"), F("Kinds", "aap")]);
        var b = await PostFormAsync(client, "/alertes", "/alertes", [F("Email", unknown), F("territoire", "75"), F("Kinds", "aap")]);

        Assert.That(a.StatusCode, Is.EqualTo(b.StatusCode));
        Assert.That(a.Headers.Location, Is.EqualTo(b.Headers.Location));
        // The known address is told, not changed: its owner decides from the manage link.
        var toKnown = await OutboxAsync(known);
        Assert.That(toKnown.Last().Category, Is.EqualTo("alert_notice"));
        Assert.That(toKnown.Last().Link("/alertes/gerer"), Does.StartWith("/alertes/gerer?jeton="));
        Assert.That(await conn.ExecuteScalarAsync<string[]>(
            "SELECT d.territory_codes FROM digest_subscriptions d JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email = @known",
            new { known }), Is.EqualTo(new[] { "33" }));
    }

    [Test]
    public async Task Subscribe_RepeatedRequests_OneConfirmationEmailPerDelay()
    {
        var email = UniqueEmail("repetition");
        using var client = Client();

        for (var i = 0; i < 3; i++)
        {
            await PostFormAsync(client, "/alertes", "/alertes", [F("Email", email), F("territoire", "75"), F("Kinds", "aap")]);
        }

        Assert.That(await OutboxAsync(email), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Subscribe_InvalidInput_FrenchErrorsAndNothingStored()
    {
        using var client = Client();

        var response = await PostFormAsync(client, "/alertes", "/alertes",
            [F("Email", "pas-une-adresse"), F("territoire", "ZZ99"), F("Kinds", "stage")]);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(html, Does.Contain("Saisissez une adresse email valide"));
        Assert.That(html, Does.Match("Aucun territoire ne (correspond à|s'appelle) « ZZ99 »"));
        Assert.That(html, Does.Contain("Un des types d'offre choisis est inconnu."));
    }

    [Test]
    public async Task Subscribe_TooManyPosts_French429()
    {
        await using var limited = new AlertsAppFactory(formPermitLimit: 2);
        using var client = limited.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var statuses = new List<HttpStatusCode>();

        for (var i = 0; i < 3; i++)
        {
            var r = await PostFormAsync(client, "/alertes", "/alertes", [F("Email", UniqueEmail("limite")), F("territoire", "75"), F("Kinds", "aap")]);
            statuses.Add(r.StatusCode);
            if (r.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.That(await r.Content.ReadAsStringAsync(), Does.Contain("Trop de tentatives"));
            }
        }

        Assert.That(statuses, Is.EqualTo(new[] { HttpStatusCode.Redirect, HttpStatusCode.Redirect, HttpStatusCode.TooManyRequests }));
        Assert.That((await client.GetAsync("/alertes")).StatusCode, Is.EqualTo(HttpStatusCode.OK), "la lecture n'est pas limitée");
    }

    [Test]
    public async Task OneClickPost_ListUnsubscribeUrl_UnsubscribesAt200WithoutRedirectOrCookie()
    {
        var monday = NextMonday0700();
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, TestData.Unique("AAP désinscription"), ["19"],
            Kinds.Aap, ParisDay(monday).AddDays(30), publishedAt: monday.AddDays(-1));
        var email = UniqueEmail("unclic");
        var id = await SubscribeConfirmedAsync(app.Services, email, ["19"]);
        await Runner(app.Services).RunAsync(monday, Frequencies.Weekly, [id]);
        var header = (await DigestsAsync(email)).Single().Headers["List-Unsubscribe"];
        var url = header.Trim('<', '>')[AlertsAppFactory.BaseUrl.Length..];
        using var client = Client();

        var get = await client.GetAsync(url);
        Assert.That(get.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await get.Content.ReadAsStringAsync(), Does.Contain("Me désinscrire"));
        Assert.That(await HasDigestAsync(id), Is.True, "un GET ne désinscrit pas");

        // A fresh client: no cookie, no antiforgery token, exactly what a mail provider sends.
        using var provider = Client();
        var post = await provider.PostAsync(url, new FormUrlEncodedContent([F("List-Unsubscribe", "One-Click")]));

        Assert.That(post.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(post.Headers.Location, Is.Null);
        Assert.That(await post.Content.ReadAsStringAsync(), Does.Contain("Vous êtes désinscrit"));
        Assert.That(await HasDigestAsync(id), Is.False);
        await Runner(app.Services).RunAsync(monday.AddDays(7), Frequencies.Weekly, [id]);
        Assert.That(await DigestsAsync(email), Has.Count.EqualTo(1));
        // Mail providers may retry: still 200.
        var again = await provider.PostAsync(url, new FormUrlEncodedContent([F("List-Unsubscribe", "One-Click")]));
        Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        // The reader opening the link again is told it is done, not asked to confirm once more.
        var later = await client.GetAsync(url);
        var page = await later.Content.ReadAsStringAsync();
        Assert.That(later.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(page, Does.Contain("Vous êtes déjà désinscrit").And.Contain("href=\"/alertes\"").And.Not.Contain("<form method=\"post\""));
    }

    [Test]
    public async Task OneClickPost_ForgedToken_404AndNothingChanges()
    {
        using var client = Client();

        var post = await client.PostAsync("/alertes/desinscription?jeton=CfDJ8forged",
            new FormUrlEncodedContent([F("List-Unsubscribe", "One-Click")]));

        Assert.That(post.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await post.Content.ReadAsStringAsync(), Does.Contain("Lien invalide"));
    }

    [Test]
    public async Task ManagePage_ChangedTerritoryAndPause_ApplyToNextDigests()
    {
        var monday = NextMonday0700();
        var day = ParisDay(monday);
        var before = TestData.Unique("AAP Cantal");
        var after = TestData.Unique("AAP Lozère");
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, before, ["15"], Kinds.Aap, day.AddDays(40), themes: ["mobilite"], publishedAt: monday.AddDays(-1));
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, after, ["48"], Kinds.Aap, day.AddDays(40), themes: ["mobilite"], publishedAt: monday.AddDays(2));
        var email = UniqueEmail("gerer");
        var id = await SubscribeConfirmedAsync(app.Services, email, ["15"], themes: ["mobilite"]);
        await Runner(app.Services).RunAsync(monday, Frequencies.Weekly, [id]);
        var manage = (await DigestsAsync(email)).Single().Link("/alertes/gerer");
        using var client = Client();

        var page = await client.GetStringAsync(manage);
        Assert.That(page, Does.Contain(email));
        var saved = await client.PostAsync(manage + "&handler=Save", new FormUrlEncodedContent(
            [F("__RequestVerificationToken", AntiforgeryToken(page)), F("territoire", "48"), F("Kinds", "aap"), F("Themes", "mobilite"), F("Frequency", "weekly")]));
        Assert.That(saved.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(await client.GetStringAsync(saved.Headers.Location!.ToString()), Does.Contain("Vos préférences sont enregistrées"));

        await Runner(app.Services).RunAsync(monday.AddDays(7), Frequencies.Weekly, [id]);
        var second = (await DigestsAsync(email))[1];
        Assert.That(second.TextBody, Does.Contain(after).And.Not.Contain(before));
        Assert.That(second.TextBody, Does.Contain("territoire=48&type=aap&theme=mobilite"));

        page = await client.GetStringAsync(manage);
        var paused = await client.PostAsync(manage + "&handler=Pause",
            new FormUrlEncodedContent([F("__RequestVerificationToken", AntiforgeryToken(page))]));
        Assert.That(paused.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, TestData.Unique("AAP pendant la pause"), ["48"],
            Kinds.Aap, day.AddDays(40), themes: ["mobilite"], publishedAt: monday.AddDays(9));
        await Runner(app.Services).RunAsync(monday.AddDays(14), Frequencies.Weekly, [id]);
        Assert.That(await DigestsAsync(email), Has.Count.EqualTo(2));
    }

    [Test]
    public async Task BoardLink_LocalScope_PrefillsTheChoiceSavedAndChangedOnTheManagePage()
    {
        var monday = NextMonday0700();
        var day = ParisDay(monday);
        var local = TestData.Unique("AAP de la Corrèze");
        var regional = TestData.Unique("AAP de Nouvelle-Aquitaine");
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, local, ["19"], Kinds.Aap, day.AddDays(40), publishedAt: monday.AddDays(-1));
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, regional, ["R75"], Kinds.Aap, day.AddDays(40), publishedAt: monday.AddDays(-1));
        var email = UniqueEmail("portee");
        using var client = Client();

        // The board's own link, followed as a visitor would: the form says "seulement ce territoire".
        var board = await client.GetStringAsync("/offres?territoire=19&portee=local");
        var formUrl = PageLinks.Named(board, "Recevoir ces offres par email");
        var form = await client.GetStringAsync(formUrl);
        Assert.That(form, Does.Match("""value="local" checked"""));
        Assert.That(form, Does.Not.Match("""value="tout" checked"""));

        var posted = await client.PostAsync("/alertes", new FormUrlEncodedContent(
            [F("__RequestVerificationToken", AntiforgeryToken(form)), F("Email", email), F("territoire", "19"), F("Kinds", "aap"),
             F("Frequency", "weekly"), F("portee", "local")]));
        Assert.That(posted.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        var confirmation = (await OutboxAsync(email)).Single();
        Assert.That(confirmation.TextBody, Does.Contain("seulement ces territoires et ce qu'ils contiennent"));
        var confirmLink = confirmation.Link("/alertes/confirmer");
        var confirmPage = await client.GetStringAsync(confirmLink);
        await client.PostAsync(confirmLink, new FormUrlEncodedContent([F("__RequestVerificationToken", AntiforgeryToken(confirmPage))]));
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        var id = await conn.ExecuteScalarAsync<long>("SELECT id FROM subscribers WHERE email = @email", new { email });

        await Runner(app.Services).RunAsync(monday, Frequencies.Weekly, [id]);
        var first = (await DigestsAsync(email)).Single();
        Assert.That(first.TextBody, Does.Contain(local).And.Not.Contain(regional));
        Assert.That(first.TextBody, Does.Contain("territoire=19&type=aap&portee=local"));

        // The manage page shows the saved choice; choosing the wider offers brings the regional one.
        var manage = first.Link("/alertes/gerer");
        var page = await client.GetStringAsync(manage);
        Assert.That(page, Does.Match("""value="local" checked""").And.Not.Match("""value="tout" checked"""));
        var saved = await client.PostAsync(manage + "&handler=Save", new FormUrlEncodedContent(
            [F("__RequestVerificationToken", AntiforgeryToken(page)), F("territoire", "19"), F("Kinds", "aap"), F("Frequency", "weekly"), F("portee", "tout")]));
        Assert.That(saved.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(await client.GetStringAsync(manage), Does.Match("""value="tout" checked"""));
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, regional + " bis", ["R75"], Kinds.Aap, day.AddDays(40), publishedAt: monday.AddDays(2));
        await Runner(app.Services).RunAsync(monday.AddDays(7), Frequencies.Weekly, [id]);
        Assert.That((await DigestsAsync(email))[1].TextBody, Does.Contain(regional + " bis"));
    }

    [Test]
    public async Task ManagePage_DeleteEverything_RemovesTheRows()
    {
        var monday = NextMonday0700();
        var offer = await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, TestData.Unique("AAP à effacer"), ["23"],
            Kinds.Aap, ParisDay(DateTimeOffset.UtcNow).AddDays(30), publishedAt: monday.AddDays(-1));
        var email = UniqueEmail("effacer");
        var id = await SubscribeConfirmedAsync(app.Services, email, ["23"]);
        await app.Services.GetRequiredService<SubscriptionService>().RequestReminderAsync(email, offer, null);
        await Runner(app.Services).RunAsync(monday, Frequencies.Weekly, [id]);
        var manage = (await DigestsAsync(email)).Single().Link("/alertes/gerer");
        using var client = Client();
        var page = await client.GetStringAsync(manage);
        Assert.That(page, Does.Contain("Mes rappels de date limite"));

        var deleted = await client.PostAsync(manage + "&handler=Delete",
            new FormUrlEncodedContent([F("__RequestVerificationToken", AntiforgeryToken(page))]));

        Assert.That(deleted.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await deleted.Content.ReadAsStringAsync(), Does.Contain("Données effacées"));
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        var left = await conn.ExecuteScalarAsync<long>("""
            SELECT (SELECT count(*) FROM subscribers WHERE id = @id OR email = @email)
                 + (SELECT count(*) FROM digest_subscriptions WHERE subscriber_id = @id)
                 + (SELECT count(*) FROM digest_deliveries WHERE subscriber_id = @id)
                 + (SELECT count(*) FROM deadline_reminders WHERE subscriber_id = @id)
                 + (SELECT count(*) FROM outbox WHERE to_address = @email)
            """, new { id, email });
        Assert.That(left, Is.Zero);
        Assert.That((await client.GetAsync(manage)).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task ManageLink_AfterAppRestart_StillValidWithKeysFromPostgres()
    {
        var email = UniqueEmail("redemarrage");
        string manage;
        await using (var first = new AlertsAppFactory())
        {
            var id = await SubscribeConfirmedAsync(first.Services, email, ["44"]);
            manage = new Uri(first.Services.GetRequiredService<SubscriptionService>().ManageUrl(id)).PathAndQuery;
        }

        await using var second = new AlertsAppFactory();
        using var client = second.CreateClient();
        var response = await client.GetAsync(manage);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Contain(email));
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM data_protection_keys"), Is.GreaterThan(0));
    }

    [Test]
    public async Task Purge_UnconfirmedForMoreThanSevenDays_Deleted()
    {
        var stale = UniqueEmail("perime");
        var fresh = UniqueEmail("recent");
        var subscriptions = app.Services.GetRequiredService<SubscriptionService>();
        await subscriptions.SubscribeAsync(stale, DigestPreferences.Canonical(["75"], null, null, null), null);
        await subscriptions.SubscribeAsync(fresh, DigestPreferences.Canonical(["75"], null, null, null), null);
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        await conn.ExecuteAsync("UPDATE subscribers SET created_at = now() - interval '8 days' WHERE email = @stale", new { stale });

        await app.Services.GetRequiredService<ReminderRunner>().PurgeUnconfirmedAsync(DateTimeOffset.UtcNow);

        var left = await conn.QueryAsync<string>("SELECT email FROM subscribers WHERE email IN (@stale, @fresh)", new { stale, fresh });
        Assert.That(left, Is.EqualTo(new[] { fresh }));
    }

    [Test]
    public async Task Subscribe_AddressConfirmedByAReminder_DigestStartsWithNoticeAndOneClickHeaders()
    {
        var offer = await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, TestData.Unique("AAP rappel puis veille"), ["56"],
            Kinds.Aap, ParisDay(DateTimeOffset.UtcNow).AddDays(30));
        var email = UniqueEmail("rappelpuisveille");
        var subscriptions = app.Services.GetRequiredService<SubscriptionService>();
        await subscriptions.RequestReminderAsync(email, offer, null);
        var confirmation = (await OutboxAsync(email)).Single();
        using var client = Client();
        var confirmLink = confirmation.Link("/alertes/confirmer");
        var page = await client.GetStringAsync(confirmLink);
        await client.PostAsync(confirmLink, new FormUrlEncodedContent([F("__RequestVerificationToken", AntiforgeryToken(page))]));

        await PostFormAsync(client, "/alertes", "/alertes", [F("Email", email), F("territoire", "56"), F("Kinds", "aap")]);

        var notice = (await OutboxAsync(email)).Last();
        Assert.That(notice.Subject, Is.EqualTo("Votre veille Opportunités est activée"));
        Assert.That(notice.Headers["List-Unsubscribe-Post"], Is.EqualTo("List-Unsubscribe=One-Click"));
        Assert.That(await HasDigestAsync(await SubscriberIdAsync(email)), Is.True);
    }

    [Test]
    public async Task ManagePage_PauseThenResume_DigestComesBack()
    {
        var monday = NextMonday0700();
        var title = TestData.Unique("AAP après la reprise");
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, title, ["22"], Kinds.Aap,
            ParisDay(monday).AddDays(30), themes: ["numerique"], publishedAt: monday.AddDays(-1));
        var email = UniqueEmail("reprise");
        var id = await SubscribeConfirmedAsync(app.Services, email, ["22"], themes: ["numerique"]);
        var manage = new Uri(app.Services.GetRequiredService<SubscriptionService>().ManageUrl(id)).PathAndQuery;
        using var client = Client();

        var page = await client.GetStringAsync(manage);
        await client.PostAsync(manage + "&handler=Pause", new FormUrlEncodedContent([F("__RequestVerificationToken", AntiforgeryToken(page))]));
        page = await client.GetStringAsync(manage);
        Assert.That(page, Does.Contain("en pause"));
        await Runner(app.Services).RunAsync(monday, Frequencies.Weekly, [id]);
        Assert.That(await DigestsAsync(email), Is.Empty);
        await client.PostAsync(manage + "&handler=Resume", new FormUrlEncodedContent([F("__RequestVerificationToken", AntiforgeryToken(page))]));
        await Runner(app.Services).RunAsync(monday.AddDays(1), Frequencies.Weekly, [id]);

        Assert.That((await DigestsAsync(email)).Single().TextBody, Does.Contain(title));
    }

    private static async Task<long> SubscriberIdAsync(string email)
    {
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<long>("SELECT id FROM subscribers WHERE email = @email", new { email });
    }

    private static async Task<bool> HasDigestAsync(long id)
    {
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM digest_subscriptions WHERE subscriber_id = @id)", new { id });
    }
}
