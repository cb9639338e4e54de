using Microsoft.Playwright;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Shared;
using static Microsoft.Playwright.Assertions;

namespace Opportunites.Tests.Browser;

/// <summary>The shared layout and the home page, as a browser shows them (accessibility, keyboard, phone).</summary>
public sealed class HomePageBrowserTests : BrowserTest
{
    [Test]
    public async Task Home_WithAnOpenOffer_HasNoSeriousAccessibilityViolation()
    {
        // One offer of each kind: each kind has its own badge colours, all must keep their contrast.
        await CreateOpenOfferAsync(TestData.Unique("AAP accessibilité"));
        await CreateOpenOfferAsync(TestData.Unique("AMI accessibilité"), kind: Kinds.Ami);
        await CreateOpenOfferAsync(TestData.Unique("Chargé de mission accessibilité"), kind: Kinds.Emploi);

        await Page.GotoAsync("/");

        await AssertNoSeriousAxeViolationsAsync(Page, "accueil");
    }

    [Test]
    public async Task Home_FirstTab_FocusesVisibleSkipLinkAndEnterMovesFocusToMain()
    {
        await Page.GotoAsync("/");

        await Page.Keyboard.PressAsync("Tab");

        await Expect(Page.Locator(":focus")).ToHaveTextAsync("Aller au contenu");
        await AssertFocusVisibleAsync(Page, "lien d'évitement");

        await Page.Keyboard.PressAsync("Enter");

        await Expect(Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("#contenu$"));
        Assert.That(await Page.EvaluateAsync<string>("() => document.activeElement.id"), Is.EqualTo("contenu"),
            "focus moved to <main>");
    }

    [Test]
    public async Task Home_TabThroughWholePage_EveryStopShowsFocusSkipLinkFirst()
    {
        await Page.GotoAsync("/");

        var stops = await AssertEveryTabStopShowsFocusAsync(Page, "accueil");

        Assert.That(stops, Is.Not.Empty);
        Assert.That(stops[0], Is.EqualTo("a: Aller au contenu"));
        Assert.That(stops, Does.Contain("a: Offres"), "main navigation reachable by keyboard");
    }

    [Test]
    public async Task NotFoundPage_HasNoSeriousAccessibilityViolation()
    {
        var response = await Page.GotoAsync("/cette-page-n-existe-pas");

        Assert.That(response?.Status, Is.EqualTo(404));
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("Page introuvable");
        await AssertNoSeriousAxeViolationsAsync(Page, "page introuvable");
    }

    [Test]
    public async Task Home_OnPhone_HasNoHorizontalScroll()
    {
        // Long unbroken words are what usually push a phone layout sideways.
        await CreateOpenOfferAsync(TestData.Unique(
            "AMI appel-à-manifestation-d'intérêt-pour-l'accompagnement-numérique-des-habitants-des-quartiers-prioritaires"),
            issuer: TestData.Unique("Direction-régionale-de-l'économie-de-l'emploi-du-travail-et-des-solidarités"));
        var phone = await NewPhonePageAsync();

        await phone.GotoAsync("/");

        await AssertNoHorizontalScrollAsync(phone, "accueil (375×667)");
    }

    [Test]
    public async Task Visitor_OpensHome_ReadsNewlyPublishedOfferWithIssuerTerritoryAndDeadline()
    {
        var title = TestData.Unique("AAP inclusion numérique des seniors");
        var issuer = TestData.Unique("Mairie de Bègles");
        var deadline = await CreateOpenOfferAsync(title, issuer);

        await Page.GotoAsync("/");

        var offer = Page.GetByRole(AriaRole.Listitem)
            .Filter(new() { Has = Page.GetByRole(AriaRole.Heading, new() { Name = title }) });
        await Expect(offer).ToBeVisibleAsync();
        await Expect(offer).ToContainTextAsync("AAP");
        await Expect(offer).ToContainTextAsync(issuer);
        await Expect(offer).ToContainTextAsync("Gironde");
        await Expect(offer).ToContainTextAsync($"Jusqu'au {ParisTime.FormatDate(deadline)}");
    }

    /// <summary>A published offer in Gironde closing tonight (Paris): first in the list, whatever other tests made.</summary>
    private static async Task<DateOnly> CreateOpenOfferAsync(string title, string? issuer = null, string kind = Kinds.Aap)
    {
        var today = ParisTime.Today(TimeProvider.System);
        var issuerId = await TestData.CreateIssuerAsync(SharedDatabase.DataSource, issuer);
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, title, ["33"], kind, today, issuerId: issuerId);
        return today;
    }
}
