using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Accounts;
using Opportunites.Web.Jobs;

namespace Opportunites.Web.Pages.Admin.Jobs;

[Authorize(Policy = Policies.Admin)]
public sealed class IndexModel(JobControl control, JobsQueries queries) : PageModel
{
    public IReadOnlyList<JobSchedule> Schedules { get; private set; } = [];

    public IReadOnlyDictionary<string, JobRunRow> LastRuns { get; private set; } = new Dictionary<string, JobRunRow>();

    public IReadOnlyList<JobRunRow> RecentRuns { get; private set; } = [];

    public bool SchedulerEnabledHere => control.SchedulerEnabledHere;

    [TempData]
    public string? Message { get; set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        Schedules = await control.GetSchedulesAsync(ct);
        LastRuns = (await queries.GetLastRunsAsync(ct)).ToDictionary(r => r.JobName);
        RecentRuns = await queries.GetRecentRunsAsync(Schedules.Select(s => s.Name).ToList(), 30, ct);
    }

    public async Task<IActionResult> OnPostRunAsync(string job, CancellationToken ct)
    {
        var who = User.FindFirstValue(ClaimTypes.Email) ?? User.Identity?.Name ?? "admin";
        Message = await control.RunNowAsync(job, who, ct)
            ? $"Exécution de la tâche « {job} » demandée : elle apparaîtra ci-dessous dès qu'un nœud l'aura prise."
            : $"Tâche inconnue : « {job} ».";
        return RedirectToPage();
    }
}
