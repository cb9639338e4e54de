using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Accounts;
using Opportunites.Web.Board;
using Opportunites.Web.Publishing;
using Opportunites.Web.Shared;

namespace Opportunites.Web.Pages.Espace;

/// <summary>What the "new" and "edit" pages share: the form, its checks and the duplicate warning.</summary>
public abstract class OfferFormPage(OfferStore offers, Publishing.TerritoryDirectory territories, ThemeCatalog themes, TimeProvider clock) : PageModel
{
    [BindProperty] public OfferInput Input { get; set; } = new();

    /// <summary>"brouillon" keeps it private; anything else submits it (published or pending by the rules).</summary>
    [BindProperty] public string? Action { get; set; }

    [BindProperty] public bool ConfirmDuplicate { get; set; }

    public IReadOnlyList<LikelyDuplicate> Duplicates { get; private set; } = [];
    public IReadOnlyList<Theme> ThemeOptions { get; private set; } = [];
    public Publishing.TerritoryDirectory Territories => territories;
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
    protected async Task<OfferData?> CheckAsync(long issuerId, long? exceptId)
    {
        ModelState.Clear();
        await LoadThemesAsync();
        var (data, errors) = OfferForm.Validate(Input, ParisTime.Today(clock), territories,
            ThemeOptions.Select(t => t.Code).ToHashSet(), draft: !Submit && !EditingLive);
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
}
