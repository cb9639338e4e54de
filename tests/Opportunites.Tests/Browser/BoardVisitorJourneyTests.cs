using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Shared;
using static Microsoft.Playwright.Assertions;

namespace Opportunites.Tests.Browser;

/// <summary>A visitor looks for a call for projects in Gironde about digital inclusion and puts its deadline in a calendar.</summary>
public sealed class BoardVisitorJourneyTests : BrowserTest
{
    [Test]
    public async Task Visitor_FiltersGirondeAapNumerique_OpensResultAndDownloadsItsIcs()
    {
        var db = SharedDatabase.DataSource;
        var deadline = ParisTime.Today(TimeProvider.System).AddDays(5);
        var issuer = TestData.Unique("Département de la Gironde");
        var issuerId = await TestData.CreateIssuerAsync(db, issuer, "collectivite");
        var wanted = TestData.Unique("AAP Inclusion numérique des aînés");
        var inLandes = TestData.Unique("AAP Médiation numérique landaise");
        var job = TestData.Unique("Conseiller numérique girondin");
        var otherSubject = TestData.Unique("AAP Jardins partagés girondins");
        await TestData.CreateOpportunityAsync(db, wanted, ["33"], Kinds.Aap, deadline, issuerId: issuerId,
            description: "Soutien aux ateliers d'accompagnement aux outils numériques.");
        await TestData.CreateOpportunityAsync(db, inLandes, ["40"], Kinds.Aap, deadline, issuerId: issuerId);
        await TestData.CreateOpportunityAsync(db, job, ["33"], Kinds.Emploi, deadline, issuerId: issuerId);
        await TestData.CreateOpportunityAsync(db, otherSubject, ["33"], Kinds.Aap, deadline, issuerId: issuerId,
            description: "Potagers collectifs en pied d'immeuble.");

        await Page.GotoAsync("/offres");
        await Page.GetByLabel("Territoire").FillAsync("Gironde");
        await Page.GetByRole(AriaRole.Checkbox, new() { Name = "Appel à projets", Exact = true }).CheckAsync();
        await Page.GetByRole(AriaRole.Searchbox, new() { Name = "Rechercher" }).FillAsync("numérique");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Rechercher" }).ClickAsync();

        await Expect(Page).ToHaveURLAsync(new Regex(@"/offres\?.*territoire=Gironde"));
        var results = Page.GetByRole(AriaRole.Region, new() { Name = "offre", Exact = false });
        await Expect(results.GetByRole(AriaRole.Link, new() { Name = wanted })).ToBeVisibleAsync();
        foreach (var decoy in new[] { inLandes, job, otherSubject })
        {
            await Expect(Page.GetByText(decoy)).ToHaveCountAsync(0);
        }

        // The form keeps what the visitor chose, so the search can be refined.
        await Expect(Page.GetByRole(AriaRole.Checkbox, new() { Name = "Gironde (33)" })).ToBeCheckedAsync();
        await Expect(Page.GetByRole(AriaRole.Checkbox, new() { Name = "Appel à projets", Exact = true })).ToBeCheckedAsync();

        await results.GetByRole(AriaRole.Link, new() { Name = wanted }).ClickAsync();

        await Expect(Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(wanted);
        var facts = Page.Locator("dl.facts");
        await Expect(facts).ToContainTextAsync(issuer);
        await Expect(facts).ToContainTextAsync("Gironde");
        await Expect(facts).ToContainTextAsync(ParisTime.FormatDate(deadline));

        var download = await Page.RunAndWaitForDownloadAsync(() =>
            Page.GetByRole(AriaRole.Link, new() { Name = "Ajouter à mon agenda" }).ClickAsync());

        Assert.That(download.SuggestedFilename, Does.EndWith(".ics"));
        var path = await download.PathAsync();
        var ics = Unfold(await File.ReadAllTextAsync(path));
        Assert.Multiple(() =>
        {
            Assert.That(ics, Does.StartWith("BEGIN:VCALENDAR"));
            Assert.That(ics, Does.Contain("BEGIN:VEVENT"));
            Assert.That(ics, Does.Contain(wanted));
            Assert.That(ics, Does.Contain($"DTSTART;VALUE=DATE:{deadline:yyyyMMdd}"));
        });
    }

    /// <summary>Undoes RFC 5545 line folding (CRLF + one space), as a calendar application reads the file.</summary>
    private static string Unfold(string ics) => ics.Replace("\r\n ", "", StringComparison.Ordinal);
}
