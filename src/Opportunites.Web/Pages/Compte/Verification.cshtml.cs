using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Accounts;

namespace Opportunites.Web.Pages.Compte;

public sealed class VerificationModel(AccountService accounts) : PageModel
{
    public async Task<IActionResult> OnGetAsync(string? jeton) =>
        await accounts.VerifyEmailAsync(jeton) ? Redirect("/connexion?info=verifie") : Page();
}
