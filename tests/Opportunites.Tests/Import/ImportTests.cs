using System.Globalization;
using Dapper;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Demo;
using Opportunites.Web.Import;
using Opportunites.Web.Moderation;
using Opportunites.Web.Publishing;
using Opportunites.Web.Territories;

namespace Opportunites.Tests.Import;

public sealed class ImportTests
{
    private TerritoryDirectory territories = null!;
    private TerritoryGuesser guesser = null!;

    private static string DemoFile(string name) => Path.Combine(DemoData.DefaultDirectory, name);

    [OneTimeSetUp]
    public async Task LoadTerritories()
    {
        territories = await TerritoryDirectory.LoadAsync(SharedDatabase.DataSource);
        guesser = new TerritoryGuesser(territories);
    }

    private static Importer NewImporter(TerritoryDirectory t) => new(SharedDatabase.DataSource, t, TimeProvider.System);

    [Test]
    public void Parse_N51Lines_MatchTheN51Csv()
    {
        var expected = DemoData.ReadNewsletterCsv(DemoFile("opportunites-n51.csv"));

        var parsed = NewsletterLineParser.Parse(File.ReadAllText(DemoFile("opportunites-n51-newsletter-lines.txt")), guesser);

        Assert.That(parsed, Has.Count.EqualTo(expected.Count));
        Assert.That(parsed.SelectMany(p => p.Errors), Is.Empty);
        for (var i = 0; i < expected.Count; i++)
        {
            var (e, p) = (expected[i], parsed[i]);
            Assert.That((p.Kind, p.Issuer, p.Title, p.DeadlineDate), Is.EqualTo((e.Kind, e.Issuer, e.Title, (DateOnly?)e.Deadline)), p.Source);
            // The CSV was typed by hand, mostly with départements: the guess is that place, one inside it, or the
            // département of an intercommunality the CSV names (Limoges Métropole).
            var territory = p.TerritoryKnown ? p.TerritoryCodes.Single() : "FR";
            Assert.That(territories.Tree.IsWithin(territory, e.TerritoryCode) || territories.Tree.IsWithin(e.TerritoryCode, territory),
                Is.True, $"{p.Source}: {territory}");
        }
    }

    [TestCase("Préfecture de la Gironde / Chef de cabinet - Jusqu'au 31/12/2030", "33")]
    [TestCase("Bordeaux Métropole / AAP lutte contre la précarité étudiante - Jusqu'au 09/06/2030", "E243300316")]
    [TestCase("Préfecture des Deux Sèvres / Délégué du préfet", "79")]
    [TestCase("Préfecture des Deux-Sèvres / Délégué du préfet", "79")]
    [TestCase("DREETS N-A / AMI insertion - Jusqu'au 01/02/2030", "R75")]
    [TestCase("DRAJES NA / AAP vie associative - 12/03/2030", "R75")]
    [TestCase("Conseil départemental de la Somme / Référent RSA", "80")]
    [TestCase("Préfecture du Nord / Chargé de mission", "59")]
    [TestCase("Ville de Pau / Animateur quartiers nord - lot 2", "C64445")]
    [TestCase("Préfecture de Charente-Maritime / Chargé de mission", "17")]
    [TestCase("Conseil départemental de la Haute-Vienne / Travailleur social", "87")]
    public void Guess_TerritoryFromText(string line, string expected)
    {
        var c = NewsletterLineParser.ParseLine(1, line, "aap", guesser);

        Assert.That(string.Join(",", c.TerritoryCodes), Is.EqualTo(expected));
    }

    [Test]
    public void Parse_HeadersTitlesAndBadLines_KindsAndFrenchErrors()
    {
        const string text = """
            AMI Tiers-lieux / AMI fabriques de territoire - Jusqu'au 01/06/2030
            Offres d'emploi
            Mairie de Niort / Médiateur social - Jusqu’au 02/06/2030
            Mairie de Niort / AMI pour un jardin - Jusqu'au 03/06/2030
            Une ligne sans séparateur
            Mairie de Niort / Agent - Jusqu'au 31/02/2030
            AAP / AMI
            Fondation X / Soutien aux projets jeunesse
            """;

        var rows = NewsletterLineParser.Parse(text, guesser);

        Assert.That(rows.Select(r => r.Kind), Is.EqualTo(new string?[] { "ami", "emploi", "ami", null, "emploi", "aap" }));
        Assert.That(rows[1].DeadlineDate, Is.EqualTo(new DateOnly(2030, 6, 2)));
        Assert.That(rows[1].TerritoryCodes, Is.EqualTo(new[] { "C79191" }));
        Assert.That(rows[3].Errors.Single(), Does.StartWith("Ligne non reconnue"));
        Assert.That(rows[4].Errors.Single(), Does.StartWith("Date limite invalide"));
        Assert.That(rows[5].DeadlineDate, Is.Null);
        Assert.That(rows[5].Errors, Is.Empty);
    }

