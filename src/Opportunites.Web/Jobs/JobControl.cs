using Microsoft.Extensions.Options;
using Quartz;

namespace Opportunites.Web.Jobs;

/// <summary>A job as the admin page lists it.</summary>
public sealed record JobSchedule(string Name, string Label, string Cron, DateTimeOffset? NextFireTime, DateTimeOffset? PreviousFireTime);

/// <summary>Reads the shared schedule and asks the cluster for a manual run (any node with a running scheduler takes it).</summary>
public sealed class JobControl(ISchedulerFactory factory, JobsRegistry registry, IOptions<JobsSettings> settings)
{
    public bool SchedulerEnabledHere => settings.Value.Enabled;

    public async Task<IReadOnlyList<JobSchedule>> GetSchedulesAsync(CancellationToken ct = default)
    {
        var scheduler = await factory.GetScheduler(ct);
        var list = new List<JobSchedule>();
        foreach (var job in registry.All.OrderBy(j => j.Name, StringComparer.Ordinal))
        {
            var trigger = await scheduler.GetTrigger(new TriggerKey(job.Name), ct);
            var cron = (trigger as ICronTrigger)?.CronExpressionString ?? settings.Value.CronFor(job);
            list.Add(new JobSchedule(job.Name, job.Label, cron, trigger?.NextFireTimeUtc, trigger?.PreviousFireTimeUtc));
        }

        return list;
    }

    /// <summary>Queues one run now, recorded in job_runs as 'manual' with <paramref name="requestedBy"/>.</summary>
    /// <returns>false when no such job exists.</returns>
    public async Task<bool> RunNowAsync(string name, string requestedBy, CancellationToken ct = default)
    {
        if (registry.Find(name) is null)
        {
            return false;
        }

        var scheduler = await factory.GetScheduler(ct);
        await scheduler.TriggerJob(new JobKey(name), new JobDataMap { [QuartzJob.RequestedByKey] = requestedBy }, ct);
        return true;
    }
}
