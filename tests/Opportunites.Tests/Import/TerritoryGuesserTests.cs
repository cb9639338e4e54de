using Opportunites.Web.Demo;
using Opportunites.Web.Import;
using Opportunites.Web.Publishing;
using Opportunites.Web.Territories;

namespace Opportunites.Tests.Import;

/// <summary>Issue 22: the import's territory from the official names (communes, EPCI, départements, régions) of the test database.</summary>
public sealed class TerritoryGuesserTests
{
    private TerritoryDirectory territories = null!;
    private TerritoryGuesser guesser = null!;

    [OneTimeSetUp]
    public async Task LoadTerritories()
    {
        territories = await TerritoryDirectory.LoadAsync(SharedDatabase.DataSource);
        guesser = new TerritoryGuesser(territories);
    }

    private TerritoryGuess GuessLine(string line)
    {
        var slash = line.IndexOf(" / ", StringComparison.Ordinal);
        return slash < 0 ? guesser.Guess(line) : guesser.Guess(line[..slash], line[(slash + 3)..]);
    }

    [TestCase("Ville de Bègles / Animateur jeunesse", "C33039", "« Ville de Bègles » → commune de Bègles (33)")]
    [TestCase("Mairie de Begles / Animateur jeunesse", "C33039", "« Mairie de Begles » → commune de Bègles (33)")]
    [TestCase("MAIRIE DE BÈGLES / Animateur jeunesse", "C33039", "« MAIRIE DE BÈGLES » → commune de Bègles (33)")]
    [TestCase("Commune de Niort / Médiateur social", "C79191", "« Commune de Niort » → commune de Niort (79)")]
    [TestCase("Mairie du Haillan / Médiateur social", "C33200", "« Mairie du Haillan » → commune de Le Haillan (33)")]
    [TestCase("Ville d'Agen / Médiateur social", "C47001", "« Ville d'Agen » → commune d'Agen (47)")]
    [TestCase("Ville de Bègles - service jeunesse / Animateur", "C33039", "« Ville de Bègles » → commune de Bègles (33)")]
    public void Guess_CommunePatterns_TheCommune(string line, string code, string reason)
    {
        var guess = GuessLine(line);

        Assert.That(guess.Codes, Is.EqualTo(new[] { code }));
        Assert.That(guess.Reason, Is.EqualTo(reason));
    }

    [TestCase("Bordeaux Métropole / AAP précarité étudiante", "E243300316")]
    [TestCase("Métropole de Bordeaux / AAP précarité étudiante", "E243300316")]
    [TestCase("Métropole de Lyon / Chargé de mission", "E200046977")]
    [TestCase("Limoges métropole - Communauté urbaine / Chargé de mission", "E248719312")]
    [TestCase("Cdc Aunis Sud / Animateur", "E200041614")]
    [TestCase("CC Aunis Sud / Animateur", "E200041614")]
    [TestCase("CdC Aunis Sud / Animateur", "E200041614")]
    [TestCase("Communauté de communes Aunis Sud / Animateur", "E200041614")]
    [TestCase("Communauté d'agglomération du Grand Angoulême / Animateur", "E200071827")]
    [TestCase("CA Grand Angoulême / Animateur", "E200071827")]
    [TestCase("Agglo Angoulême / Animateur", "E200071827")]
    [TestCase("CA du Niortais / Animateur", "E200041317")]
    [TestCase("Grand Poitiers / Chargé de mission", "E200069854")]
    [TestCase("Communauté urbaine du Grand Poitiers / Chargé de mission", "E200069854")]
    [TestCase("CU Grand Poitiers / Chargé de mission", "E200069854")]
    [TestCase("Grand Paris / Chargé de mission", "E200054781")]
    public void Guess_EpciPatterns_TheEpci(string line, string code)
    {
        var guess = GuessLine(line);

        Assert.That(guess.Codes, Is.EqualTo(new[] { code }), guess.Reason);
        Assert.That(guess.Reason, Does.Contain("→ intercommunalité " + territories.Get(code)!.Label));
    }

    [Test]
    public void Guess_CcOfTwoEpcis_ToCompleteWithBoth()
    {
        var guess = GuessLine("CC Aunis / Animateur");

        Assert.That(guess.Codes, Is.Empty);
        Assert.That(guess.Candidates.Select(c => c.Code), Is.EquivalentTo(new[] { "E200041499", "E200041614" }));
        Assert.That(guess.Reason, Is.EqualTo("« CC Aunis » : plusieurs intercommunalités portent ce nom (CC Aunis Atlantique (17), CC Aunis Sud (17)) : à compléter"));
    }

