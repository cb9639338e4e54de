using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Accounts;

namespace Opportunites.Web.Pages.Compte;

public sealed class EmailConfirmationModel(AccountService accounts) : PageModel
{
    public async Task<IActionResult> OnGetAsync(string? jeton)
    {
        if (!await accounts.ConfirmEmailChangeAsync(jeton))
        {
            return Page();
        }

        // The session was opened with the old address: sign in again with the new one.
        await HttpContext.SignOutAsync(Policies.CookieScheme);
        return Redirect("/connexion?info=email");
    }
}
