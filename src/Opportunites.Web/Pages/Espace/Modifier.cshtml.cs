using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Opportunites.Web.Accounts;
using Opportunites.Web.Publishing;

namespace Opportunites.Web.Pages.Espace;

[Authorize(Policy = Policies.Issuer)]
public sealed class ModifierModel(OfferStore offers, TerritoryDirectory territories, TimeProvider clock)
    : OfferFormPage(offers, territories, clock)
{
    public OfferDetail Offer { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(long id)
    {
        if (await Offers.GetAsync(Me, id) is not { } offer)
        {
            return NotFound();
        }

        Offer = offer;
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
        var data = await CheckAsync(offer.IssuerId, id);
        if (data is null)
        {
            return Page();
        }

        return await Offers.UpdateAsync(Me, id, data, Submit) ? Redirect($"/espace/offres/{id}") : NotFound();
    }
}
