using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Playwright;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Shared;
using static Microsoft.Playwright.Assertions;

namespace Opportunites.Tests.Browser;

/// <summary>
/// Issue 22 in Chromium, desktop and phone: the alert form's local-or-wider choice reached from the board, and a job's
/// place of work chosen in the territory field and shown on its page. Screenshots in TestResults/browser/territoire-*.png.
/// </summary>
[Category("Browser")]
public sealed class TerritoryChoicesBrowserTests : BrowserTest
{
    private static readonly string ShotDirectory = Path.Combine(RepositoryRoot.Path, "TestResults", "browser");

    private static async Task ShotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(ShotDirectory);
        await page.ScreenshotAsync(new() { Path = Path.Combine(ShotDirectory, $"territoire-{name}.png"), FullPage = true });
    }

    [Test]
    public async Task AlertForm_FromALocalBoardSearch_LocalChoiceTicked()
    {
        foreach (var (page, name) in new[] { (Page, "desktop"), (await NewPhonePageAsync(), "phone") })
        {
            if (name == "desktop")
            {
                await page.SetViewportSizeAsync(1280, 900);
            }

            await page.GotoAsync("/offres?territoire=C33039&portee=local");
            await page.GetByRole(AriaRole.Link, new() { Name = "Recevoir ces offres par email" }).ClickAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/alertes\\?"));
            await Expect(TerritoryCombobox.Chip(page, "Bègles (33)")).ToBeVisibleAsync();
            await Expect(page.GetByRole(AriaRole.Radio, new() { Name = "Seulement ce territoire et ce qu'il contient" })).ToBeCheckedAsync();
            await Expect(page.GetByRole(AriaRole.Radio, new() { Name = "Aussi les offres régionales et nationales" })).Not.ToBeCheckedAsync();
            await AssertNoSeriousAxeViolationsAsync(page, "/alertes (portée, " + name + ")");
            await AssertNoHorizontalScrollAsync(page, "/alertes (" + name + ")");
            await ShotAsync(page, "alerte-" + name);
        }
    }

    [Test]
    public async Task IssuerJob_PlaceOfWorkChosenInTheField_ShownOnTheJobPage()
    {
        var user = await TestUsers.CreateAsync(SharedDatabase.DataSource, trusted: true);
        var title = TestData.Unique("Animateur(trice) de quartier");
        await Page.SetViewportSizeAsync(1280, 900);
        await BrowserAccounts.LogInAsync(Page, user.Email, user.Password);
        await Page.GotoAsync("/espace/offres/nouvelle");

        await Page.GetByRole(AriaRole.Radio, new() { Name = "Offre d'emploi", Exact = true }).CheckAsync();
        await Page.GetByLabel("Titre").FillAsync(title);
        await TerritoryCombobox.ChooseAsync(Page, "Territoire(s)", "Gironde", "Gironde (33)");
        await Page.GetByLabel("Date limite").FillAsync(ParisTime.FormatDate(ParisTime.Today(TimeProvider.System).AddDays(30)));
        await Page.GetByLabel("Type de contrat").SelectOptionAsync("cdd");
        // The place-of-work field offers communes only: typing "Bord" lists no Bordeaux Métropole.
        await TerritoryCombobox.Field(Page, "Lieu de travail (facultatif)").FillAsync("Bord");
        await Expect(Page.GetByRole(AriaRole.Option).Filter(new() { HasText = "Bordeaux (33)" }).First).ToBeVisibleAsync();
        await Expect(Page.GetByRole(AriaRole.Option).Filter(new() { HasText = "Bordeaux Métropole" })).ToHaveCountAsync(0);
        await TerritoryCombobox.ChooseAsync(Page, "Lieu de travail (facultatif)", "Bègles", "Bègles (33)");
        await AssertNoSeriousAxeViolationsAsync(Page, "/espace/offres/nouvelle (lieu de travail)");
        await ShotAsync(Page, "offre-form-desktop");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Publier", Exact = true }).ClickAsync();
        await Expect(Page.GetByText("Statut : Publiée")).ToBeVisibleAsync();

        long id;
        await using (var conn = await SharedDatabase.DataSource.OpenConnectionAsync())
        {
            id = await conn.ExecuteScalarAsync<long>("SELECT id FROM opportunities WHERE title = @title", new { title });
        }

        foreach (var (page, name) in new[] { (Page, "desktop"), (await NewPhonePageAsync(), "phone") })
        {
            await page.GotoAsync($"/offres/{id}");
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = title })).ToBeVisibleAsync();
            var place = page.Locator("dt", new() { HasText = "Lieu de travail" });
            await Expect(place).ToBeVisibleAsync();
            await Expect(place.Locator("xpath=following-sibling::dd[1]")).ToHaveTextAsync("Bègles (33)");
            await AssertNoSeriousAxeViolationsAsync(page, "offre avec lieu de travail (" + name + ")");
            await AssertNoHorizontalScrollAsync(page, "offre (" + name + ")");
            await ShotAsync(page, "offre-" + name);
        }
    }
}
