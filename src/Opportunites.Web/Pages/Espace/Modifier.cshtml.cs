using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Opportunites.Web.Accounts;
using Opportunites.Web.Import;
using Opportunites.Web.Publishing;

namespace Opportunites.Web.Pages.Espace;

[Authorize(Policy = Policies.Issuer)]
public sealed class ModifierModel(OfferStore offers, TerritoryDirectory territories, TimeProvider clock, Importer importer)
    : OfferFormPage(offers, territories, clock)
{
    public OfferDetail Offer { get; private set; } = null!;

    /// <summary>Created by the import: the form says why contract type and beneficiaries may stay empty.</summary>
    public bool Imported { get; private set; }

    public async Task<IActionResult> OnGetAsync(long id)
    {
        if (await Offers.GetAsync(Me, id) is not { } offer)
        {
            return NotFound();
        }

        Offer = offer;
        Imported = await importer.IsImportedAsync(id);
        Input = OfferForm.ToInput(offer);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(long id)
    {
        if (await Offers.GetAsync(Me, id) is not { } offer)
        {
            return NotFound();
        }

        Offer = offer;
        Imported = await importer.IsImportedAsync(id);
        var data = await CheckAsync(offer.IssuerId, id, Imported);
        if (data is null)
        {
            return Page();
        }

        return await Offers.UpdateAsync(Me, id, data, Submit) ? Redirect($"/espace/offres/{id}") : NotFound();
    }
}
