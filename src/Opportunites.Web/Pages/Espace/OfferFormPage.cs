using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Accounts;
using Opportunites.Web.Board;
using Opportunites.Web.Publishing;
using Opportunites.Web.Shared;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Pages.Espace;

/// <summary>What the "new" and "edit" pages share: the form, its checks and the duplicate warning.</summary>
public abstract class OfferFormPage(OfferStore offers, TerritoryDirectory territories, ThemeCatalog themes, TimeProvider clock) : PageModel
{
    [BindProperty] public OfferInput Input { get; set; } = new();

    /// <summary>"brouillon" keeps it private; anything else submits it (published or pending by the rules).</summary>
    [BindProperty] public string? Action { get; set; }

    [BindProperty] public bool ConfirmDuplicate { get; set; }

    public IReadOnlyList<LikelyDuplicate> Duplicates { get; private set; } = [];

    /// <summary>The territory field (combobox, or text resolved here without JavaScript) as the form shows it.</summary>
    public TerritoryFieldModel TerritoryField { get; private set; } = Field(TerritorySelection.Empty, null);

    /// <summary>A job's place of work: the same territory field, one commune.</summary>
    public TerritoryFieldModel WorkPlaceField { get; private set; } = WorkField(TerritorySelection.Empty, null);

    private TerritorySelection? selection;
    private TerritorySelection? workSelection;
    public IReadOnlyList<Theme> ThemeOptions { get; private set; } = [];
    public TerritoryDirectory Territories => territories;
    public CurrentUser Me => CurrentUser.From(User)!;
    protected OfferStore Offers => offers;
    protected TimeProvider Clock => clock;

    public bool Submit => Action != "brouillon";

    /// <summary>Submitting publishes at once (trusted organisation or admin): the button says "Publier".</summary>
    public abstract bool PublishesAtOnce { get; }

    /// <summary>The offer is on the board now: no draft button, and the page says what saving will do.</summary>
    public virtual bool EditingLive => false;

    public string SubmitLabel => (EditingLive, PublishesAtOnce) switch
    {
        (true, true) => "Publier les modifications",
        (true, false) => "Soumettre les modifications à validation",
        (false, true) => "Publier",
        (false, false) => "Soumettre à validation",
    };

    protected async Task LoadThemesAsync() => ThemeOptions = await themes.GetAllAsync(HttpContext.RequestAborted);

    /// <summary>Validates, then warns once about likely duplicates; returns the data to save or null to show the form again.</summary>
    /// <param name="imported">An offer created by the import: contract type and beneficiaries are optional.</param>
    protected async Task<OfferData?> CheckAsync(long issuerId, long? exceptId, bool imported = false)
    {
        ModelState.Clear();
        // Names typed without JavaScript ("Bègles", "33130") become codes here; a name shared by several places
        // ("Saint-Denis") is a choice to make, shown in the field, not an unknown territory.
        selection = TerritorySelection.Resolve(territories, Input.Territories);
        Input.Territories = [.. selection.Codes];
        workSelection = TerritorySelection.Resolve(territories, Input.WorkPlace, multiple: false);
        Input.WorkPlace = [.. workSelection.Codes];
        await LoadThemesAsync();
        var (data, errors) = OfferForm.Validate(Input, ParisTime.Today(clock), territories,
            ThemeOptions.Select(t => t.Code).ToHashSet(), draft: !Submit && !EditingLive, detailsOptional: imported);
        if (!selection.IsResolved)
        {
            errors[nameof(OfferInput.Territories)] = string.Join(" ", selection.Messages);
            data = null;
        }

        if (!workSelection.IsResolved && Input.Kind == Opportunities.Kinds.Emploi)
        {
            errors[nameof(OfferInput.WorkPlace)] = string.Join(" ", workSelection.Messages);
            data = null;
        }

        foreach (var (field, message) in errors)
        {
            ModelState.AddModelError($"{nameof(Input)}.{field}", message);
        }

        if (data is null)
        {
            ModelState.AddModelError("", $"Le formulaire contient {errors.Count} erreur(s) : corrigez les champs signalés.");
            return null;
        }

        if (!ConfirmDuplicate)
        {
            Duplicates = await offers.FindLikelyDuplicatesAsync(issuerId, data.Title, data.DeadlineDate, exceptId);
            if (Duplicates.Count > 0)
            {
                return null;
            }
        }

        return data;
    }

    /// <summary>The message the preview page shows after a save.</summary>
    public static string SavedMessage(SaveOutcome outcome) => outcome switch
    {
        SaveOutcome.Published => "Modifications enregistrées : l'offre est publiée sur le site.",
        SaveOutcome.Pending => "Modifications enregistrées : l'offre attend la validation de l'équipe.",
        SaveOutcome.RevisionPending => "Modifications enregistrées : elles seront en ligne après validation par l'équipe. D'ici là, la version publiée reste visible.",
        _ => "Modifications enregistrées (brouillon, visible de votre organisation seulement).",
    };

    /// <summary>After any handler that shows the form: the chosen territories with their names, and the field's error.</summary>
    public override async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        var executed = await next();
        if (executed.Result is PageResult)
        {
            selection ??= TerritorySelection.Resolve(territories, Input.Territories);
            var error = ModelState.TryGetValue($"{nameof(Input)}.{nameof(OfferInput.Territories)}", out var e) && e.Errors.Count > 0
                ? e.Errors[0].ErrorMessage
                : null;
            TerritoryField = Field(selection, selection.IsResolved ? error : null);
            workSelection ??= TerritorySelection.Resolve(territories, Input.WorkPlace, multiple: false);
            var workError = ModelState.TryGetValue($"{nameof(Input)}.{nameof(OfferInput.WorkPlace)}", out var w) && w.Errors.Count > 0
                ? w.Errors[0].ErrorMessage
                : null;
            WorkPlaceField = WorkField(workSelection, workSelection.IsResolved ? workError : null);
        }
    }

    private static TerritoryFieldModel Field(TerritorySelection selection, string? error) => new()
    {
        Id = "Input_Territories",
        Name = "Input.Territories",
        Label = "Territoire(s)",
        Hint = "Où l'offre s'adresse : commune, code postal, intercommunalité, département, région ou France. "
            + "Une offre pour un territoire est montrée aussi à ceux qui cherchent dans ce qu'il contient.",
        Selection = selection,
        Error = error,
    };

    private static TerritoryFieldModel WorkField(TerritorySelection selection, string? error) => new()
    {
        Id = "Input_WorkPlace",
        Name = "Input.WorkPlace",
        Label = "Lieu de travail (facultatif)",
        Hint = "La commune où se trouve le poste ; l'offre est trouvée par qui cherche dans cette commune.",
        Multiple = false,
        Selection = selection,
        Error = error,
        ApiUrl = "/api/v1/territoires?niveau=commune",
    };
}
