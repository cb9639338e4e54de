using System.Net;
using Dapper;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Digests;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Shared;
using Opportunites.Web.Subscriptions;
using static Microsoft.Playwright.Assertions;

namespace Opportunites.Tests.Browser;

/// <summary>
/// Someone subscribes to Gironde, confirms, receives a digest with a new call for projects and leaves with the
/// one-click unsubscribe of their mail program (RFC 8058).
/// </summary>
public sealed class SubscriberJourneyTests : BrowserTest
{
    protected override void ConfigureApp(IWebHostBuilder builder)
    {
        BrowserAccounts.RaiseFormLimits(builder);
        // The shared test database holds other tests' offers: no cap may push this test's offer out of the digest.
        builder.UseSetting("Alertes:MaxItemsPerSection", "100000");
    }

    [Test]
    public async Task Subscriber_SubscribesGirondeConfirms_DigestHoldsNewAap_OneClickUnsubscribeStopsIt()
    {
        var db = SharedDatabase.DataSource;
        var email = $"abonnee-{Guid.NewGuid():N}@example.org";

        await Page.GotoAsync("/");
        await Page.GetByRole(AriaRole.Navigation).GetByRole(AriaRole.Link, new() { Name = "Alertes" }).ClickAsync();
        await Page.GetByLabel("Adresse email").FillAsync(email);
        await Page.GetByLabel("Territoires").SelectOptionAsync(new SelectOptionValue { Label = "Gironde (33)" });
        await Page.GetByRole(AriaRole.Button, new() { Name = "M'abonner" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Status)).ToContainTextAsync("Vérifiez votre boîte mail");

        // The confirmation email, read from the outbox until the jobs branch lands (then from the test SMTP server).
        await Page.GotoAsync(await OutboxReader.GetLatestLinkAsync(db, email, "alert_confirmation"));
        await Page.GetByRole(AriaRole.Button, new() { Name = "Confirmer mon abonnement" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Status)).ToContainTextAsync("vos alertes sont actives");

        // A new call for projects in Gironde is published before the Monday digest.
        var monday = NextMonday0700();
        var title = TestData.Unique("AAP Tiers-lieux solidaires girondins");
        await TestData.CreateOpportunityAsync(db, title, ["33"], Kinds.Aap,
            DateOnly.FromDateTime(ParisTime.ToParis(monday)).AddDays(30), publishedAt: monday.AddDays(-1));

        // The digest run, called directly until the admin jobs page ("run now") lands with the jobs branch.
        var subscriberId = await SubscriberIdAsync(email);
        var runner = App.Services.GetRequiredService<DigestRunner>();
        await runner.RunAsync(monday, Frequencies.Weekly, [subscriberId]);

        var digest = (await DigestsAsync(email)).Single();
        Assert.That(digest.TextBody, Does.Contain(title));
        Assert.That(digest.HtmlBody, Does.Contain(WebUtility.HtmlEncode(title)));
        Assert.That(digest.ListUnsubscribePost, Is.EqualTo("List-Unsubscribe=One-Click"));

        // The mail program's one-click unsubscribe: a bare POST, no cookie, no antiforgery token (RFC 8058).
        var unsubscribe = new Uri(digest.ListUnsubscribe.Trim('<', '>'));
        using var mailProgram = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            BaseAddress = new Uri(BaseUrl),
        };
        using var post = await mailProgram.PostAsync(unsubscribe.PathAndQuery,
            new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));
        Assert.That(post.StatusCode, Is.EqualTo(HttpStatusCode.OK));

        // The manage link of the digest now says the address is unsubscribed
        await Page.GotoAsync(ManagePath(digest.TextBody));
        // (with neither digest nor reminder left, the address itself is erased)…
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Vous êtes désabonné");
        await Expect(Page.GetByRole(AriaRole.Status)).ToContainTextAsync("nous ne lui envoyons plus rien");

        // …and the next Monday brings nothing.
        await runner.RunAsync(monday.AddDays(7), Frequencies.Weekly, [subscriberId]);
        Assert.That(await DigestsAsync(email), Has.Count.EqualTo(1));
    }

    /// <summary>The next Monday 07:00 Paris after now: subscribers confirmed now are due then.</summary>
    private static DateTimeOffset NextMonday0700()
    {
        var today = ParisTime.Today(TimeProvider.System);
        var monday = today.AddDays(7 - (((int)today.DayOfWeek + 6) % 7)).ToDateTime(new TimeOnly(7, 0));
        return new DateTimeOffset(monday, ParisTime.Zone.GetUtcOffset(monday)).ToUniversalTime();
    }

    private static string ManagePath(string textBody)
    {
        var link = textBody.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries)
            .First(w => w.Contains("/alertes/gerer?", StringComparison.Ordinal));
        return new Uri(link).PathAndQuery;
    }

    private static async Task<long> SubscriberIdAsync(string email)
    {
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        return await conn.QuerySingleAsync<long>("SELECT id FROM subscribers WHERE email = @email", new { email });
    }

    private const string DigestsSql = """
        SELECT text_body, html_body,
               headers ->> 'List-Unsubscribe' AS list_unsubscribe,
               headers ->> 'List-Unsubscribe-Post' AS list_unsubscribe_post
        FROM outbox WHERE to_address = @email AND category = 'digest' ORDER BY id
        """;

    private static async Task<List<DigestRow>> DigestsAsync(string email)
    {
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<DigestRow>(DigestsSql, new { email })).AsList();
    }

    private sealed class DigestRow
    {
        public string TextBody { get; init; } = "";
        public string HtmlBody { get; init; } = "";
        public string ListUnsubscribe { get; init; } = "";
        public string ListUnsubscribePost { get; init; } = "";
    }
}
