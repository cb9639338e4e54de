using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Accounts;
using Opportunites.Web.Shared;
using static Microsoft.Playwright.Assertions;

namespace Opportunites.Tests.Browser;

/// <summary>
/// Issue 21's issuer journey in Chromium: "Publier une offre" landing, a draft with themes, submission, publication,
/// an edit that waits while the offer stays public, the admin's queue with its diff, closing with a confirmation.
/// Desktop and phone; axe on each new page. Screenshots go to TestResults/browser/issuer-*.png for a person to look at.
/// </summary>
[Category("Browser")]
public sealed class IssuerSpaceBrowserTests : BrowserTest
{
    private static readonly string ShotDirectory = Path.Combine(RepositoryRoot.Path, "TestResults", "browser");

    private static async Task ShotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(ShotDirectory);
        await page.ScreenshotAsync(new() { Path = Path.Combine(ShotDirectory, $"issuer-{name}.png"), FullPage = true });
    }

    [Test]
    public async Task Issuer_DraftWithThemesSubmitPublishEditWaitsClose_Works()
    {
        var user = await TestUsers.CreateAsync(SharedDatabase.DataSource);
        var title = TestData.Unique("AAP Été des quartiers");
        var deadline = ParisTime.FormatDate(ParisTime.Today(TimeProvider.System).AddDays(30));

        await Page.SetViewportSizeAsync(1280, 900);
        await Page.GotoAsync("/publier");
        await Expect(Page.GetByRole(AriaRole.Link, new() { Name = "Créer un compte émetteur" }).Last).ToBeVisibleAsync();
        await AssertNoSeriousAxeViolationsAsync(Page, "/publier");
        await ShotAsync(Page, "publier-desktop");
        await Page.GetByRole(AriaRole.Link, new() { Name = "J'ai déjà un compte : me connecter" }).ClickAsync();
        await Page.GetByLabel("Adresse email").FillAsync(user.Email);
        await Page.GetByLabel("Mot de passe", new() { Exact = true }).FillAsync(user.Password);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Se connecter" }).ClickAsync();
        await Expect(Page).ToHaveURLAsync(new Regex("/espace/offres/nouvelle$"));

        // A draft: kind, title, territory, two themes; the beneficiaries can wait.
        await Page.GetByRole(AriaRole.Radio, new() { Name = "Appel à projets", Exact = true }).CheckAsync();
        await Page.GetByLabel("Titre").FillAsync(title);
        await TerritoryCombobox.ChooseAsync(Page, "Territoire(s)", "Gironde", "Gironde (33)");
        await Page.GetByLabel("Date limite").FillAsync(deadline);
        await Page.GetByLabel("Heure limite").FillAsync("12:00");
        await Page.GetByLabel("Description").FillAsync("Animations d'été.\nPublics :\n- enfants\n- familles");
        await Page.GetByRole(AriaRole.Checkbox, new() { Name = "Jeunesse" }).CheckAsync();
        await Page.GetByRole(AriaRole.Checkbox, new() { Name = "Culture" }).CheckAsync();
        await AssertNoSeriousAxeViolationsAsync(Page, "/espace/offres/nouvelle (thèmes)");
        await ShotAsync(Page, "form-desktop");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Enregistrer le brouillon" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Status).First).ToContainTextAsync("Brouillon enregistré");
        await Expect(Page.Locator(".description li")).ToHaveCountAsync(2);

        // Submitting the incomplete draft says what is missing; completing it and submitting works.
        await Page.GetByRole(AriaRole.Button, new() { Name = "Soumettre à validation" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Indiquez les bénéficiaires éligibles");
        await Page.GetByRole(AriaRole.Link, new() { Name = "Compléter l'offre" }).ClickAsync();
        await Page.GetByLabel("Bénéficiaires éligibles").FillAsync("associations");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Soumettre à validation" }).ClickAsync();
        await Expect(Page.GetByText("Statut : En attente de validation")).ToBeVisibleAsync();
        await ShotAsync(Page, "preview-desktop");

        // The team publishes it.
        var admin = await TestUsers.CreateAsync(SharedDatabase.DataSource, Policies.AdminRole);
        var adminPage = await NewPageAsync();
        await adminPage.SetViewportSizeAsync(1280, 900);
        await BrowserAccounts.LogInAsync(adminPage, admin.Email, admin.Password);
        await adminPage.GotoAsync("/admin/moderation");
        var entry = adminPage.GetByRole(AriaRole.Listitem).Filter(new() { Has = adminPage.GetByRole(AriaRole.Link, new() { Name = title }) }).First;
        await Expect(entry).ToContainTextAsync("Nouvelle");
        await Expect(entry).ToContainTextAsync("Gironde");
        await entry.GetByRole(AriaRole.Button, new() { Name = "Publier", Exact = true }).ClickAsync();
        await Expect(adminPage.GetByRole(AriaRole.Status)).ToContainTextAsync($"Offre « {title} » publiée");

        // The issuer changes the deadline: the page says the published version stays, and it does.
        await Page.GotoAsync(Page.Url.Split('?')[0] + "/modifier");
        await Expect(Page.Locator("#ce-qui-se-passe")).ToContainTextAsync("la version actuelle reste visible");
        await Page.GetByLabel("Date limite").FillAsync(ParisTime.FormatDate(ParisTime.Today(TimeProvider.System).AddDays(45)));
        await ShotAsync(Page, "edit-live-desktop");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Soumettre les modifications à validation" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Status).First).ToContainTextAsync("Modifications enregistrées");
        await Expect(Page.GetByText("Statut : Publiée")).ToBeVisibleAsync();

        // The admin sees the edit with its diff, on desktop and on a phone.
        await adminPage.GotoAsync("/admin/moderation");
        entry = adminPage.GetByRole(AriaRole.Listitem).Filter(new() { Has = adminPage.GetByRole(AriaRole.Link, new() { Name = title }) }).First;
        await Expect(entry).ToContainTextAsync("Modifiée après publication");
        await Expect(entry.Locator("table.diff")).ToContainTextAsync(deadline);
        await AssertNoSeriousAxeViolationsAsync(adminPage, "/admin/moderation (modification)");
        await ShotAsync(adminPage, "queue-desktop");
        var adminPhone = await NewPhonePageAsync();
        await BrowserAccounts.LogInAsync(adminPhone, admin.Email, admin.Password);
        await adminPhone.GotoAsync("/admin/moderation");
        await ShotAsync(adminPhone, "queue-phone");
        await entry.GetByRole(AriaRole.Button, new() { Name = "Publier les modifications" }).ClickAsync();
        await Expect(adminPage.GetByRole(AriaRole.Status)).ToContainTextAsync("publiées");

        // Closing asks first (no script needed), then says it is done.
        await Page.ReloadAsync();
        await Page.GetByText("Clore maintenant").ClickAsync();
        await ShotAsync(Page, "close-confirm-desktop");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Oui, clore l'offre" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Status).First).ToContainTextAsync("Offre close");

        // The same pages on a phone.
        var phone = await NewPhonePageAsync();
        await phone.GotoAsync("/publier");
        await AssertNoHorizontalScrollAsync(phone, "/publier sur téléphone");
        await ShotAsync(phone, "publier-phone");
        await BrowserAccounts.LogInAsync(phone, user.Email, user.Password);
        await phone.GotoAsync("/espace/offres/nouvelle");
        await AssertNoHorizontalScrollAsync(phone, "/espace/offres/nouvelle sur téléphone");
        await ShotAsync(phone, "form-phone");
        await phone.GotoAsync(Page.Url);
        await AssertNoHorizontalScrollAsync(phone, "aperçu sur téléphone");
        await ShotAsync(phone, "preview-phone");
    }
}
