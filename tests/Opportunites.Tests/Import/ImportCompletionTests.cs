using Dapper;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Import;
using Opportunites.Web.Moderation;
using Opportunites.Web.Publishing;
using Opportunites.Web.Territories;

namespace Opportunites.Tests.Import;

/// <summary>Issue 21, item 12: dates in the forms people type, lines to complete instead of errors, one verdict on duplicates.</summary>
public sealed class ImportCompletionTests
{
    private TerritoryDirectory territories = null!;
    private TerritoryGuesser guesser = null!;

    [OneTimeSetUp]
    public async Task LoadTerritories()
    {
        territories = await TerritoryDirectory.LoadAsync(SharedDatabase.DataSource);
        guesser = new TerritoryGuesser(territories);
    }

    private Importer NewImporter() => new(SharedDatabase.DataSource, territories, TimeProvider.System);

    [TestCase("Mairie de Niort / Médiateur social - Jusqu'au 2027-06-09", 2027, 6, 9)]
    [TestCase("Mairie de Niort / Médiateur social Jusqu'au 2027-06-09", 2027, 6, 9)]
    [TestCase("Mairie de Niort / Médiateur social - 9 juin 2027", 2027, 6, 9)]
    [TestCase("Mairie de Niort / Médiateur social - Jusqu’au 1er juin 2027", 2027, 6, 1)]
    [TestCase("Mairie de Niort / Médiateur social (jusqu'au 12 décembre 2027)", 2027, 12, 12)]
    [TestCase("Mairie de Niort / Médiateur social - avant le 9 fevrier 2027", 2027, 2, 9)]
    [TestCase("Mairie de Niort / Médiateur social - Jusqu'au 9 juil. 2027", 2027, 7, 9)]
    [TestCase("Mairie de Niort / Médiateur social - 09.06.2027", 2027, 6, 9)]
    [TestCase("Mairie de Niort / Médiateur social, date limite : 15 août 2027", 2027, 8, 15)]
    [TestCase("Mairie de Niort / Médiateur social - Jusqu'au 09/06/2027", 2027, 6, 9)]
    public void ParseLine_IsoOrFrenchDate_ReadAsDeadlineNotKeptInTitle(string line, int y, int m, int d)
    {
        var c = NewsletterLineParser.ParseLine(1, line, "emploi", guesser);

        Assert.That(c.Errors, Is.Empty);
        Assert.That(c.DeadlineDate, Is.EqualTo(new DateOnly(y, m, d)));
        Assert.That(c.Title, Is.EqualTo("Médiateur social"));
    }

    [TestCase("Mairie de Niort / Médiateur social - 9 juin", "sans année")]
    [TestCase("Mairie de Niort / Médiateur social - Jusqu'au 2027-02-30", "n'existe pas")]
    [TestCase("Mairie de Niort / Médiateur social - 31 juin 2027", "n'existe pas")]
    public void ParseLine_DateWithoutYearOrImpossible_FrenchErrorAndCleanTitle(string line, string error)
    {
        var c = NewsletterLineParser.ParseLine(1, line, "emploi", guesser);

        Assert.That(c.Errors.Single(), Does.Contain(error));
        Assert.That(c.Title, Is.EqualTo("Médiateur social"));
        Assert.That(c.DeadlineDate, Is.Null);
    }

    [TestCase("Mairie de Niort / Chargé de mission - 6 mois", "Chargé de mission - 6 mois")]
    [TestCase("Mairie de Niort / Plan climat 2026-2030", "Plan climat 2026-2030")]
    public void ParseLine_NumbersThatAreNoDate_StayInTitle(string line, string title)
    {
        var c = NewsletterLineParser.ParseLine(1, line, "emploi", guesser);

        Assert.That(c.Errors, Is.Empty);
        Assert.That(c.Title, Is.EqualTo(title));
        Assert.That(c.DeadlineDate, Is.Null);
    }

