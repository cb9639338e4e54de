using Microsoft.AspNetCore.Hosting;
using Microsoft.Playwright;
using Opportunites.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Opportunites.Tests.Browser;

/// <summary>The subscribe form used with the keyboard alone (Tab, typing, Space, Enter), focus visible at every step.</summary>
public sealed class SubscribeKeyboardTests : BrowserTest
{
    protected override void ConfigureApp(IWebHostBuilder builder) => BrowserAccounts.RaiseFormLimits(builder);

    [Test]
    public async Task KeyboardOnly_FillsAndSubmitsSubscribeForm_FocusVisibleAndConfirmationRead()
    {
        var email = $"clavier-{Guid.NewGuid():N}@example.org";
        await Page.GotoAsync("/alertes");

        var address = Page.GetByLabel("Adresse email");
        await TabToAsync(Page, address);
        await AssertFocusVisibleAsync(Page, "champ Adresse email");
        await Page.Keyboard.TypeAsync(email);

        // A combobox: typing suggests territories, the arrow keys reach one, Enter makes it a chip.
        var territories = TerritoryCombobox.Field(Page, "Territoires");
        await TabToAsync(Page, territories, maxPresses: 3);
        await AssertFocusVisibleAsync(Page, "champ Territoires");
        await Page.Keyboard.TypeAsync("Gironde");
        await Expect(territories).ToHaveAttributeAsync("aria-expanded", "true");
        await Page.Keyboard.PressAsync("ArrowDown");
        await Page.Keyboard.PressAsync("Enter");
        await Expect(TerritoryCombobox.Chip(Page, "Gironde (33)")).ToBeVisibleAsync();

        // Every kind is ticked by default: the visitor unticks "Offre d'emploi" with Space.
        var job = Page.GetByRole(AriaRole.Checkbox, new() { Name = "Offre d'emploi", Exact = false });
        await TabToAsync(Page, job, maxPresses: 5);
        await AssertFocusVisibleAsync(Page, "case Offre d'emploi");
        await Page.Keyboard.PressAsync("Space");
        await Expect(job).Not.ToBeCheckedAsync();

        // Radios: Tab reaches the checked one, an arrow key picks the other.
        var weekly = Page.GetByRole(AriaRole.Radio, new() { Name = "Hebdomadaire", Exact = false });
        var daily = Page.GetByRole(AriaRole.Radio, new() { Name = "Quotidienne", Exact = false });
        await TabToAsync(Page, weekly, maxPresses: 30);
        await AssertFocusVisibleAsync(Page, "bouton radio Hebdomadaire");
        await Page.Keyboard.PressAsync("ArrowDown");
        await Expect(daily).ToBeCheckedAsync();
        await AssertFocusVisibleAsync(Page, "bouton radio Quotidienne");

        var submit = Page.GetByRole(AriaRole.Button, new() { Name = "M'abonner" });
        await TabToAsync(Page, submit, maxPresses: 3);
        await AssertFocusVisibleAsync(Page, "bouton M'abonner");
        await Page.Keyboard.PressAsync("Enter");

        var status = Page.GetByRole(AriaRole.Status);
        await Expect(status).ToContainTextAsync("Vérifiez votre boîte mail");
        await Expect(status).ToContainTextAsync("un email vient de lui être envoyé");
        // What the keyboard chose reached the server: the confirmation names Gironde and the daily rhythm.
        var confirmation = (await OutboxReader.GetAsync(SharedDatabase.DataSource, email, "alert_confirmation")).Single();
        Assert.That(confirmation.TextBody, Does.Contain("Gironde"));
        Assert.That(confirmation.TextBody, Does.Contain("Veille quotidienne"));
        Assert.That(confirmation.TextBody, Does.Not.Contain("Offre d'emploi"));
        // The page after submitting is usable with the keyboard too.
        await AssertEveryTabStopShowsFocusAsync(Page, "/alertes (demande envoyée)");
    }
}
