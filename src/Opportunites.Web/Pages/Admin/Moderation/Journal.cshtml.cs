using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;
using Opportunites.Web.Accounts;
using Opportunites.Web.Moderation;

namespace Opportunites.Web.Pages.Admin.Moderation;

[Authorize(Policy = Policies.Admin)]
public sealed class JournalModel(NpgsqlDataSource db) : PageModel
{
    public IReadOnlyList<AuditEntry> Entries { get; private set; } = [];

    public async Task OnGetAsync(long? offre) =>
        Entries = await AuditLog.GetRecentAsync(db, 300, offre is null ? null : "opportunity", offre);
}
