using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Accounts;

namespace Opportunites.Web.Pages.Compte;

public sealed class InscriptionModel(AccountService accounts) : PageModel
{
    [BindProperty] public string? Email { get; set; }
    [BindProperty] public string? Password { get; set; }
    [BindProperty] public string? OrganisationName { get; set; }
    [BindProperty] public string? OrganisationType { get; set; }
    [BindProperty] public bool JoinExisting { get; set; }

    /// <summary>The registered organisation the name matches: the page offers to ask to join it.</summary>
    public string? ExistingOrganisation { get; private set; }

    public bool Sent { get; private set; }

    public void OnGet(bool envoye = false) => Sent = envoye;

    public async Task<IActionResult> OnPostAsync()
    {
        var errors = await accounts.SignUpAsync(new SignUpInput(Email, Password, OrganisationName, OrganisationType, JoinExisting));
        if (errors.Remove(AccountService.ExistingOrganisationKey, out var existing))
        {
            ExistingOrganisation = existing;
        }

        if (errors.Count > 0)
        {
            ModelState.Clear();
            foreach (var (field, message) in errors)
            {
                ModelState.AddModelError(field, message);
            }

            return Page();
        }

        return RedirectToPage(new { envoye = true });
    }
}
