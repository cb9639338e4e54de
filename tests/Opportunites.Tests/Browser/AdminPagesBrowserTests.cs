using Microsoft.AspNetCore.Hosting;
using Microsoft.Playwright;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Accounts;
using Opportunites.Web.Mail;
using Opportunites.Web.Shared;
using static Microsoft.Playwright.Assertions;

namespace Opportunites.Tests.Browser;

/// <summary>Issue 21, items 9 and 13 in Chromium: every admin page fits a 375 px phone; the export's "Copier" buttons copy.</summary>
public sealed class AdminPagesBrowserTests : BrowserTest
{
    protected override void ConfigureApp(IWebHostBuilder builder) => BrowserAccounts.RaiseFormLimits(builder);

    private static readonly string[] AdminPages =
    [
        "/admin", "/admin/moderation", "/admin/moderation/organisations", "/admin/moderation/journal", "/admin/import",
        "/admin/export", "/admin/taches", "/admin/courriels", "/admin/alertes",
    ];

    /// <summary>Rows with the long unbroken words admin tables meet: addresses, SMTP errors, titles.</summary>
    private static async Task<string> SeedLongRowsAsync()
    {
        var address = $"prenom.nom-tres-long-{Guid.NewGuid():N}@une-association-au-nom-interminable.example.org";
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        // One transaction: a delivery sweep on the shared database must never see the row still queued.
        await using var tx = await conn.BeginTransactionAsync();
        var id = (await Outbox.EnqueueAsync(conn, tx, new OutgoingEmail("alert_confirmation", address,
            "Confirmez votre alerte Opportunités", "texte", "<p>html</p>")))!.Value;
        await using var cmd = new Npgsql.NpgsqlCommand("""
            UPDATE outbox SET status = 'failed', attempts = 5,
                   last_error = '550-5.1.1 The email account that you tried to reach does not exist: https://support.example.org/mail/?p=NoSuchUser'
            WHERE id = @id
            """, conn, tx);
        cmd.Parameters.AddWithValue("id", id);
        await cmd.ExecuteNonQueryAsync();
        await tx.CommitAsync();
        var issuer = await TestData.CreateIssuerAsync(SharedDatabase.DataSource, TestData.Unique("Communauté d'agglomération du Grand-Villeneuvois"));
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource,
            TestData.Unique("Appel à manifestation d'intérêt « Tiers-lieux nourriciers et alimentation durable »"), ["47"],
            status: "pending", issuerId: issuer, deadline: DateOnly.FromDateTime(DateTime.UtcNow.AddDays(20)));
        return address;
    }

    [Test]
    public async Task EveryAdminPage_OnPhone_NoHorizontalScroll()
    {
        var address = await SeedLongRowsAsync();
        var admin = await TestUsers.CreateAsync(SharedDatabase.DataSource, Policies.AdminRole);
        var phone = await NewPhonePageAsync();
        await BrowserAccounts.LogInAsync(phone, admin.Email, admin.Password);

        foreach (var path in AdminPages)
        {
            var response = await phone.GotoAsync(path);
            Assert.That(response!.Status, Is.EqualTo(200), path);
            await AssertNoHorizontalScrollAsync(phone, path + " sur téléphone");
        }

        // The pages with their results: a mail search, an export, an import preview with choices to make.
        await phone.GotoAsync("/admin/courriels?adresse=" + Uri.EscapeDataString(address));
        await Expect(phone.Locator("#recherche")).ToContainTextAsync("Confirmation d'alerte");
        await AssertNoHorizontalScrollAsync(phone, "/admin/courriels (recherche) sur téléphone");

        var today = ParisTime.FormatDate(ParisTime.Today(TimeProvider.System));
        await phone.GotoAsync($"/admin/export?du={today}&au={today}&territoire=FR");
        await AssertNoHorizontalScrollAsync(phone, "/admin/export (blocs) sur téléphone");

        await phone.GotoAsync("/admin/import");
        await phone.GetByLabel("Lignes de la lettre d'information").FillAsync(
            "Mairie de Villeneuve-sur-Lot / Médiateur ou médiatrice sociale et culturelle - Jusqu'au 9 juin 2030\n"
            + "AAP / AMI\nFondation Quelconque / AAP inconnu du guesseur - 2030-10-11");
        await phone.GetByRole(AriaRole.Button, new() { Name = "Voir l'aperçu" }).ClickAsync();
        await Expect(phone.GetByLabel("Type à choisir")).ToBeVisibleAsync();
        await AssertNoHorizontalScrollAsync(phone, "/admin/import (aperçu) sur téléphone");
        await AssertNoSeriousAxeViolationsAsync(phone, "/admin/import (aperçu) sur téléphone");
    }

    [Test]
    public async Task Hub_Desktop_MenuLinksItAndAxeClean()
    {
        var admin = await TestUsers.CreateAsync(SharedDatabase.DataSource, Policies.AdminRole);
        await BrowserAccounts.LogInAsync(Page, admin.Email, admin.Password);

        await Page.GetByRole(AriaRole.Navigation, new() { Name = "Navigation principale" })
            .GetByRole(AriaRole.Link, new() { Name = "Administration" }).ClickAsync();

        await Expect(Page).ToHaveURLAsync(BaseUrl + "/admin");
        await Expect(Page.GetByRole(AriaRole.Link, new() { Name = "Courriels" })).ToBeVisibleAsync();
        await Expect(Page.GetByRole(AriaRole.Navigation, new() { Name = "Navigation principale" })
            .GetByRole(AriaRole.Link, new() { Name = "Espace émetteur" })).ToHaveCountAsync(0);
        await AssertNoSeriousAxeViolationsAsync(Page, "/admin");
    }

    [Test]
    public async Task Export_CopyButton_PutsTheLinesOnTheClipboard()
    {
        var issuer = TestData.Unique("Mairie de Bègles");
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, "Animateur périscolaire", ["33"], "emploi",
            DateOnly.FromDateTime(DateTime.UtcNow.AddDays(25)), issuerId: await TestData.CreateIssuerAsync(SharedDatabase.DataSource, issuer));
        var admin = await TestUsers.CreateAsync(SharedDatabase.DataSource, Policies.AdminRole);
        await Page.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        await BrowserAccounts.LogInAsync(Page, admin.Email, admin.Password);
        var today = ParisTime.FormatDate(ParisTime.Today(TimeProvider.System));

        await Page.GotoAsync($"/admin/export?du={today}&au={today}&territoire=33");
        await Page.GetByRole(AriaRole.Button, new() { Name = "Copier les lignes" }).ClickAsync();

        await Expect(Page.Locator(".copy-status").Nth(1)).ToHaveTextAsync("Copié dans le presse-papiers.");
        var clipboard = await Page.EvaluateAsync<string>("() => navigator.clipboard.readText()");
        Assert.That(clipboard, Does.Contain($"{issuer} / Animateur périscolaire - Jusqu'au"));
        var box = await Page.Locator("#lignes").BoundingBoxAsync();
        Assert.That(box!.Width, Is.GreaterThan(900), "the output box takes the page's width");
        await AssertNoSeriousAxeViolationsAsync(Page, "/admin/export (blocs)");
    }
}
