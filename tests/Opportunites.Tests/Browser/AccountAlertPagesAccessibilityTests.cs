using Microsoft.AspNetCore.Hosting;
using Microsoft.Playwright;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Accounts;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Shared;
using static Microsoft.Playwright.Assertions;

namespace Opportunites.Tests.Browser;

/// <summary>
/// axe-core (RGAA / WCAG 2.1 AA: no serious or critical violation) on the account, issuer, moderation and alert pages,
/// empty and with their validation errors shown, as a user reaches them.
/// </summary>
public sealed class AccountAlertPagesAccessibilityTests : BrowserTest
{
    private static DateOnly Today => ParisTime.Today(TimeProvider.System);

    protected override void ConfigureApp(IWebHostBuilder builder) => BrowserAccounts.RaiseFormLimits(builder);

    [Test]
    public async Task SubscribePage_EmptyThenInvalidAddressSubmitted_NoSeriousAxeViolation()
    {
        await Page.GotoAsync("/alertes");
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Recevoir les alertes par email");
        await AssertNoSeriousAxeViolationsAsync(Page, "/alertes (vide)");

        // Passes the browser's own check (type=email accepts a domain without a dot) but not the server's.
        await Page.GetByLabel("Adresse email").FillAsync("marie@association");
        await TerritoryCombobox.ChooseAsync(Page, "Territoires", "33", "Gironde (33)");
        await Page.GetByRole(AriaRole.Button, new() { Name = "M'abonner" }).ClickAsync();

        await Expect(Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Saisissez une adresse email valide");
        var address = Page.GetByLabel("Adresse email");
        await Expect(address).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(address).ToHaveAccessibleDescriptionAsync(
            "Saisissez une adresse email valide (exemple : prenom.nom@association.fr).");
        await AssertNoSeriousAxeViolationsAsync(Page, "/alertes (erreurs)");
    }

    [Test]
    public async Task SignUpPage_EmptyThenSubmittedEmpty_NoSeriousAxeViolation()
    {
        await Page.GotoAsync("/inscription");
        await AssertNoSeriousAxeViolationsAsync(Page, "/inscription (vide)");

        await Page.GetByLabel("Adresse email").FillAsync("pas-une-adresse");
        await Page.GetByLabel("Mot de passe").FillAsync("court");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Créer mon compte" }).ClickAsync();

        // Each message is heard on its own field, not only seen next to it (RGAA 11.10).
        var email = Page.GetByLabel("Adresse email");
        await Expect(email).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(email).ToHaveAccessibleDescriptionAsync(
            (await Page.Locator("#Email-erreur").InnerTextAsync()).Trim());
        await Expect(Page.GetByLabel("Nom de l'organisation")).ToHaveAccessibleDescriptionAsync(
            "Le nom de l'organisation est obligatoire (2 à 200 caractères).");
        await Expect(Page.GetByLabel("Type d'organisation")).ToHaveAccessibleDescriptionAsync("Choisissez le type d'organisation.");
        await AssertNoSeriousAxeViolationsAsync(Page, "/inscription (erreurs)");
    }

    [Test]
    public async Task LoginPage_EmptyThenWrongPassword_NoSeriousAxeViolation()
    {
        var user = await TestUsers.CreateAsync(SharedDatabase.DataSource);
        await Page.GotoAsync("/connexion");
        // No error box (not even an empty one) before anything was submitted.
        await Expect(Page.Locator(".errors")).ToBeHiddenAsync();
        await AssertNoSeriousAxeViolationsAsync(Page, "/connexion");

        await Page.GetByLabel("Adresse email").FillAsync(user.Email);
        await Page.GetByLabel("Mot de passe").FillAsync("pas-le-bon-mot-de-passe");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Se connecter" }).ClickAsync();

        await Expect(Page.Locator(".errors")).Not.ToBeEmptyAsync();
        await AssertNoSeriousAxeViolationsAsync(Page, "/connexion (refusée)");
    }

    [Test]
    public async Task IssuerSpace_OffersInSeveralStatuses_NoSeriousAxeViolation()
    {
        var user = await TestUsers.CreateAsync(SharedDatabase.DataSource);
        var titles = new Dictionary<string, string>();
        foreach (var status in new[] { Statuses.Draft, Statuses.Pending, Statuses.Published, Statuses.Closed })
        {
            titles[status] = TestData.Unique($"AAP espace {status}");
            await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, titles[status], ["33"], Kinds.Aap,
                Today.AddDays(10), status, user.IssuerId);
        }

        await BrowserAccounts.LogInAsync(Page, user.Email, user.Password);
        await Page.GotoAsync("/espace");

        foreach (var (status, title) in titles)
        {
            await Expect(Page.GetByRole(AriaRole.Region, new() { Name = Statuses.Label(status), Exact = false })
                .GetByRole(AriaRole.Link, new() { Name = title })).ToBeVisibleAsync();
        }

        await AssertNoSeriousAxeViolationsAsync(Page, "/espace");
    }