    [TestCase("Département de la Gironde / Travailleur social", "33")]
    [TestCase("Conseil départemental de la Gironde / Travailleur social", "33")]
    [TestCase("Conseil départemental de la Haute-Vienne / Travailleur social", "87")]
    [TestCase("Conseil départemental de la Somme / Référent RSA", "80")]
    [TestCase("Préfecture de la Gironde / Chef de cabinet", "33")]
    [TestCase("Préfecture des Deux Sèvres / Délégué du préfet", "79")]
    [TestCase("Préfecture du Nord / Chargé de mission", "59")]
    [TestCase("Préfecture de Charente-Maritime / Chargé de mission", "17")]
    [TestCase("DDETSPP Landes / Chargé de mission", "40")]
    public void Guess_DepartementPatterns_TheDepartement(string line, string code)
    {
        var guess = GuessLine(line);

        Assert.That(guess.Codes, Is.EqualTo(new[] { code }), guess.Reason);
        Assert.That(guess.Reason, Does.Contain("→ département " + territories.Get(code)!.Label));
    }

    [TestCase("Région Nouvelle-Aquitaine / AAP économie sociale", "« Région Nouvelle-Aquitaine » → région Nouvelle-Aquitaine")]
    [TestCase("Conseil régional de Nouvelle-Aquitaine / AAP", "« Conseil régional de Nouvelle-Aquitaine » → région Nouvelle-Aquitaine")]
    [TestCase("Préfecture de région Nouvelle-Aquitaine / AAP", "« Préfecture de région Nouvelle-Aquitaine » → région Nouvelle-Aquitaine")]
    [TestCase("DREETS N-A / AMI insertion", "« DREETS N-A » (service régional de l'État) → région Nouvelle-Aquitaine")]
    [TestCase("DRAJES NA / AAP vie associative", "« DRAJES NA » (service régional de l'État) → région Nouvelle-Aquitaine")]
    public void Guess_RegionPatterns_TheRegion(string line, string reason)
    {
        var guess = GuessLine(line);

        Assert.That(guess.Codes, Is.EqualTo(new[] { "R75" }));
        Assert.That(guess.Reason, Is.EqualTo(reason));
    }

    [TestCase("DRAJES NA / AAP développement de la vie associative pour la Gironde", "33")]
    [TestCase("Mairie de Bègles / AAP jeunesse en Gironde", "C33039")]
    [TestCase("Région Nouvelle-Aquitaine / AAP pour la CC Aunis Sud", "E200041614")]
    public void Guess_SeveralPlacesOneInsideAnother_MostPreciseWins(string line, string code)
    {
        Assert.That(GuessLine(line).Codes, Is.EqualTo(new[] { code }));
    }

    [Test]
    public void Guess_HomonymWithoutContext_ToCompleteListingTheCommunes()
    {
        var guess = GuessLine("Ville de Saint-Denis / Animateur jeunesse");

        Assert.That(guess.Codes, Is.Empty);
        Assert.That(guess.Candidates.Select(c => c.Code), Is.SupersetOf(new[] { "C93066", "C97411" }));
        Assert.That(guess.Reason, Does.StartWith("« Ville de Saint-Denis » : plusieurs communes portent ce nom (")
            .And.Contain("Saint-Denis (93)").And.Contain("Saint-Denis (974)").And.EndWith(") : à compléter"));
    }

    [Test]
    public void Guess_HomonymTenTimesAsPopulous_ThatCommuneNamingTheOthers()
    {
        var guess = GuessLine("Ville de La Rochelle / Chargé de mission politique de la ville");

        Assert.That(guess.Codes, Is.EqualTo(new[] { "C17300" }), guess.Reason);
        Assert.That(guess.Reason, Does.StartWith("« Ville de La Rochelle » → commune de La Rochelle (17)")
            .And.Contain("de loin la plus peuplée").And.Contain("La Rochelle (70)"));
    }

