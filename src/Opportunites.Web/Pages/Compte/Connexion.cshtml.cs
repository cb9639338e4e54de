using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Accounts;

namespace Opportunites.Web.Pages.Compte;

public sealed class ConnexionModel(AccountService accounts) : PageModel
{
    [BindProperty] public string? Email { get; set; }
    [BindProperty] public string? Password { get; set; }

    [BindProperty(SupportsGet = true, Name = "retour")] public string? Retour { get; set; }

    public string? Message { get; private set; }

    public void OnGet(string? info) => Message = info switch
    {
        "verifie" => "Votre adresse est confirmée : vous pouvez vous connecter.",
        "reinitialise" => "Votre mot de passe a été changé : connectez-vous avec le nouveau.",
        "email" => "Votre nouvelle adresse est confirmée : connectez-vous avec elle.",
        _ => null,
    };

    public async Task<IActionResult> OnPostAsync()
    {
        var result = await accounts.CheckLoginAsync(Email, Password);
        ModelState.Clear();
        switch (result.Outcome)
        {
            case LoginOutcome.Invalid:
                ModelState.AddModelError("", "Adresse email ou mot de passe incorrect.");
                return Page();
            case LoginOutcome.Unverified:
                ModelState.AddModelError("", "Confirmez d'abord votre adresse avec le lien reçu par courriel. Lien expiré ? « Mot de passe oublié » vous en envoie un nouveau.");
                return Page();
        }

        var user = result.User!;
        await HttpContext.SignInAsync(Policies.CookieScheme, CurrentUser.ToPrincipal(user));
        if (!string.IsNullOrEmpty(Retour) && Url.IsLocalUrl(Retour))
        {
            return LocalRedirect(Retour);
        }

        return Redirect(user.Role == Policies.AdminRole ? "/admin/moderation" : "/espace");
    }
}
