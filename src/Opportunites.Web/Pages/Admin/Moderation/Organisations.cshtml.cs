using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Accounts;
using Opportunites.Web.Moderation;

namespace Opportunites.Web.Pages.Admin.Moderation;

[Authorize(Policy = Policies.Admin)]
public sealed class OrganisationsModel(ModerationService moderation) : PageModel
{
    public IReadOnlyList<IssuerRow> Issuers { get; private set; } = [];
    public string? Q { get; private set; }

    public async Task OnGetAsync(string? q)
    {
        Q = q;
        Issuers = await moderation.ListIssuersAsync(q);
    }

    public async Task<IActionResult> OnPostAsync(long id, bool confiance)
    {
        return await moderation.SetTrustedAsync(CurrentUser.From(User)!, id, confiance)
            ? Redirect("/admin/moderation/organisations")
            : NotFound();
    }
}
