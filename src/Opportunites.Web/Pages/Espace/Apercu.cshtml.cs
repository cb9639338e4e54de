using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Accounts;
using Opportunites.Web.Board;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Publishing;
using Opportunites.Web.Shared;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Pages.Espace;

[Authorize(Policy = Policies.Issuer)]
public sealed class ApercuModel(OfferStore offers, TerritoryDirectory territories, ThemeCatalog themes, TimeProvider clock) : PageModel
{
    public OfferDetail Offer { get; private set; } = null!;
    public string Status { get; private set; } = "";
    public string? Error { get; private set; }
    public IReadOnlyList<string> Missing { get; private set; } = [];
    public IReadOnlyList<FieldChange> PendingChanges { get; private set; } = [];
    public IReadOnlyDictionary<string, string> ThemeLabels { get; private set; } = new Dictionary<string, string>();

    /// <summary>The description as the public page renders it (MarkdownRenderer): lists and line breaks kept.</summary>
    public string DescriptionHtml { get; private set; } = "";

    public TerritoryDirectory Territories => territories;
    public CurrentUser Me => CurrentUser.From(User)!;

    [TempData] public string? Message { get; set; }

    public async Task<IActionResult> OnGetAsync(long id) => await LoadAsync(id) ? Page() : NotFound();

    public async Task<IActionResult> OnPostDupliquerAsync(long id)
    {
        if (await offers.DuplicateAsync(Me, id) is not { } copy)
        {
            return NotFound();
        }

        Message = "Copie créée en brouillon : changez son titre « Copie de … » et ce qui diffère, puis soumettez-la.";
        return Redirect($"/espace/offres/{copy}/modifier");
    }

    public async Task<IActionResult> OnPostSoumettreAsync(long id)
    {
        if (!await LoadAsync(id))
        {
            return NotFound();
        }

        // A draft may be incomplete: it is checked as the form checks a submission before it leaves the drafts.
        var (_, errors) = OfferForm.Validate(OfferForm.ToInput(Offer.ToData()), ParisTime.Today(clock), territories,
            (await themes.GetAllAsync()).Select(t => t.Code).ToHashSet());
        if (errors.Count > 0)
        {
            Missing = [.. errors.Values];
            Error = "Complétez l'offre avant de la soumettre :";
            return Page();
        }

        var outcome = await offers.SubmitDraftAsync(Me, id);
        if (outcome == SaveOutcome.NotFound)
        {
            Error = "Seul un brouillon peut être soumis.";
            return Page();
        }

        Message = outcome == SaveOutcome.Published
            ? "Offre publiée : elle est visible sur le site."
            : "Offre soumise : elle sera publiée après validation par l'équipe. Vous recevrez un courriel.";
        return Redirect($"/espace/offres/{id}");
    }

    public async Task<IActionResult> OnPostSupprimerAsync(long id)
    {
        if (!await LoadAsync(id))
        {
            return NotFound();
        }

        if (!await offers.DeleteDraftAsync(Me, id))
        {
            Error = "Seul un brouillon peut être supprimé ; une offre publiée peut être close.";
            return Page();
        }

        TempData["Message"] = $"Brouillon « {Offer.Title} » supprimé.";
        return Redirect("/espace");
    }

    public async Task<IActionResult> OnPostCloreAsync(long id)
    {
        if (!await LoadAsync(id))
        {
            return NotFound();
        }

        if (!await offers.CloseAsync(Me, id))
        {
            Error = "Cette offre ne peut pas être close dans son état actuel.";
            return Page();
        }

        Message = "Offre close : elle n'apparaît plus dans les résultats ni les alertes. Vous pouvez la rouvrir avec une nouvelle date limite.";
        return Redirect($"/espace/offres/{id}");
    }

    public async Task<IActionResult> OnPostRouvrirAsync(long id, string? nouvelleDate)
    {
        if (!await LoadAsync(id))
        {
            return NotFound();
        }

        var error = await offers.ReopenAsync(Me, id, nouvelleDate);
        if (error is not null)
        {
            Error = error;
            return Page();
        }

        Message = "Offre rouverte.";
        return Redirect($"/espace/offres/{id}");
    }

    private async Task<bool> LoadAsync(long id)
    {
        if (await offers.GetAsync(Me, id) is not { } offer)
        {
            return false;
        }

        Offer = offer;
        Status = offer.EffectiveStatus(clock.GetUtcNow());
        DescriptionHtml = MarkdownRenderer.ToHtml(offer.Description);
        ThemeLabels = (await themes.GetAllAsync()).ToDictionary(t => t.Code, t => t.Label);
        if (offer.Revision is { } revision)
        {
            PendingChanges = OfferRevisions.Diff(offer.ToData(), revision, territories.Label,
                c => ThemeLabels.GetValueOrDefault(c, c));
        }

        return true;
    }
}
