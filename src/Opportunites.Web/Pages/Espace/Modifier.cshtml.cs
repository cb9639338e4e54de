using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Opportunites.Web.Accounts;
using Opportunites.Web.Board;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Publishing;

namespace Opportunites.Web.Pages.Espace;

[Authorize(Policy = Policies.Issuer)]
public sealed class ModifierModel(OfferStore offers, Publishing.TerritoryDirectory territories, ThemeCatalog themes, TimeProvider clock)
    : OfferFormPage(offers, territories, themes, clock)
{
    public OfferDetail Offer { get; private set; } = null!;

    public override bool PublishesAtOnce => Me.IsAdmin || Offer.IssuerTrusted;

    public override bool EditingLive => Offer.EffectiveStatus(Clock.GetUtcNow()) == Statuses.Published;

    /// <summary>The published version stays public while this edit waits for the team.</summary>
    public bool EditWaits => EditingLive && OfferRules.EditWaitsForModeration(Me, Offer.IssuerTrusted);

    public async Task<IActionResult> OnGetAsync(long id)
    {
        if (await Offers.GetAsync(Me, id) is not { } offer)
        {
            return NotFound();
        }

        Offer = offer;
        // A waiting edit is what the issuer goes on from; saving again replaces it.
        Input = offer.Revision is { } revision ? OfferForm.ToInput(revision) : OfferForm.ToInput(offer);
        await LoadThemesAsync();
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

        var outcome = await Offers.UpdateAsync(Me, id, data, Submit);
        if (outcome == SaveOutcome.NotFound)
        {
            return NotFound();
        }

        TempData["Message"] = SavedMessage(outcome);
        return Redirect($"/espace/offres/{id}");
    }
}
