using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Playwright;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Accounts;
using Opportunites.Web.Digests;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Shared;
using static Microsoft.Playwright.Assertions;

namespace Opportunites.Tests.Browser;

/// <summary>
/// Someone subscribes to Gironde and confirms from the email received over SMTP; an admin runs the weekly digest from
/// the jobs page; the digest arrives with the new call for projects, and the one-click unsubscribe of the mail program
/// (RFC 8058) stops it.
/// </summary>
public sealed class SubscriberJourneyTests : SmtpJourneyTest
{
    protected override void ConfigureApp(IWebHostBuilder builder)
    {
        base.ConfigureApp(builder);
        // Whatever else the fixture's database holds, no cap may push this test's offer out of the digest.
        builder.UseSetting("Alertes:MaxItemsPerSection", "100000");
    }

    [Test]
    public async Task Subscriber_ConfirmsFromReceivedEmail_AdminRunsWeeklyDigestFromJobsPage_DigestArrivesAndOneClickUnsubscribes()
    {
        var email = $"abonnee-{Guid.NewGuid():N}@example.org";

        await Page.GotoAsync("/");
        await Page.GetByRole(AriaRole.Navigation).GetByRole(AriaRole.Link, new() { Name = "Alertes" }).ClickAsync();
        await Page.GetByLabel("Adresse email").FillAsync(email);
        await TerritoryCombobox.ChooseAsync(Page, "Territoires", "Gironde", "Gironde (33)");
        await Page.GetByRole(AriaRole.Button, new() { Name = "M'abonner" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Status)).ToContainTextAsync("Vérifiez votre boîte mail");

        // The confirmation email, as the SMTP server received it.
        var confirmation = await WaitForMessageAsync(email, m => m.Links.Any(l => l.AbsolutePath == "/alertes/confirmer"),
            "confirmation email");
        await FollowAsync(Page, confirmation.Link("/alertes/confirmer"));
        await Page.GetByRole(AriaRole.Button, new() { Name = "Confirmer mon abonnement" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Status)).ToContainTextAsync("vos alertes sont actives");

        // A new call for projects in Gironde, published ten minutes ago (a digest's window ends shortly before its run).
        var title = TestData.Unique("AAP Tiers-lieux solidaires girondins");
        await TestData.CreateOpportunityAsync(Db.DataSource, title, ["33"], Kinds.Aap,
            ParisTime.Today(TimeProvider.System).AddDays(30), publishedAt: DateTimeOffset.UtcNow.AddMinutes(-10));

        // An admin logs in on another computer and runs the weekly digest from the jobs page.
        var admin = await TestUsers.CreateAsync(Db.DataSource, Policies.AdminRole);
        var adminPage = await NewPageAsync();
        await BrowserAccounts.LogInAsync(adminPage, admin.Email, admin.Password);
        await adminPage.GotoAsync("/admin/taches");
        await AssertNoSeriousAxeViolationsAsync(adminPage, "/admin/taches");
        var weekly = adminPage.Locator($"#tache-{WeeklyDigestJob.Name}");
        await weekly.GetByRole(AriaRole.Button, new() { Name = "Lancer maintenant" }).ClickAsync();
        await Expect(adminPage.GetByRole(AriaRole.Status)).ToBeVisibleAsync();

        // The scheduler takes the manual run: the admin reloads until the run shows as succeeded.
        var run = adminPage.Locator($"#tache-{WeeklyDigestJob.Name}").GetByRole(AriaRole.Row)
            .Filter(new() { HasText = $"Manuelle ({admin.Email})" });
        var until = DateTime.UtcNow + MailWait;
        var finished = run.Filter(new() { HasText = "Réussie" }).Or(run.Filter(new() { HasText = "Échec" }));
        while (await finished.CountAsync() == 0 && DateTime.UtcNow < until)
        {
            await Task.Delay(1000);
            await adminPage.ReloadAsync();
        }

        await Expect(run.Filter(new() { HasText = "Réussie" })).ToBeVisibleAsync();

        // The digest arrives at the SMTP server with the new call for projects.
        // (A digest's List-Unsubscribe carries the subscriber's token, "jeton=".)
        var digest = await WaitForMessageAsync(email,
            m => m.ListUnsubscribeUrl?.Query.Contains("jeton=", StringComparison.Ordinal) == true, "digest");
        Assert.Multiple(() =>
        {
            Assert.That(digest.Defects, Is.Empty);
            Assert.That(digest.Text, Does.Contain(title));
            Assert.That(digest.Html, Does.Contain(WebUtility.HtmlEncode(title)));
            Assert.That(digest.Header("List-Unsubscribe-Post"), Is.EqualTo("List-Unsubscribe=One-Click"));
        });

        // The admin's mail queue page (failed emails) is linked from the jobs page.
        await adminPage.GetByRole(AriaRole.Link, new() { Name = "File des courriels" }).ClickAsync();
        await Expect(adminPage).ToHaveURLAsync(new Regex("/admin/courriels$"));
        await AssertNoSeriousAxeViolationsAsync(adminPage, "/admin/courriels");

        // The mail program's one-click unsubscribe: a bare POST to the List-Unsubscribe URL, no cookie, no token.
        var unsubscribe = digest.ListUnsubscribeUrl!;
        Assert.That(unsubscribe.GetLeftPart(UriPartial.Authority), Is.EqualTo(SiteBaseUrl));
        using var mailProgram = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            BaseAddress = new Uri(BaseUrl),
        };
        using var post = await mailProgram.PostAsync(unsubscribe.PathAndQuery,
            new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));
        Assert.That(post.StatusCode, Is.EqualTo(HttpStatusCode.OK));

        // The manage link of the digest now says the address is unsubscribed
        await FollowAsync(Page, digest.Link("/alertes/gerer"));
        // (with neither digest nor reminder left, the address itself is erased).
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Vous êtes désinscrit");
        await Expect(Page.GetByRole(AriaRole.Status)).ToContainTextAsync("nous ne lui envoyons plus rien");
    }
}
