using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Accounts;
using Opportunites.Web.Publishing;
using Opportunites.Web.Shared;

namespace Opportunites.Web.Pages.Espace;

/// <summary>What the "new" and "edit" pages share: the form, its checks and the duplicate warning.</summary>
public abstract class OfferFormPage(OfferStore offers, TerritoryDirectory territories, TimeProvider clock) : PageModel
{
    [BindProperty] public OfferInput Input { get; set; } = new();

    /// <summary>"brouillon" keeps it private; anything else submits it (published or pending by the rules).</summary>
    [BindProperty] public string? Action { get; set; }

    [BindProperty] public bool ConfirmDuplicate { get; set; }

    public IReadOnlyList<LikelyDuplicate> Duplicates { get; private set; } = [];
    public TerritoryDirectory Territories => territories;
    public CurrentUser Me => CurrentUser.From(User)!;
    protected OfferStore Offers => offers;

    public bool Submit => Action != "brouillon";

    /// <summary>Validates, then warns once about likely duplicates; returns the data to save or null to show the form again.</summary>
    /// <param name="imported">An offer created by the import: contract type and beneficiaries are optional.</param>
    protected async Task<OfferData?> CheckAsync(long issuerId, long? exceptId, bool imported = false)
    {
        ModelState.Clear();
        var (data, errors) = OfferForm.Validate(Input, ParisTime.Today(clock), territories, imported);
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
}
