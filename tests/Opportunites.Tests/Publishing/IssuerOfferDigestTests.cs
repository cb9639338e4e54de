using Opportunites.Tests.Infrastructure;
using Opportunites.Tests.Subscriptions;
using Opportunites.Web.Subscriptions;
using static Opportunites.Tests.Infrastructure.WebForms;
using static Opportunites.Tests.Subscriptions.AlertTestKit;

namespace Opportunites.Tests.Publishing;

/// <summary>An offer posted through the issuer form reaches the theme-filtered alerts (issue 21, item 2).</summary>
public sealed class IssuerOfferDigestTests
{
    private AlertsAppFactory app = null!;

    [OneTimeSetUp]
    public void Start() => app = new AlertsAppFactory();

    [OneTimeTearDown]
    public async Task StopAsync() => await app.DisposeAsync();

    [Test]
    public async Task Digest_IssuerPostedOfferWithTheme_ReachesThemeFilteredAlert()
    {
        var (client, _) = await TestUsers.LoggedInAsync(app, trusted: true);
        var deadline = DateTime.UtcNow.AddDays(45).ToString("dd/MM/yyyy", System.Globalization.CultureInfo.InvariantCulture);
        var mobility = TestData.Unique("AAP mobilité des jeunes ruraux");
        var sport = TestData.Unique("AAP sport santé");
        var withTheme = PostingTests.AapFields(mobility, deadline, territory: "2B");
        withTheme.Add(F("Input.Themes", "mobilite"));
        withTheme.Add(F("Input.Themes", "jeunesse"));
        var otherTheme = PostingTests.AapFields(sport, deadline, territory: "2B");
        otherTheme.Add(F("Input.Themes", "sport"));
        await PostAsync(client, "/espace/offres/nouvelle", withTheme);
        await PostAsync(client, "/espace/offres/nouvelle", otherTheme);
        var email = UniqueEmail("theme-emetteur");
        var id = await SubscribeConfirmedAsync(app.Services, email, ["2B"], themes: ["mobilite"]);

        await Runner(app.Services).RunAsync(NextMonday0700(), Frequencies.Weekly, [id]);

        var digest = (await DigestsAsync(email)).Single();
        Assert.That(digest.TextBody, Does.Contain(mobility));
        Assert.That(digest.TextBody, Does.Not.Contain(sport));
        client.Dispose();
    }
}
