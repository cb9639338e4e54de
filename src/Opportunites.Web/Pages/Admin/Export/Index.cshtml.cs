using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Accounts;
using Opportunites.Web.Import;
using Opportunites.Web.Publishing;
using Opportunites.Web.Shared;

namespace Opportunites.Web.Pages.Admin.Export;

[Authorize(Policy = Policies.Admin)]
public sealed class IndexModel(NewsletterExport export, TerritoryDirectory territories, TimeProvider clock) : PageModel
{
    public string Du { get; private set; } = "";
    public string Au { get; private set; } = "";
    public string Territoire { get; private set; } = "FR";
    public string? Error { get; private set; }
    public NewsletterBlocks? Blocks { get; private set; }
    public TerritoryDirectory Territories => territories;

    public async Task OnGetAsync(string? du, string? au, string? territoire)
    {
        var today = ParisTime.Today(clock);
        Du = du ?? ParisTime.FormatDate(today.AddDays(-7));
        Au = au ?? ParisTime.FormatDate(today);
        Territoire = territories.Resolve(territoire)?.Code ?? "FR";
        if (du is null && au is null)
        {
            return;
        }

        if (!ParisTime.TryParseDate(Du, out var from) || !ParisTime.TryParseDate(Au, out var to))
        {
            Error = "Les dates doivent être au format JJ/MM/AAAA.";
            return;
        }

        if (to < from)
        {
            Error = "La date de fin doit suivre la date de début.";
            return;
        }

        Blocks = await export.BuildAsync(from, to, Territoire);
    }
}
