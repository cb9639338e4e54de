using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Opportunites.Web.Accounts;
using Opportunites.Web.Publishing;

namespace Opportunites.Web.Pages.Espace;

[Authorize(Policy = Policies.Issuer)]
public sealed class NouvelleModel(OfferStore offers, TerritoryDirectory territories, TimeProvider clock)
    : OfferFormPage(offers, territories, clock)
{
    public string IssuerName { get; private set; } = "";
    public bool Trusted { get; private set; }
    public string? HomeTerritoryCode { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        if (!await LoadIssuerAsync())
        {
            return Forbid();
        }

        // A new offer starts from the organisation's home territory; the issuer adds or removes territories from there.
        if (HomeTerritoryCode is { } home)
        {
            Input.Territories = [home];
        }

        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (!await LoadIssuerAsync())
        {
            return Forbid();
        }

        var data = await CheckAsync(Me.IssuerId!.Value, null);
        if (data is null)
        {
            return Page();
        }

        var id = await Offers.CreateAsync(Me, data, Submit);
        return Redirect($"/espace/offres/{id}");
    }

    private async Task<bool> LoadIssuerAsync()
    {
        if (!OfferRules.CanCreate(Me) || await Offers.GetIssuerAsync(Me.IssuerId!.Value) is not { } issuer)
        {
            return false;
        }

        IssuerName = issuer.Name;
        Trusted = issuer.Trusted;
        HomeTerritoryCode = issuer.HomeTerritoryCode;
        return true;
    }
}
