using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Accounts;
using Opportunites.Web.Import;
using Opportunites.Web.Publishing;
using Opportunites.Web.Shared;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Pages.Admin.Export;

[Authorize(Policy = Policies.Admin)]
public sealed class IndexModel(NewsletterExport export, TerritoryDirectory territories, TimeProvider clock) : PageModel
{
    public string Du { get; private set; } = "";
    public string Au { get; private set; } = "";
    public string Territoire { get; private set; } = "FR";

    /// <summary>Leave out the offers for all of France (?nationales=non): a territory's own newsletter.</summary>
    public bool WithoutNational { get; private set; }

    /// <summary>End of the last period exported, shown beside the default dates.</summary>
    public DateOnly? LastExported { get; private set; }

    public string? Error { get; private set; }
    public NewsletterBlocks? Blocks { get; private set; }
    public TerritoryDirectory Territories => territories;

    // A GET, so that an export is a link one can keep or send; producing the blocks records the period exported
    // (the next export's default start), nothing else changes.
    public async Task OnGetAsync(string? du, string? au, string? territoire, string? nationales)
    {
        var (defaultFrom, defaultTo, last) = await export.GetDefaultPeriodAsync(ParisTime.Today(clock));
        LastExported = last;
        Du = du?.Trim() ?? ParisTime.FormatDate(defaultFrom);
        Au = au?.Trim() ?? ParisTime.FormatDate(defaultTo);
        Territoire = territories.Resolve(territoire)?.Code ?? "FR";
        WithoutNational = nationales == "non";
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

        var national = !WithoutNational || Territoire == "FR";
        Blocks = await export.BuildAsync(from, to, Territoire, national);
        await export.RecordAsync(from, to, Territoire, national, CurrentUser.From(User)?.Id);
    }
}
