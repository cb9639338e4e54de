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
    /// <summary>Runs shown under each job: enough to see a pattern, few enough that every job stays on screen.</summary>
    public const int RunsPerJob = 5;

    public IReadOnlyList<JobSchedule> Schedules { get; private set; } = [];

    public IReadOnlyDictionary<string, IReadOnlyList<JobRunRow>> Runs { get; private set; } = new Dictionary<string, IReadOnlyList<JobRunRow>>();

    public bool SchedulerEnabledHere => control.SchedulerEnabledHere;

    [TempData]
    public string? Message { get; set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        Schedules = await control.GetSchedulesAsync(ct);
        Runs = await queries.GetRecentRunsByJobAsync(Schedules.Select(s => s.Name).ToList(), RunsPerJob, ct);
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
