using Dapper;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Playwright;
using Opportunites.Tests.Browser;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Accounts;
using static Microsoft.Playwright.Assertions;

namespace Opportunites.Tests.Import;

/// <summary>Issue 22 in Chromium: the import preview shows each guess and why, and completes a line with the territory field.</summary>
public sealed class ImportPreviewBrowserTests : BrowserTest
{
    protected override void ConfigureApp(IWebHostBuilder builder) => BrowserAccounts.RaiseFormLimits(builder);

    private static string Lines(string suffix) => $"""
        AAP / AMI
        Ville de Bègles {suffix} / AAP jardins partagés - Jusqu'au 10/10/2030
        Association Relais {suffix} / AAP inconnu du guesseur - Jusqu'au 11/10/2030
        Ville de Saint-Denis {suffix} / AAP sport pour tous - Jusqu'au 12/10/2030
        """;

    private static async Task PreviewAsync(IPage page, string text)
    {
        await page.GotoAsync("/admin/import");
        await page.GetByLabel("Lignes de la lettre d'information").FillAsync(text);
        await page.GetByRole(AriaRole.Button, new() { Name = "Voir l'aperçu" }).ClickAsync();
    }

    [Test]
    public async Task Preview_GuessesWithReasonsThenLinesCompletedWithTerritoryField_CreatedThere()
    {
        var admin = await TestUsers.CreateAsync(SharedDatabase.DataSource, Policies.AdminRole);
        await BrowserAccounts.LogInAsync(Page, admin.Email, admin.Password);
        var suffix = Guid.NewGuid().ToString("N")[..8];

        await PreviewAsync(Page, Lines(suffix));

        await Expect(Page.Locator("#ligne-2")).ToContainTextAsync("« Ville de Bègles » → commune de Bègles (33)");
        await Expect(Page.Locator("#ligne-2").GetByRole(AriaRole.Button, new() { Name = "Retirer Bègles (33)" })).ToBeVisibleAsync();
        await Expect(Page.Locator("#ligne-3")).ToContainTextAsync("Aucun territoire reconnu : à compléter.");
        await Expect(Page.Locator("#ligne-4")).ToContainTextAsync("« Ville de Saint-Denis » : plusieurs communes portent ce nom");
        await Expect(Page.Locator("#apercu-bilan")).ToContainTextAsync("1 nouvelle(s) offre(s), 0 doublon(s) qui seront ignorés, 2 ligne(s) à compléter");
        await AssertNoSeriousAxeViolationsAsync(Page, "/admin/import (aperçu)");

        await TerritoryCombobox.ChooseAsync(Page, "Territoire à choisir (ligne 3)", "Niort", "Niort (79)");
        await Page.Locator("#ligne-4").GetByLabel("Saint-Denis (974)").CheckAsync();
        await Page.GetByRole(AriaRole.Button, new() { Name = "Confirmer l'import" }).ClickAsync();

        await Expect(Page.GetByRole(AriaRole.Status)).ToContainTextAsync("3 offre(s) créée(s), 0 doublon(s) ignoré(s), 0 ligne(s) à compléter");
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        var stored = (await conn.QueryAsync<(string Issuer, string[] Codes)>(
            "SELECT issuer_name, territory_codes FROM opportunities WHERE issuer_name LIKE '%' || @suffix ORDER BY id", new { suffix })).ToList();
        Assert.That(stored.Select(s => (s.Issuer, string.Join(",", s.Codes))), Is.EqualTo(new[]
        {
            ($"Ville de Bègles {suffix}", "C33039"),
            ($"Association Relais {suffix}", "C79191"),
            ($"Ville de Saint-Denis {suffix}", "C97411"),
        }));
    }

    [Test]
    public async Task Preview_LineToCompleteLeftEmpty_NotImportedAsFrance()
    {
        var admin = await TestUsers.CreateAsync(SharedDatabase.DataSource, Policies.AdminRole);
        var phone = await NewPhonePageAsync();
        await BrowserAccounts.LogInAsync(phone, admin.Email, admin.Password);
        var suffix = Guid.NewGuid().ToString("N")[..8];

        await PreviewAsync(phone, Lines(suffix));
        await AssertNoHorizontalScrollAsync(phone, "/admin/import (aperçu) sur téléphone");
        // The guess removed: that line is to complete too.
        await phone.Locator("#ligne-2").GetByRole(AriaRole.Button, new() { Name = "Retirer Bègles (33)" }).ClickAsync();
        await phone.GetByRole(AriaRole.Button, new() { Name = "Confirmer l'import" }).ClickAsync();

        await Expect(phone.GetByRole(AriaRole.Status)).ToContainTextAsync("0 offre(s) créée(s), 0 doublon(s) ignoré(s), 3 ligne(s) à compléter");
        var report = phone.Locator("section[aria-labelledby=bilan]");
        await Expect(report).ToContainTextAsync("retiré dans l'aperçu : à compléter");
        await Expect(report).ToContainTextAsync("aucun territoire reconnu : à compléter");
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        Assert.That(await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM opportunities WHERE issuer_name LIKE '%' || @suffix", new { suffix }),
            Is.Zero);
    }
}
