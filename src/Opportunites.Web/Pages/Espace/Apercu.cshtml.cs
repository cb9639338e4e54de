using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Accounts;
using Opportunites.Web.Publishing;

namespace Opportunites.Web.Pages.Espace;

[Authorize(Policy = Policies.Issuer)]
public sealed class ApercuModel(OfferStore offers, TerritoryDirectory territories, TimeProvider clock) : PageModel
{
    public OfferDetail Offer { get; private set; } = null!;
    public string Status { get; private set; } = "";
    public string? Error { get; private set; }
    public TerritoryDirectory Territories => territories;
    public CurrentUser Me => CurrentUser.From(User)!;

    public async Task<IActionResult> OnGetAsync(long id) => await LoadAsync(id) ? Page() : NotFound();

    public async Task<IActionResult> OnPostDupliquerAsync(long id) =>
        await offers.DuplicateAsync(Me, id) is { } copy ? Redirect($"/espace/offres/{copy}/modifier") : NotFound();

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
        return true;
    }
}
