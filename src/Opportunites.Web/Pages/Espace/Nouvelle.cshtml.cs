using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Opportunites.Web.Accounts;
using Opportunites.Web.Board;
using Opportunites.Web.Publishing;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Pages.Espace;

[Authorize(Policy = Policies.Issuer)]
public sealed class NouvelleModel(OfferStore offers, TerritoryDirectory territories, ThemeCatalog themes, TimeProvider clock)
    : OfferFormPage(offers, territories, themes, clock)
{
    public string IssuerName { get; private set; } = "";
    public bool Trusted { get; private set; }
    public string? HomeTerritoryCode { get; private set; }

    public override bool PublishesAtOnce => Trusted || Me.IsAdmin;

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

        await LoadThemesAsync();
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
        TempData["Message"] = Submit
            ? PublishesAtOnce ? "Offre publiée : elle est visible sur le site." : "Offre envoyée : elle sera publiée après validation par l'équipe."
            : "Brouillon enregistré : il n'est visible que de votre organisation.";
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