    [Test]
    public async Task Import_N51Lines_CreatedThenAllDuplicatesOnSecondRun()
    {
        // Unique issuers for this test: the same lines with a suffix on each issuer name.
        var suffix = " " + Guid.NewGuid().ToString("N")[..6];
        var lines = File.ReadAllLines(DemoFile("opportunites-n51-newsletter-lines.txt"))
            .Select(l => l.Contains(" / ") && NewsletterLineParser.HeaderKind(l) is null ? l.Insert(l.IndexOf(" / ", StringComparison.Ordinal), suffix) : l);
        var text = string.Join("\n", lines);
        var importer = NewImporter(territories);

        var first = await importer.ImportAsync(Actor.CommandLine, text, "n51.txt", new ImportOptions("FR"));
        var second = await importer.ImportAsync(Actor.CommandLine, text, "n51.txt", new ImportOptions("FR"));

        var expected = DemoData.ReadNewsletterCsv(DemoFile("opportunites-n51.csv"));
        Assert.That(first.CreatedIds, Has.Count.EqualTo(13));
        Assert.That(first.ToReview.Select(r => r.LineNumber), Is.EqualTo(new[] { 2, 3, 4, 5, 7, 8 }));
        Assert.That(second.CreatedIds, Is.Empty);
        Assert.That(second.Duplicates.Count(), Is.EqualTo(13));
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        var stored = (await conn.QueryAsync<(string Kind, string Issuer, string Title, DateOnly? Deadline, string[] Codes, string Status)>("""
            SELECT kind, issuer_name, title, deadline_date, territory_codes, status FROM opportunities WHERE id = ANY (@ids) ORDER BY id
            """, new { ids = first.CreatedIds.ToArray() })).ToList();
        Assert.That(stored.Select(s => (s.Kind, s.Issuer, s.Title, s.Deadline)),
            Is.EqualTo(expected.Select(e => (e.Kind, e.Issuer + suffix, e.Title, (DateOnly?)e.Deadline))));
        Assert.That(stored.Zip(expected).Select(x => territories.Tree.IsWithin(x.First.Codes.Single(), x.Second.TerritoryCode)), Has.All.True);
        // Deadlines already past are kept for the archive, not open; the Fonds Vert (2028) is open.
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        Assert.That(stored.Select(s => s.Status), Is.EqualTo(stored.Select(s => s.Deadline < today ? "expired" : "published")));
        Assert.That(stored.Count(s => s.Status == "published"), Is.GreaterThanOrEqualTo(1));
    }

    [Test]
    public async Task Import_Csv_SemicolonFrenchColumnsAndErrors()
    {
        var issuer = TestData.Unique("Ville de Poitiers");
        var csv = $"""
            type;emetteur;titre;date_limite;territoire_code;territoire;lien;contrat;beneficiaires;montant
            emploi;{issuer};Médiateur numérique;15/09/2030;;;https://example.org/emploi;CDD;;
            aap;{issuer};"AAP ""Quartiers d'été""; édition 2030";2030-07-01;;Deux Sèvres;;;associations;15 000
            ami;{issuer};AMI tiers-lieux;01/08/2030;R75;;;;collectivités;
            stage;{issuer};Mauvais type;01/08/2030;;;;;;
            aap;{issuer};Mauvais lien;01/08/2030;99X;;ftp://x;;;
            """;

        var result = await NewImporter(territories).ImportAsync(Actor.CommandLine, csv, "offres.csv", new ImportOptions());

        Assert.That(result.FileError, Is.Null);
        Assert.That(result.CreatedIds, Has.Count.EqualTo(3));
        var errors = result.Errors.ToList();
        Assert.That(errors.Select(e => e.LineNumber), Is.EqualTo(new[] { 5, 6 }));
        Assert.That(errors[0].Errors, Has.Some.Contains("Type inconnu"));
        Assert.That(errors[1].Errors, Has.Some.Contains("Code de territoire inconnu").And.Some.Contains("http://"));
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        var rows = (await conn.QueryAsync<(string Kind, string Title, DateOnly? Deadline, string[] Codes, string? Contract, decimal? Amount)>("""
            SELECT kind, title, deadline_date, territory_codes, contract_type, amount_eur FROM opportunities WHERE id = ANY (@ids) ORDER BY id
            """, new { ids = result.CreatedIds.ToArray() })).ToList();
        Assert.That(rows[0], Is.EqualTo(("emploi", "Médiateur numérique", (DateOnly?)new DateOnly(2030, 9, 15), new[] { "C86194" }, (string?)"cdd", (decimal?)null)));
        Assert.That(rows[1], Is.EqualTo(("aap", "AAP \"Quartiers d'été\"; édition 2030", (DateOnly?)new DateOnly(2030, 7, 1), new[] { "79" }, (string?)null, (decimal?)15000m)));
        Assert.That(rows[2].Codes, Is.EqualTo(new[] { "R75" }));
    }