    [Test]
    public async Task PostForm_SubmittedWithErrors_ErrorsShownAndNoSeriousAxeViolation()
    {
        var user = await TestUsers.CreateAsync(SharedDatabase.DataSource);
        await BrowserAccounts.LogInAsync(Page, user.Email, user.Password);
        await Page.GotoAsync("/espace/offres/nouvelle");
        await AssertNoSeriousAxeViolationsAsync(Page, "/espace/offres/nouvelle (vide)");

        await Page.GetByLabel("Date limite").FillAsync("31/02/2026");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Soumettre à validation" }).ClickAsync();

        await Expect(Page.GetByRole(AriaRole.Alert).First).ToContainTextAsync("erreur");
        await Expect(Page.GetByLabel("Titre")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(Page.GetByLabel("Titre")).ToHaveAccessibleDescriptionAsync("Le titre est obligatoire.");
        await Expect(Page.GetByLabel("Date limite")).ToHaveAccessibleDescriptionAsync("Cette date n'existe pas : « 31/02/2026 ».");
        await Expect(TerritoryCombobox.Field(Page, "Territoire(s)")).ToHaveAccessibleDescriptionAsync(new System.Text.RegularExpressions.Regex("^Erreur : Choisissez au moins un territoire\\."));
        await Expect(Page.GetByRole(AriaRole.Group, new() { Name = "Type d'offre" }))
            .ToHaveAccessibleDescriptionAsync(new System.Text.RegularExpressions.Regex("Choisissez le type d'offre"));
        await AssertNoSeriousAxeViolationsAsync(Page, "/espace/offres/nouvelle (erreurs)");
    }

    [Test]
    public async Task AdminModeration_PendingOfferAndSearch_NoSeriousAxeViolation()
    {
        var issuer = await TestUsers.CreateAsync(SharedDatabase.DataSource);
        var title = TestData.Unique("AAP à modérer");
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, title, ["33"], Kinds.Aap, Today.AddDays(10),
            Statuses.Pending, issuer.IssuerId);
        var admin = await TestUsers.CreateAsync(SharedDatabase.DataSource, Policies.AdminRole);

        await BrowserAccounts.LogInAsync(Page, admin.Email, admin.Password);
        await Page.GotoAsync("/admin/moderation");
        await Page.GetByLabel("Chercher une offre").FillAsync(title);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Chercher" }).ClickAsync();

        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "Résultats (1)" })).ToBeVisibleAsync();
        await AssertNoSeriousAxeViolationsAsync(Page, "/admin/moderation");
    }

    [Test]
    public async Task ConfirmAndManagePages_FromConfirmationEmail_NoSeriousAxeViolation()
    {
        var email = $"axe-gerer-{Guid.NewGuid():N}@example.org";
        await Page.GotoAsync("/alertes");
        await Page.GetByLabel("Adresse email").FillAsync(email);
        await TerritoryCombobox.ChooseAsync(Page, "Territoires", "33", "Gironde (33)");
        await Page.GetByRole(AriaRole.Button, new() { Name = "M'abonner" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Status)).ToContainTextAsync("Vérifiez votre boîte mail");

        await Page.GotoAsync(await OutboxReader.GetLatestLinkAsync(SharedDatabase.DataSource, email, "alert_confirmation"));
        await AssertNoSeriousAxeViolationsAsync(Page, "/alertes/confirmer");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Confirmer mon abonnement" }).ClickAsync();
        await Page.GetByRole(AriaRole.Link, new() { Name = "Gérer mon alerte" }).ClickAsync();

        await Expect(Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Gérer mon alerte");
        await Expect(Page.GetByText(email)).ToBeVisibleAsync();
        await AssertNoSeriousAxeViolationsAsync(Page, "/alertes/gerer");
    }
}
