using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Accounts;

namespace Opportunites.Web.Pages.Compte;

[Authorize(Policy = Policies.Issuer)]
public sealed class EmailModel(AccountService accounts) : PageModel
{
    [BindProperty] public string? NewEmail { get; set; }
    [BindProperty] public string? CurrentPassword { get; set; }

    public bool Sent { get; private set; }
    public string CurrentEmail => CurrentUser.From(User)!.Email;

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var errors = await accounts.RequestEmailChangeAsync(CurrentUser.From(User)!.Id, CurrentPassword, NewEmail);
        ModelState.Clear();
        foreach (var (field, message) in errors)
        {
            ModelState.AddModelError(field, message);
        }

        Sent = errors.Count == 0;
        return Page();
    }
}
