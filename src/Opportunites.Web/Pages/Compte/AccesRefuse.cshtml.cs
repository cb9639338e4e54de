using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Opportunites.Web.Pages.Compte;

public sealed class AccesRefuseModel : PageModel
{
    public void OnGet() => Response.StatusCode = StatusCodes.Status403Forbidden;
}
