using Opportunites.Web.Publishing;
using Opportunites.Web.Territories;

namespace Opportunites.Tests.Publishing;

/// <summary>The posting form's rules, called directly (issue 21, item 8).</summary>
public sealed class OfferFormTests
{
    private static readonly DateOnly Today = new(2026, 12, 3);

    private static readonly TerritoryDirectory Territories = new(new TerritoryTree([
        new TerritoryInfo { Code = "FR", Name = "France", Level = "pays", Lineage = ["FR"] },
        new TerritoryInfo { Code = "R75", Name = "Nouvelle-Aquitaine", Level = "region", ParentCode = "FR", Lineage = ["FR", "R75"] },
        new TerritoryInfo { Code = "33", Name = "Gironde", Level = "departement", ParentCode = "R75", Lineage = ["FR", "R75", "33"] },
    ]));

    private static readonly HashSet<string> Themes = ["jeunesse", "numerique", "culture"];

    private static OfferInput Job(string? contract = "cdi") => new()
    {
        Kind = "emploi",
        Title = "Chargé(e) de mission",
        Territories = ["33"],
        Deadline = "15/01/2027",
        ContractType = contract,
    };

    [Test]
    public void Validate_DateNotInCalendar_SaysItDoesNotExist()
    {
        var input = Job();
        input.Deadline = "31/02/2027";

        var (data, errors) = OfferForm.Validate(input, Today, Territories, Themes);

        Assert.That(data, Is.Null);
        Assert.That(errors[nameof(OfferInput.Deadline)], Does.StartWith("Cette date n'existe pas"));
        input.Deadline = "le 3 mars";
        Assert.That(OfferForm.Validate(input, Today, Territories, Themes).Errors[nameof(OfferInput.Deadline)],
            Is.EqualTo("La date limite doit être au format JJ/MM/AAAA."));
    }

    [Test]
    public void Validate_CrlfLineBreaks_CountOnceAgainstTheLimit()
    {
        // 10,000 lines of one character: 19,999 characters with LF, 29,998 as a browser posts them (CRLF).
        var input = Job();
        input.Description = string.Join("\r\n", Enumerable.Repeat("x", 10_000));

        var (data, errors) = OfferForm.Validate(input, Today, Territories, Themes);

        Assert.That(errors, Is.Empty);
        Assert.That(data!.Description, Has.Length.EqualTo(19_999).And.Not.Contain("\r"));
    }

    [Test]
    public void Validate_JobWithoutContract_DraftSavedSubmissionRefused()
    {
        var (draft, draftErrors) = OfferForm.Validate(Job(contract: ""), Today, Territories, Themes, draft: true);
        var (_, submitErrors) = OfferForm.Validate(Job(contract: ""), Today, Territories, Themes, draft: false);

        Assert.That(draftErrors, Is.Empty);
        Assert.That(draft!.ContractType, Is.Null);
        Assert.That(submitErrors[nameof(OfferInput.ContractType)], Is.EqualTo("Choisissez le type de contrat."));
    }

    [Test]
    public void Validate_DeadlineTime_OptionalAndReadInFrenchForms()
    {
        var input = Job();
        Assert.That(OfferForm.Validate(input, Today, Territories, Themes).Data!.DeadlineTime, Is.Null);

        input.DeadlineTime = "12h";
        Assert.That(OfferForm.Validate(input, Today, Territories, Themes).Data!.DeadlineTime, Is.EqualTo(new TimeOnly(12, 0)));
        input.DeadlineTime = "9:30";
        Assert.That(OfferForm.Validate(input, Today, Territories, Themes).Data!.DeadlineTime, Is.EqualTo(new TimeOnly(9, 30)));
        input.DeadlineTime = "25:00";
        Assert.That(OfferForm.Validate(input, Today, Territories, Themes).Errors, Does.ContainKey(nameof(OfferInput.DeadlineTime)));
        input.DeadlineTime = "12:00";
        input.Deadline = null;
        Assert.That(OfferForm.Validate(input, Today, Territories, Themes).Errors[nameof(OfferInput.DeadlineTime)],
            Is.EqualTo("Indiquez la date limite pour préciser une heure."));
    }

    [Test]
    public void Validate_SeveralThemes_KeptAndUnknownRefused()
    {
        var input = Job();
        input.Themes = ["jeunesse", "numerique", "jeunesse"];
        Assert.That(OfferForm.Validate(input, Today, Territories, Themes).Data!.Themes, Is.EqualTo(new[] { "jeunesse", "numerique" }));

        input.Themes = ["astrologie"];
        Assert.That(OfferForm.Validate(input, Today, Territories, Themes).Errors[nameof(OfferInput.Themes)], Does.Contain("« astrologie »"));
    }
}
