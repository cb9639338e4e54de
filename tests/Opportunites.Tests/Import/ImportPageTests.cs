using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Dapper;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Accounts;
using Opportunites.Web.Cli;
using static Opportunites.Tests.Infrastructure.WebForms;

namespace Opportunites.Tests.Import;

public sealed class ImportPageTests
{
    private AppFactory app = null!;

    [OneTimeSetUp]
    public void Start() => app = new AppFactory();

    [OneTimeTearDown]
    public async Task Stop() => await app.DisposeAsync();

    private static async Task<List<(string Title, string Status, string[] Codes, string Issuer)>> OffersOfAsync(string issuerName)
    {
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<(string, string, string[], string)>(
            "SELECT title, status, territory_codes, issuer_name FROM opportunities WHERE issuer_name = @issuerName ORDER BY id",
            new { issuerName })).ToList();
    }

    [Test]
    public async Task PasteLines_PreviewAskTerritoryThenConfirm_CreatesAndReportsDuplicates()
    {
        var (admin, _) = await TestUsers.LoggedInAsync(app, Policies.AdminRole);
        var issuer = TestData.Unique("Association Relais");
        var text = $"""
            AAP / AMI
            {issuer} / AAP quartiers solidaires en Gironde - Jusqu'au 10/10/2030
            {issuer} / AAP inconnu du guesseur - Jusqu'au 11/10/2030
            {issuer} / AAP quartiers solidaires en Gironde - Jusqu'au 10/10/2030
            ligne sans séparateur
            """;

        var preview = await PostAsync(admin, "/admin/import", [F("Texte", text), F("TerritoireParDefaut", "")], postTo: "/admin/import?handler=Apercu");
        var html = await TextAsync(preview);
        Assert.That(preview.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(html, Does.Contain("Aperçu"));
        Assert.That(html, Does.Contain("Territoire à choisir"));
        Assert.That(html, Does.Contain("name=\"territoire_3\""));
        Assert.That(html, Does.Contain("Doublon (répétée) : ignorée"));
        Assert.That(html, Does.Contain("Ligne non reconnue"));
        Assert.That(await OffersOfAsync(issuer), Is.Empty);

        var token = GetAntiforgeryToken(html);
        var done = await PostWithTokenAsync(admin, "/admin/import?handler=Confirmer", token,
            [F("Texte", text), F("NomFichier", ""), F("TerritoireParDefaut", ""), F("territoire_3", "79")]);
        var report = await TextAsync(done);

        Assert.That(report, Does.Contain("2 offre(s) créée(s), 1 doublon(s) ignoré(s), 0 ligne(s) à compléter, 1 ligne(s) en erreur."));
        var offers = await OffersOfAsync(issuer);
        Assert.That(offers.Select(o => (o.Title, o.Status, o.Codes.Single())), Is.EqualTo(new[]
        {
            ("AAP quartiers solidaires en Gironde", "published", "33"),
            ("AAP inconnu du guesseur", "published", "79"),
        }));

        // The same paste again: everything is a duplicate of what is now on the board.
        var again = await PostWithTokenAsync(admin, "/admin/import?handler=Confirmer", token,
            [F("Texte", text), F("TerritoireParDefaut", "FR")]);
        Assert.That(await TextAsync(again), Does.Contain("0 offre(s) créée(s), 3 doublon(s) ignoré(s)"));
        admin.Dispose();
    }

    [Test]
    public async Task Preview_DefaultTerritoryField_HomonymAskedThenAppliedToUnrecognisedLines()
    {
        var (admin, _) = await TestUsers.LoggedInAsync(app, Policies.AdminRole);
        var text = $"AAP / AMI\n{TestData.Unique("Association Relais")} / AAP inconnu du guesseur - Jusqu'au 11/10/2030";

        var asked = await TextAsync(await PostAsync(admin, "/admin/import", [F("Texte", text), F("TerritoireParDefaut", "Saint-Denis")],
            postTo: "/admin/import?handler=Apercu"));
        var applied = await TextAsync(await PostAsync(admin, "/admin/import", [F("Texte", text), F("TerritoireParDefaut", "Gironde")],
            postTo: "/admin/import?handler=Apercu"));

        Assert.That(WebUtility.HtmlDecode(asked), Does.Contain("Plusieurs territoires correspondent à « Saint-Denis » : choisissez"));
        Assert.That(asked, Does.Not.Contain("Aperçu"));
        Assert.That(WebUtility.HtmlDecode(applied), Does.Contain("Aucun territoire reconnu : à compléter ; territoire par défaut de l'import : Gironde (33)"));
        Assert.That(applied, Does.Contain("name=\"TerritoireParDefaut\" value=\"33\""));
        admin.Dispose();
    }

    [Test]
    public async Task UploadCsv_TrustedIssuer_ImportsForOwnOrganisationOnly()
    {
        var (client, user) = await TestUsers.LoggedInAsync(app, trusted: true);
        var csv = "type,emetteur,titre,date_limite,territoire\nemploi,Une autre organisation,Animateur jeunesse,01/12/2030,Landes\n";
        var page = await GetTextAsync(client, "/admin/import");
        using var form = new MultipartFormDataContent
        {
            { new StringContent(GetAntiforgeryToken(page)), "__RequestVerificationToken" },
            { new StringContent(""), "Texte" },
            { new StringContent(""), "TerritoireParDefaut" },
        };
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(csv));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        form.Add(file, "Fichier", "offres.csv");

        var preview = await TextAsync(await client.PostAsync("/admin/import?handler=Apercu", form));
        Assert.That(preview, Does.Contain("au nom de votre organisation"));
        Assert.That(preview, Does.Contain("Landes"));
        var token = GetAntiforgeryToken(preview);
        var done = await PostWithTokenAsync(client, "/admin/import?handler=Confirmer", token, [F("Texte", csv), F("NomFichier", "offres.csv")]);

        Assert.That(await TextAsync(done), Does.Contain("1 offre(s) créée(s)"));
        var offers = await OffersOfAsync(user.IssuerName!);
        Assert.That(offers.Select(o => (o.Title, o.Codes.Single())), Is.EqualTo(new[] { ("Animateur jeunesse", "40") }));
        client.Dispose();
    }

    [Test]
    public async Task ExportPage_Admin_ShowsHtmlAndLines()
    {
        var (admin, _) = await TestUsers.LoggedInAsync(app, Policies.AdminRole);
        var issuer = TestData.Unique("Mairie de Bègles");
        var issuerId = await TestData.CreateIssuerAsync(SharedDatabase.DataSource, issuer);
        var deadline = DateOnly.FromDateTime(DateTime.UtcNow.AddDays(12));
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, "Éducateur <spécialisé>", ["33"], "emploi", deadline, issuerId: issuerId);
        var today = Opportunites.Web.Shared.ParisTime.FormatDate(Opportunites.Web.Shared.ParisTime.Today(TimeProvider.System));

        var html = await admin.GetStringAsync($"/admin/export?du={today}&au={today}&territoire=R75");

        Assert.That(html, Does.Contain("Offres d&#x27;emploi").Or.Contain("Offres d'emploi"));
        Assert.That(html, Does.Not.Contain("<spécialisé>"));
        Assert.That(WebUtility.HtmlDecode(WebUtility.HtmlDecode(html)), Does.Contain($"{issuer} / Éducateur <spécialisé> - Jusqu'au {deadline:dd/MM/yyyy}"));
        admin.Dispose();
    }

    [Test]
    public async Task CommandLine_ImportFileWithDefaultTerritory_ListsLinesToReview()
    {
        var issuer = TestData.Unique("Collectif");
        var file = Path.Combine(Path.GetTempPath(), $"import-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(file, $"Offres d'emploi\n{issuer} / Coordinateur - Jusqu'au 05/05/2031\n{issuer} / Chargé de mission en Dordogne\n");
        var output = new StringWriter();
        var stdout = Console.Out;
        Console.SetOut(output);
        try
        {
            await AccountsCommands.ImportAsync(app.Services, ["import", file, "--territoire", "R75"]);
        }
        finally
        {
            Console.SetOut(stdout);
            File.Delete(file);
        }

        var text = output.ToString();
        Assert.That(text, Does.Contain("Import : 2 offre(s) créée(s), 0 doublon(s) ignoré(s), 0 ligne(s) à compléter, 0 ligne(s) en erreur."));
        Assert.That(text, Does.Contain("Territoire non reconnu, territoire par défaut appliqué (à vérifier) :\n  ligne 2 : [Emploi] " + issuer + " / Coordinateur"));
        var offers = await OffersOfAsync(issuer);
        Assert.That(offers.Select(o => o.Codes.Single()), Is.EqualTo(new[] { "R75", "24" }));
    }

    [Test]
    public async Task CommandLine_ImportWithoutTerritory_PrintsEachGuessAndLinesToCompleteNotFrance()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var file = Path.Combine(Path.GetTempPath(), $"import-{Guid.NewGuid():N}.txt");
        await File.WriteAllTextAsync(file, $"Offres d'emploi\nMairie de Bègles {suffix} / Coordinateur\nCollectif {suffix} / Animateur\n");
        var output = new StringWriter();
        var stdout = Console.Out;
        Console.SetOut(output);
        try
        {
            await AccountsCommands.ImportAsync(app.Services, ["import", file]);
        }
        finally
        {
            Console.SetOut(stdout);
            File.Delete(file);
        }

        var text = output.ToString();
        Assert.That(text, Does.Contain("Import : 1 offre(s) créée(s), 0 doublon(s) ignoré(s), 1 ligne(s) à compléter, 0 ligne(s) en erreur."));
        Assert.That(text, Does.Contain("Territoires :\n  ligne 2 : C33039 — « Mairie de Bègles » → commune de Bègles (33)\n  ligne 3 : à compléter — aucun territoire reconnu : à compléter\n"));
        Assert.That(text, Does.Contain($"à compléter ligne 3 : Collectif {suffix} / Animateur — manque le territoire (aucun territoire reconnu : à compléter)"));
        Assert.That((await OffersOfAsync($"Collectif {suffix}")), Is.Empty);
        Assert.That((await OffersOfAsync($"Mairie de Bègles {suffix}")).Single().Codes, Is.EqualTo(new[] { "C33039" }));
    }

    [Test]
    public async Task CommandLine_AdminCreate_PrintsOneTimeLink()
    {
        var email = $"cli-admin-{Guid.NewGuid():N}@example.org";
        var output = new StringWriter();
        var stdout = Console.Out;
        Console.SetOut(output);
        try
        {
            await AccountsCommands.AdminAsync(app.Services, ["admin", "create", email]);
        }
        finally
        {
            Console.SetOut(stdout);
        }

        Assert.That(output.ToString(), Does.Contain("http://127.0.0.1:5080/reinitialisation?jeton="));
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        Assert.That(await conn.ExecuteScalarAsync<string>("SELECT role FROM users WHERE email = @email", new { email }), Is.EqualTo("admin"));
    }
}