    [TestCase("Ville de Saint-Denis / Animateur jeunesse à La Réunion", "C97411", "d'après « La Réunion »")]
    [TestCase("Ville de Saint-Denis / AAP en Seine-Saint-Denis", "C93066", "d'après « Seine-Saint-Denis »")]
    [TestCase("Mairie de Saint-Denis (93) / Animateur", "C93066", "d'après « (93) »")]
    public void Guess_HomonymWithContext_TheCommuneOfThatPlace(string line, string code, string because)
    {
        var guess = GuessLine(line);

        Assert.That(guess.Codes, Is.EqualTo(new[] { code }), guess.Reason);
        Assert.That(guess.Reason, Does.EndWith(because));
    }

    [TestCase("Association Relais / AAP inconnu du guesseur", "aucun territoire reconnu : à compléter")]
    [TestCase("Fondation de France / AAP solidarités", "aucun territoire reconnu : à compléter")]
    [TestCase("Association Relais / Compte rendu de la réunion du bureau", "aucun territoire reconnu : à compléter")]
    [TestCase("Ville de Trifouilly-les-Oies / Animateur", "aucun territoire reconnu (« Ville de Trifouilly-les-Oies » : commune introuvable) : à compléter")]
    public void Guess_NothingRecognised_ToCompleteNeverFrance(string line, string reason)
    {
        var guess = GuessLine(line);

        Assert.That(guess.Codes, Is.Empty);
        Assert.That(guess.Known, Is.False);
        Assert.That(guess.Reason, Is.EqualTo(reason));
    }

    [Test]
    public void Guess_EverydayWordsThatAreNames_NotPlaces()
    {
        var guess = GuessLine("Ville de Pau / Animateur quartiers nord - lot 2 - grand public");

        Assert.That(guess.Codes, Is.EqualTo(new[] { "C64445" }));
    }

    [Test]
    public void Parse_N51NewsletterLines_LocalIssuersResolvedNationalOnesToComplete()
    {
        var rows = NewsletterLineParser.Parse(File.ReadAllText(Path.Combine(DemoData.DefaultDirectory, "opportunites-n51-newsletter-lines.txt")), guesser);

        Assert.That(rows, Has.Count.EqualTo(13));
        Assert.That(rows.Where(r => r.TerritoryKnown).Select(r => (r.Issuer, r.TerritoryCodes.Single())), Is.EqualTo(new[]
        {
            ("DRAJES NA", "33"),
            ("DDETSPP Landes", "40"),
            ("Conseil départemental de la Dordogne", "24"),
            ("Limoges métropole - Communauté urbaine", "E248719312"),
            ("Préfecture des Deux Sèvres", "79"),
            ("Préfecture de Charente-Maritime", "17"),
            ("Préfecture de la Gironde", "33"),
        }));
        // National issuers are not France by default: a person says so in the preview.
        Assert.That(rows.Where(r => !r.TerritoryKnown).Select(r => r.Issuer), Is.EqualTo(new[]
        {
            "MILDECA", "Erasmus+", "INJEP", "Ministère des sports, de la jeunesse et de la vie associative", "Aides Territoires",
            "Fédération Française de Tennis",
        }));
        Assert.That(rows.Where(r => !r.TerritoryKnown).Select(r => r.TerritoryReason), Has.All.EqualTo("aucun territoire reconnu : à compléter"));
        Assert.That(rows.SelectMany(r => r.TerritoryCodes), Has.None.EqualTo("FR"));
    }

    [TestCase("Landes", "40", "colonne territoire « Landes » → département Landes (40)")]
    [TestCase("Bègles", "C33039", "colonne territoire « Bègles » → commune de Bègles (33)")]
    [TestCase("Saint-Denis", "", "colonne territoire « Saint-Denis » : plusieurs territoires portent ce nom (")]
    [TestCase("", "", "aucun territoire reconnu : à compléter")]
    public void CsvParse_TerritoryNameColumn_LargestOfTheNameOrAsked(string name, string code, string reason)
    {
        var (rows, error) = CsvImportParser.Parse($"type;emetteur;titre;territoire\nemploi;Association Relais;Animateur;{name}\n", territories, guesser);

        Assert.That(error, Is.Null);
        Assert.That(string.Join(",", rows.Single().TerritoryCodes), Is.EqualTo(code));
        Assert.That(rows.Single().TerritoryReason, Does.StartWith(reason));
        Assert.That(rows.Single().TerritoryCandidates, code.Length == 0 && name.Length > 0 ? Has.Count.GreaterThan(1) : Is.Empty);
    }
}
