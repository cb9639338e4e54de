using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Accounts;
using Opportunites.Web.Board;
using Opportunites.Web.Shared;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Pages.Compte;

public sealed class InscriptionModel(AccountService accounts, TerritoryDirectory territories) : PageModel
{
    [BindProperty] public string? Email { get; set; }
    [BindProperty] public string? Password { get; set; }
    [BindProperty] public string? OrganisationName { get; set; }
    [BindProperty] public string? OrganisationType { get; set; }
    [BindProperty] public bool JoinExisting { get; set; }

    /// <summary>The registered organisation the name matches: the page offers to ask to join it.</summary>
    public string? ExistingOrganisation { get; private set; }

    /// <summary>The territory chosen in the field (a code), or its name typed without JavaScript.</summary>
    [BindProperty(Name = AccountService.HomeTerritoryField)]
    public List<string> HomeTerritoryValues { get; set; } = [];

    public bool Sent { get; private set; }

    public TerritoryFieldModel TerritoryField { get; private set; } = Field(TerritorySelection.Empty, null);

    public void OnGet(bool envoye = false) => Sent = envoye;

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var selection = TerritorySelection.Resolve(territories, HomeTerritoryValues, multiple: false);
        var home = selection.IsResolved && selection.Chosen.Count > 0 ? selection.Chosen[0].Code : null;
        var errors = await accounts.SignUpAsync(new SignUpInput(Email, Password, OrganisationName, OrganisationType, JoinExisting, home));
        if (errors.Remove(AccountService.ExistingOrganisationKey, out var existing))
        {
            ExistingOrganisation = existing;
        }

        if (!selection.IsResolved && !JoinExisting)
        {
            // The field shows the choice to make; the summary says why the form came back.
            errors[AccountService.HomeTerritoryField] = string.Join(" ", selection.Messages);
        }

        if (errors.Count > 0)
        {
            ModelState.Clear();
            foreach (var (field, message) in errors)
            {
                ModelState.AddModelError(field, message);
            }

            TerritoryField = Field(selection, selection.IsResolved ? errors.GetValueOrDefault(AccountService.HomeTerritoryField) : null);
            return Page();
        }

        return RedirectToPage(new { envoye = true });
    }

    private static TerritoryFieldModel Field(TerritorySelection selection, string? error) => new()
    {
        Id = "champ-territoire",
        Name = AccountService.HomeTerritoryField,
        Label = "Territoire de l'organisation",
        Hint = "Sa commune, son intercommunalité, son département ou sa région (nom, code postal ou numéro) : vos offres partiront de ce territoire.",
        Multiple = false,
        Selection = selection,
        Error = error,
    };
}