    [Test]
    public async Task Import_N51Csv_CommaSeparatedEnglishColumns()
    {
        var text = File.ReadAllText(DemoFile("opportunites-n51.csv"));
        var (rows, error) = NewImporter(territories).Parse(text, "opportunites-n51.csv");

        Assert.That(error, Is.Null);
        Assert.That(rows, Has.Count.EqualTo(13));
        Assert.That(rows.SelectMany(r => r.Errors), Is.Empty);
        Assert.That(rows.Select(r => r.TerritoryCodes.Single()),
            Is.EqualTo(DemoData.ReadNewsletterCsv(DemoFile("opportunites-n51.csv")).Select(e => e.TerritoryCode)));
        await Task.CompletedTask;
    }

    [Test]
    public void Csv_MissingColumns_FileError()
    {
        var (rows, error) = CsvImportParser.Parse("titre;lien\nx;y\n", territories, guesser);

        Assert.That(rows, Is.Empty);
        Assert.That(error, Does.Contain("type").And.Contain("emetteur"));
    }

    [Test]
    public async Task Export_LinesReimport_ToTheSameOpportunities()
    {
        var issuerName = TestData.Unique("Centre social Bordeaux");
        var issuerId = await TestData.CreateIssuerAsync(SharedDatabase.DataSource, issuerName);
        var soon = DateOnly.FromDateTime(DateTime.UtcNow.AddDays(20));
        var ids = new[]
        {
            await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, "AAP jardins partagés - saison 2", ["33"], "aap", soon, issuerId: issuerId),
            await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, "AMI tiers-lieux / fabriques", ["R75"], "ami", soon.AddDays(1), issuerId: issuerId),
            // An AMI whose title does not say so: read back under its own header, same kind and same title.
            await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, "Repérage des fabriques de territoire", ["33"], "ami", soon.AddDays(3), issuerId: issuerId),
            await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, "Animateur·rice \"jeunesse\"", ["33"], "emploi", soon.AddDays(2), issuerId: issuerId),
            await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, "Coordinateur sans date limite", ["33"], "emploi", null, issuerId: issuerId),
        };
        var settings = new Opportunites.Web.Accounts.AccountSettings();
        var today = DateOnly.FromDateTime(DateTime.UtcNow);

        var blocks = await new NewsletterExport(SharedDatabase.DataSource, settings).BuildAsync(today.AddDays(-1), today.AddDays(1), "33");

        // Other tests' offers may be in the export too: keep the sections and this issuer's lines.
        var mine = blocks.Lines.Split('\n').Where(l => l.StartsWith(issuerName, StringComparison.Ordinal) || NewsletterLineParser.HeaderKind(l) is not null);
        var parsed = NewsletterLineParser.Parse(string.Join("\n", mine), guesser);
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        var stored = (await conn.QueryAsync<(string Kind, string Title, DateOnly? Deadline)>(
            "SELECT kind, title, deadline_date FROM opportunities WHERE id = ANY (@ids) ORDER BY id", new { ids })).ToList();
        Assert.That(parsed.Select(p => (p.Kind!, p.Title, p.DeadlineDate)), Is.EquivalentTo(stored));
        Assert.That(parsed.Select(p => p.Issuer).Distinct(), Is.EqualTo(new[] { issuerName }));
        var preview = await NewImporter(territories).PreviewAsync(string.Join("\n", mine), "export.txt", new ImportOptions("FR"));
        Assert.That(preview.Duplicates.Select(d => d.ExistingId!.Value), Is.EquivalentTo(ids));
        Assert.That(blocks.Html, Does.Contain("Appels à projets / AMI").Or.Contain("Appels &#224; projets / AMI"));
        Assert.That(blocks.Html, Does.Contain($"<a href=\"http://127.0.0.1:5080/offres/{ids[0]}\""));
        Assert.That(blocks.Html, Does.Contain("Animateur·rice &quot;jeunesse&quot;").Or.Contain("Animateur&#183;rice &quot;jeunesse&quot;"));
        Assert.That(blocks.Lines, Does.Contain($"{issuerName} / AAP jardins partagés - saison 2 - Jusqu'au {soon.ToString("dd/MM/yyyy", CultureInfo.InvariantCulture)}"));
        Assert.That(blocks.Lines, Does.Contain($"{issuerName} / Coordinateur sans date limite\n"));
        Assert.That(blocks.Lines, Does.Contain($"{NewsletterExport.AmiHeader}\n"));
    }

    [Test]
    public async Task Export_OtherTerritory_NotIncluded()
    {
        var issuerName = TestData.Unique("Mairie de Pau");
        var issuerId = await TestData.CreateIssuerAsync(SharedDatabase.DataSource, issuerName);
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, "Offre des Pyrénées-Atlantiques", ["64"], "emploi",
            DateOnly.FromDateTime(DateTime.UtcNow.AddDays(9)), issuerId: issuerId);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var export = new NewsletterExport(SharedDatabase.DataSource, new Opportunites.Web.Accounts.AccountSettings());

        var gironde = await export.BuildAsync(today.AddDays(-1), today.AddDays(1), "33");
        var region = await export.BuildAsync(today.AddDays(-1), today.AddDays(1), "R75");

        Assert.That(gironde.Lines, Does.Not.Contain(issuerName));
        Assert.That(region.Lines, Does.Contain(issuerName));
    }
}
