using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Shared;
using static Microsoft.Playwright.Assertions;

namespace Opportunites.Tests.Browser;

/// <summary>
/// The board as a job seeker meets it on a phone and on a desktop: first offers without scrolling, filters folded
/// behind "Filtres (n)", a title that says what is shown, a way back to the search, red only when it is urgent.
/// </summary>
public sealed class BoardPhoneLayoutTests : BrowserTest
{
    private static DateOnly Today => ParisTime.Today(TimeProvider.System);

    [Test]
    public async Task Board_OnPhone_FirstResultVisibleWithoutScrollingAndFiltersFolded()
    {
        var issuer = await TestData.CreateIssuerAsync(SharedDatabase.DataSource, TestData.Unique("Mairie de Bègles"));
        var title = TestData.Unique("Animateur jeunesse");
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, title, ["33"], Kinds.Emploi, Today.AddDays(1), issuerId: issuer);
        var phone = await NewPhonePageAsync();

        await phone.GotoAsync($"/offres?territoire=33&type=emploi&emetteur={issuer}&portee=local");

        var fold = phone.Locator("details.filters-fold");
        await Expect(fold).Not.ToHaveAttributeAsync("open", new Regex(".*"));
        await Expect(fold.Locator("summary")).ToHaveTextAsync("Filtres (4)");
        await Expect(phone.GetByLabel("Date limite au plus tard le")).ToBeHiddenAsync();
        var first = phone.Locator("ol.results li").First;
        await Expect(first.GetByRole(AriaRole.Link, new() { Name = title })).ToBeVisibleAsync();
        var box = await first.BoundingBoxAsync();
        Assert.That(box!.Y + box.Height, Is.LessThanOrEqualTo(PhoneHeight), "le premier résultat tient dans le premier écran");
        await AssertNoHorizontalScrollAsync(phone, "/offres sur téléphone");

        // The fold opens on a tap, without any script needed, and its filters are there.
        await fold.Locator("summary").ClickAsync();
        await Expect(phone.GetByLabel("Date limite au plus tard le")).ToBeVisibleAsync();
        await Expect(TerritoryCombobox.Chip(phone, "Gironde (33)")).ToBeVisibleAsync();
    }

    [Test]
    public async Task Board_WithoutJavaScript_FoldOpensAndSearchKeepsSeveralThemes()
    {
        var page = await NewPageAsync(new BrowserNewContextOptions { JavaScriptEnabled = false });

        await page.GotoAsync("/offres?theme=jeunesse&theme=numerique");
        await page.Locator("details.filters-fold summary").ClickAsync();
        await page.GetByRole(AriaRole.Checkbox, new() { Name = "Culture" }).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Appliquer les filtres" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex("theme=culture"));
        await page.Locator("details.filters-fold summary").ClickAsync();
        foreach (var theme in new[] { "Jeunesse", "Numérique", "Culture" })
        {
            await Expect(page.GetByRole(AriaRole.Checkbox, new() { Name = theme, Exact = true })).ToBeCheckedAsync();
        }
    }

    [Test]
    public async Task Board_TitleBackLinkAndBadges_SayWhatIsShown()
    {
        var issuer = await TestData.CreateIssuerAsync(SharedDatabase.DataSource, TestData.Unique("Centre social"));
        var soon = TestData.Unique("AAP dans trois jours");
        var far = TestData.Unique("AAP dans deux cents jours");
        var farId = await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, far, ["33"], Kinds.Emploi, Today.AddDays(209), issuerId: issuer);
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, soon, ["33"], Kinds.Emploi, Today.AddDays(3), issuerId: issuer);
        for (var i = 0; i < 20; i++)
        {
            await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, TestData.Unique("Emploi de remplissage"), ["33"],
                Kinds.Emploi, Today.AddDays(20 + i), issuerId: issuer);
        }

        await Page.GotoAsync($"/offres?territoire=33&type=emploi&emetteur={issuer}");
        await Expect(Page).ToHaveTitleAsync("Emplois en Gironde — Opportunités");
        var urgent = Page.Locator("li.result", new() { HasText = soon }).Locator(".badge");
        await Expect(urgent).ToHaveClassAsync(new Regex("badge-urgent"));

        await Page.GetByRole(AriaRole.Link, new() { Name = "Page suivante" }).ClickAsync();
        await Expect(Page).ToHaveTitleAsync("Emplois en Gironde — page 2 — Opportunités");
        var searchUrl = Page.Url;

        await Page.GetByRole(AriaRole.Link, new() { Name = far }).ClickAsync();
        var countdown = Page.Locator("dl.facts .badge");
        await Expect(countdown).ToHaveTextAsync("Plus que 209 jours (J-209)");
        await Expect(countdown).Not.ToHaveClassAsync(new Regex("badge-urgent"));
        Assert.That(await countdown.EvaluateAsync<string>("e => getComputedStyle(e).color"), Is.Not.EqualTo("rgb(179, 64, 0)"));

        await Page.GetByRole(AriaRole.Link, new() { Name = "Retour à votre recherche" }).ClickAsync();
        await Expect(Page).ToHaveURLAsync(searchUrl);
        await Expect(Page.GetByRole(AriaRole.Link, new() { Name = far })).ToBeVisibleAsync();
        Assert.That(farId, Is.GreaterThan(0));
    }
}
