using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Accounts;

namespace Opportunites.Web.Pages.Compte;

public sealed class ReinitialisationModel(AccountService accounts) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "jeton")] public string? Jeton { get; set; }
    [BindProperty] public string? Password { get; set; }
    [BindProperty] public string? Confirmation { get; set; }

    public bool TokenValid { get; private set; } = true;

    public async Task OnGetAsync() => TokenValid = await accounts.IsResetTokenValidAsync(Jeton);

    public async Task<IActionResult> OnPostAsync()
    {
        ModelState.Clear();
        if (Password != Confirmation)
        {
            ModelState.AddModelError(nameof(Confirmation), "Les deux mots de passe ne sont pas identiques.");
            return Page();
        }

        var error = await accounts.ResetPasswordAsync(Jeton, Password);
        if (error == AccountService.InvalidLinkMessage)
        {
            TokenValid = false;
            return Page();
        }

        if (error is not null)
        {
            ModelState.AddModelError(nameof(Password), error);
            return Page();
        }

        return Redirect("/connexion?info=reinitialise");
    }
}
