using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Opportunites.Web.Jobs;
using Opportunites.Web.Legal;
using Opportunites.Web.Subscriptions;

namespace Opportunites.Web.Pages.Legal;

/// <summary>The durations shown are the ones the purges apply (read from their settings, not restated by hand).</summary>
public sealed class ConfidentialiteModel(IOptions<LegalSettings> legal, IOptions<AlertSettings> alerts, IOptions<JobsSettings> jobs)
    : PageModel
{
    public LegalSettings Legal => legal.Value;

    public int UnconfirmedDays => Math.Max(1, (int)Math.Round(alerts.Value.UnconfirmedLifetime.TotalDays));

    public int EmailHistoryDays => Math.Max(1, jobs.Value.HistoryDays);
}
