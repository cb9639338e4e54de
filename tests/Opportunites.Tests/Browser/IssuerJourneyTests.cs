using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Accounts;
using Opportunites.Web.Shared;
using static Microsoft.Playwright.Assertions;

namespace Opportunites.Tests.Browser;

/// <summary>
/// An organisation signs up, posts a call for projects, the team publishes it and a visitor finds it: three people,
/// three browser contexts, everything done through the pages.
/// </summary>
public sealed class IssuerJourneyTests : SmtpJourneyTest
{

    [Test]
    public async Task Issuer_SignsUpVerifiesPostsAap_AdminPublishes_VisitorFindsIt()
    {
        var db = Db.DataSource;
        var email = $"emetteur-{Guid.NewGuid():N}@example.org";
        const string password = "une-phrase-de-passe-assez-longue";
        var organisation = TestData.Unique("Centre social des Capucins");
        var title = TestData.Unique("AAP Ateliers numériques de quartier");
        var deadline = ParisTime.FormatDate(ParisTime.Today(TimeProvider.System).AddDays(21));

        // The issuer signs up.
        await Page.GotoAsync("/");
        await Page.GetByRole(AriaRole.Link, new() { Name = "Connexion" }).ClickAsync();
        await Page.GetByRole(AriaRole.Link, new() { Name = "Créer un compte émetteur" }).ClickAsync();
        await Page.GetByLabel("Adresse email").FillAsync(email);
        await Page.GetByLabel("Mot de passe").FillAsync(password);
        await Page.GetByLabel("Nom de l'organisation").FillAsync(organisation);
        await Page.GetByLabel("Type d'organisation").SelectOptionAsync(new SelectOptionValue { Label = "Association" });
        await TerritoryCombobox.ChooseAsync(Page, "Territoire de l'organisation", "gironde", "Gironde (33)");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Créer mon compte" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Status)).ToContainTextAsync("un courriel vient de lui être envoyé");

        // Then opens the verification email the SMTP server received and follows its link.
        var verification = await WaitForMessageAsync(email, m => m.Links.Any(IsVerificationLink), "verification email");
        await FollowAsync(Page, verification.Links.First(IsVerificationLink));
        await Expect(Page).ToHaveURLAsync(new Regex("/connexion"));
        await Expect(Page.GetByRole(AriaRole.Status)).ToBeVisibleAsync();

        await Page.GetByLabel("Adresse email").FillAsync(email);
        await Page.GetByLabel("Mot de passe").FillAsync(password);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Se connecter" }).ClickAsync();
        await Page.GetByRole(AriaRole.Link, new() { Name = "Espace émetteur" }).ClickAsync();
        await Expect(Page.GetByText(organisation)).ToBeVisibleAsync();

        // Posts a call for projects in Gironde: the form starts from the organisation's territory.
        await Page.GetByRole(AriaRole.Link, new() { Name = "Nouvelle offre" }).ClickAsync();
        await Expect(TerritoryCombobox.Chip(Page, "Gironde (33)")).ToBeVisibleAsync();
        await Page.GetByRole(AriaRole.Radio, new() { Name = "Appel à projets", Exact = true }).CheckAsync();
        await Page.GetByLabel("Titre").FillAsync(title);
        await Page.GetByLabel("Date limite").FillAsync(deadline);
        await Page.GetByLabel("Description").FillAsync("Ateliers d'accompagnement au numérique dans les centres sociaux.");
        await Page.GetByLabel("Bénéficiaires éligibles").FillAsync("associations");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Soumettre à validation" }).ClickAsync();

        await Expect(Page.GetByText("Statut : En attente de validation")).ToBeVisibleAsync();
        await Page.GetByRole(AriaRole.Link, new() { Name = "Mon espace" }).ClickAsync();
        var pending = Page.GetByRole(AriaRole.Region, new() { Name = "En attente de validation", Exact = false });
        await Expect(pending.GetByRole(AriaRole.Link, new() { Name = title })).ToBeVisibleAsync();

        // Not on the board before the team has looked at it.
        var visitor = await NewPageAsync();
        await SearchBoardAsync(visitor, title);
        await Expect(visitor.GetByRole(AriaRole.Link, new() { Name = title })).ToHaveCountAsync(0);

        // An admin of the team logs in on another computer and publishes it.
        var admin = await TestUsers.CreateAsync(db, Policies.AdminRole);
        var adminPage = await NewPageAsync();
        await BrowserAccounts.LogInAsync(adminPage, admin.Email, admin.Password);
        await adminPage.GetByRole(AriaRole.Link, new() { Name = "Administration" }).ClickAsync();
        await adminPage.GetByRole(AriaRole.Link, new() { Name = "Modération", Exact = true }).ClickAsync();
        await adminPage.GetByLabel("Chercher une offre").FillAsync(title);
        await adminPage.GetByRole(AriaRole.Button, new() { Name = "Chercher" }).ClickAsync();
        // The offer is listed under the search results (first) and again in the pending queue below.
        var offer = adminPage.GetByRole(AriaRole.Listitem)
            .Filter(new() { Has = adminPage.GetByRole(AriaRole.Link, new() { Name = title }) }).First;
        await Expect(offer).ToContainTextAsync(organisation);
        await offer.GetByRole(AriaRole.Button, new() { Name = "Publier" }).ClickAsync();
        await Expect(adminPage.GetByRole(AriaRole.Status)).ToBeVisibleAsync();

        // The visitor searches the board again and finds it.
        await SearchBoardAsync(visitor, title);
        await visitor.GetByRole(AriaRole.Link, new() { Name = title }).ClickAsync();
        await Expect(visitor.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(title);
        await Expect(visitor.Locator("dl.facts")).ToContainTextAsync(organisation);
        await Expect(visitor.Locator("dl.facts")).ToContainTextAsync(deadline);

        // And the issuer sees it published in their space.
        await Page.ReloadAsync();
        var published = Page.GetByRole(AriaRole.Region, new() { Name = "Publiée", Exact = false });
        await Expect(published.GetByRole(AriaRole.Link, new() { Name = title })).ToBeVisibleAsync();
    }

    private static bool IsVerificationLink(Uri link) =>
        link.AbsolutePath.StartsWith("/compte/verification", StringComparison.Ordinal);

    private static async Task SearchBoardAsync(IPage page, string text)
    {
        await page.GotoAsync("/offres");
        await page.GetByRole(AriaRole.Searchbox, new() { Name = "Rechercher" }).FillAsync(text);
        await page.GetByRole(AriaRole.Button, new() { Name = "Rechercher" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex(@"/offres\?.*q="));
    }
}
