using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Accounts;
using Opportunites.Web.Publishing;

namespace Opportunites.Web.Pages.Espace;

/// <summary>
/// "Publier une offre" in the main menu: an issuer goes straight to the form, an account without organisation to its
/// space (where it joins or creates one), an admin to the import; a visitor reads how it works, then signs in or up.
/// </summary>
public sealed class PublierModel : PageModel
{
    public const string SignInLink = "/connexion?retour=%2Fpublier";

    public IActionResult OnGet()
    {
        if (CurrentUser.From(User) is not { } me)
        {
            return Page();
        }

        if (OfferRules.CanCreate(me))
        {
            return Redirect("/espace/offres/nouvelle");
        }

        return Redirect(me.IsAdmin ? "/admin/import" : "/espace");
    }
}
