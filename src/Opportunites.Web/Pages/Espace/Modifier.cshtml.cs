using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Opportunites.Web.Accounts;
using Opportunites.Web.Board;
using Opportunites.Web.Import;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Publishing;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Pages.Espace;

[Authorize(Policy = Policies.Issuer)]
public sealed class ModifierModel(OfferStore offers, TerritoryDirectory territories, ThemeCatalog themes, TimeProvider clock,
    Importer importer)
    : OfferFormPage(offers, territories, themes, clock)
{
    public OfferDetail Offer { get; private set; } = null!;

    public override bool PublishesAtOnce => Me.IsAdmin || Offer.IssuerTrusted;

    public override bool EditingLive => Offer.EffectiveStatus(Clock.GetUtcNow()) == Statuses.Published;

    /// <summary>The published version stays public while this edit waits for the team.</summary>
    public bool EditWaits => EditingLive && OfferRules.EditWaitsForModeration(Me, Offer.IssuerTrusted);

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
        // A waiting edit is what the issuer goes on from; saving again replaces it.
        Input = offer.Revision is { } revision ? OfferForm.ToInput(revision) : OfferForm.ToInput(offer.ToData());
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
        Imported = await importer.IsImportedAsync(id);
        var data = await CheckAsync(offer.IssuerId, id, Imported);
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
