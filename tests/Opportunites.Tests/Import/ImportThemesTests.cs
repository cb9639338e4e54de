using Dapper;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Import;
using Opportunites.Web.Moderation;
using Opportunites.Web.Publishing;
using Opportunites.Web.Territories;

namespace Opportunites.Tests.Import;

/// <summary>The CSV import's themes column (issue 21, item 2).</summary>
public sealed class ImportThemesTests
{
    private TerritoryDirectory territories = null!;

    [OneTimeSetUp]
    public async Task LoadTerritories() => territories = await TerritoryDirectory.LoadAsync(SharedDatabase.DataSource);

    [Test]
    public async Task Import_ThemesColumn_CodesOrLabelsStoredUnknownRefused()
    {
        var ok = TestData.Unique("AAP jardins numériques");
        var bad = TestData.Unique("AAP astrologie");
        var issuer = TestData.Unique("Fondation des jardins");
        var csv = $"type;emetteur;titre;territoire_code;date_limite;themes\n"
            + $"aap;{issuer};{ok};33;{DateTime.UtcNow.AddDays(30):dd/MM/yyyy};Numérique|environnement\n"
            + $"aap;{issuer};{bad};33;{DateTime.UtcNow.AddDays(30):dd/MM/yyyy};astrologie\n";
        var importer = new Importer(SharedDatabase.DataSource, territories, TimeProvider.System);

        var preview = await importer.PreviewAsync(csv, "offres.csv", new ImportOptions());
        var result = await importer.ImportAsync(Actor.CommandLine, csv, "offres.csv", new ImportOptions());

        Assert.That(preview.Candidates.Single(c => c.Title == bad).Errors, Has.Some.Contains("Thème inconnu : « astrologie »"));
        Assert.That(result.CreatedIds, Has.Count.EqualTo(1));
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        var themes = await conn.QueryAsync<string>("SELECT theme_code FROM opportunity_themes WHERE opportunity_id = @id ORDER BY theme_code",
            new { id = result.CreatedIds[0] });
        Assert.That(themes, Is.EqualTo(new[] { "environnement", "numerique" }));
    }
}
