using System.Net;
using Dapper;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Accounts;
using Opportunites.Web.Import;
using Opportunites.Web.Moderation;
using Opportunites.Web.Publishing;
using Opportunites.Web.Territories;
using static Opportunites.Tests.Infrastructure.WebForms;

namespace Opportunites.Tests.Import;

/// <summary>Issue 21, item 12, through the pages: choosing a type in the preview, editing an imported offer.</summary>
public sealed class ImportCompletionPageTests
{
    private AppFactory app = null!;

    [OneTimeSetUp]
    public void Start() => app = new AppFactory();

    [OneTimeTearDown]
    public async Task Stop() => await app.DisposeAsync();

    [Test]
    public async Task Preview_LineWithoutHeading_OffersTypeChoiceAndConfirmCreatesChosenType()
    {
        var (admin, _) = await TestUsers.LoggedInAsync(app, Policies.AdminRole);
        var issuer = TestData.Unique("Mairie de Niort");
        var text = $"{issuer} / Médiateur social - 9 juin 2030";

        var preview = await TextAsync(await PostAsync(admin, "/admin/import", [F("Texte", text), F("TerritoireParDefaut", "")],
            postTo: "/admin/import?handler=Apercu"));

        Assert.That(preview, Does.Contain("name=\"type_1\""));
        Assert.That(preview, Does.Contain("À compléter : choisissez le type"));
        Assert.That(preview, Does.Contain("0 nouvelle(s) offre(s), 0 doublon(s) qui seront ignorés, 1 ligne(s) à compléter, 0 ligne(s) en erreur."));
        Assert.That(preview, Does.Contain("09/06/2030"));
        Assert.That(preview, Does.Not.Contain("Type inconnu"));

        var done = await TextAsync(await PostWithTokenAsync(admin, "/admin/import?handler=Confirmer", GetAntiforgeryToken(preview),
            [F("Texte", text), F("NomFichier", ""), F("TerritoireParDefaut", ""), F("type_1", "emploi")]));

        Assert.That(done, Does.Contain("1 offre(s) créée(s)"));
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        var stored = await conn.QuerySingleAsync<(string Kind, string Title, DateOnly Deadline)>(
            "SELECT kind, title, deadline_date FROM opportunities WHERE issuer_name = @issuer", new { issuer });
        Assert.That(stored, Is.EqualTo(("emploi", "Médiateur social", new DateOnly(2030, 6, 9))));
        admin.Dispose();
    }

    [Test]
    public async Task Confirm_TypeLeftUnchosen_ReportedToCompleteNotCreated()
    {
        var (admin, _) = await TestUsers.LoggedInAsync(app, Policies.AdminRole);
        var issuer = TestData.Unique("Mairie de Niort");
        var text = $"{issuer} / Médiateur social - 9 juin 2030";

        var done = await TextAsync(await PostAsync(admin, "/admin/import", [F("Texte", text), F("TerritoireParDefaut", "")],
            postTo: "/admin/import?handler=Confirmer"));

        Assert.That(done, Does.Contain("0 offre(s) créée(s), 0 doublon(s) ignoré(s), 1 ligne(s) à compléter, 0 ligne(s) en erreur."));
        Assert.That(done, Does.Contain("Lignes à compléter (non importées)"));
        admin.Dispose();
    }

    private static async Task<long> ImportOneAsync(string line)
    {
        var territories = await TerritoryDirectory.LoadAsync(SharedDatabase.DataSource);
        var result = await new Importer(SharedDatabase.DataSource, territories, TimeProvider.System)
            .ImportAsync(Actor.CommandLine, line, null, new ImportOptions("79"));
        return result.CreatedIds.Single();
    }

    private static KeyValuePair<string, string>[] EditFields(string kind, string title) =>
    [
        F("Input.Kind", kind), F("Input.Title", title), F("Input.Territories", "79"),
        F("Input.Deadline", "10/10/2030"), F("Input.Description", ""), F("Action", "soumettre"),
    ];

    [TestCase("Offres d'emploi", "emploi")]
    [TestCase("AAP / AMI", "aap")]
    public async Task EditImportedOffer_NoContractTypeNorBeneficiaries_SavedAndFormSaysWhy(string heading, string kind)
    {
        var (admin, _) = await TestUsers.LoggedInAsync(app, Policies.AdminRole);
        var title = TestData.Unique(kind == "aap" ? "AAP jardins" : "Médiateur social");
        var id = await ImportOneAsync($"{heading}\n{TestData.Unique("Mairie de Niort")} / {title} - Jusqu'au 10/10/2030");

        var form = await GetTextAsync(admin, $"/espace/offres/{id}/modifier");
        var saved = await PostAsync(admin, $"/espace/offres/{id}/modifier", EditFields(kind, title + " (corrigé)"));

        Assert.That(form, Does.Contain("le type de contrat et les bénéficiaires sont facultatifs"));
        Assert.That(saved.StatusCode, Is.EqualTo(HttpStatusCode.Redirect), await TextAsync(saved));
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        Assert.That(await conn.ExecuteScalarAsync<string>("SELECT title FROM opportunities WHERE id = @id", new { id }),
            Is.EqualTo(title + " (corrigé)"));
        admin.Dispose();
    }

    [Test]
    public async Task EditPostedOffer_NoContractType_StillAsked()
    {
        var (admin, _) = await TestUsers.LoggedInAsync(app, Policies.AdminRole);
        var title = TestData.Unique("Médiateur social");
        var id = await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, title, ["79"], "emploi");

        var form = await GetTextAsync(admin, $"/espace/offres/{id}/modifier");
        var saved = await PostAsync(admin, $"/espace/offres/{id}/modifier", EditFields("emploi", title));

        Assert.That(form, Does.Not.Contain("sont facultatifs"));
        Assert.That(saved.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await TextAsync(saved), Does.Contain("Choisissez le type de contrat."));
        admin.Dispose();
    }
}