    [Test]
    public async Task Preview_LineWithoutSectionHeading_ToCompleteWithTypeChoiceThenImportedWithChosenType()
    {
        var issuer = TestData.Unique("Mairie de Niort");
        var text = $"{issuer} / Médiateur social - Jusqu'au 10/10/2030";

        var preview = await NewImporter().PreviewAsync(text, null, new ImportOptions());
        var c = preview.Candidates.Single();
        Assert.That(c.State, Is.EqualTo(CandidateState.Incomplete));
        Assert.That(c.Errors, Is.Empty);
        Assert.That(c.Missing, Is.EqualTo(new[] { "le type" }));

        var done = await NewImporter().ImportAsync(Actor.CommandLine, text, null,
            new ImportOptions(KindChoices: new Dictionary<int, string> { [1] = "emploi" }));
        Assert.That(done.CreatedIds, Has.Count.EqualTo(1));
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        Assert.That(await conn.ExecuteScalarAsync<string>("SELECT kind FROM opportunities WHERE id = @id", new { id = done.CreatedIds[0] }),
            Is.EqualTo("emploi"));
    }

    [Test]
    public async Task Preview_OnlyTerritoryUnknown_ToCompleteNotError()
    {
        var text = $"AAP / AMI\n{TestData.Unique("Association Relais")} / AAP inconnu du guesseur - Jusqu'au 11/10/2030";

        var preview = await NewImporter().PreviewAsync(text, null, new ImportOptions());

        var c = preview.Candidates.Single();
        Assert.That(c.State, Is.EqualTo(CandidateState.Incomplete));
        Assert.That(c.Missing, Is.EqualTo(new[] { "le territoire" }));
        Assert.That(preview.Errors, Is.Empty);
    }

    [Test]
    public async Task PreviewThenImport_LineToCompleteAlreadyOnBoard_BothSayDuplicate()
    {
        var issuer = TestData.Unique("Association Relais");
        var text = $"AAP / AMI\n{issuer} / AAP inconnu du guesseur - Jusqu'au 11/10/2030";
        var first = await NewImporter().ImportAsync(Actor.CommandLine, text, null, new ImportOptions("79"));
        Assert.That(first.CreatedIds, Has.Count.EqualTo(1));

        // No default territory this time: the line would need one, but it is on the board already.
        var preview = await NewImporter().PreviewAsync(text, null, new ImportOptions());
        var import = await NewImporter().ImportAsync(Actor.CommandLine, text, null,
            new ImportOptions(TerritoryChoices: new Dictionary<int, string> { [2] = "79" }));

        Assert.That(preview.Candidates.Single().State, Is.EqualTo(CandidateState.Duplicate));
        Assert.That(preview.Candidates.Single().ExistingId, Is.EqualTo(first.CreatedIds[0]));
        Assert.That(import.Candidates.Single().State, Is.EqualTo(CandidateState.Duplicate));
        Assert.That(import.CreatedIds, Is.Empty);
    }

    [Test]
    public async Task PreviewThenImport_RepeatedLineFirstToComplete_BothSayDuplicate()
    {
        var issuer = TestData.Unique("Association Relais");
        // Line 1 has no section (kind to choose), line 3 is the same offer under a heading: one verdict for line 3.
        var text = $"{issuer} / Médiateur en Gironde - Jusqu'au 10/10/2030\nOffres d'emploi\n{issuer} / Médiateur en Gironde - Jusqu'au 10/10/2030";

        var preview = await NewImporter().PreviewAsync(text, null, new ImportOptions());
        var import = await NewImporter().ImportAsync(Actor.CommandLine, text, null,
            new ImportOptions(KindChoices: new Dictionary<int, string> { [1] = "emploi" }));

        Assert.That(preview.Candidates.Select(c => c.State), Is.EqualTo(new[] { CandidateState.Incomplete, CandidateState.Duplicate }));
        Assert.That(import.Candidates.Select(c => c.State), Is.EqualTo(new[] { CandidateState.New, CandidateState.Duplicate }));
        Assert.That(import.CreatedIds, Has.Count.EqualTo(1));
    }
}
