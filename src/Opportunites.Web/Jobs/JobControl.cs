using Hangfire;
using Hangfire.States;
using Hangfire.Storage;
using Microsoft.Extensions.Options;

namespace Opportunites.Web.Jobs;

/// <summary>A job as the admin page lists it.</summary>
/// <param name="Schedule">The schedule in French words ("chaque lundi à 7 h").</param>
public sealed record JobSchedule(string Name, string Label, string Cron, string Schedule, DateTimeOffset? NextFireTime,
    DateTimeOffset? PreviousFireTime, string? Error);

/// <summary>Reads the shared schedule from Hangfire's storage and queues runs now (any node with a Hangfire server takes them).</summary>
public sealed class JobControl(
    JobStorage storage,
    IBackgroundJobClient client,
    JobsRegistry registry,
    IOptions<JobsSettings> settings,
    ILogger<JobControl> log)
{
    public bool SchedulerEnabledHere => settings.Value.Enabled;

    public Task<IReadOnlyList<JobSchedule>> GetSchedulesAsync(CancellationToken ct = default)
    {
        using var connection = storage.GetConnection();
        var stored = connection.GetRecurringJobs(registry.All.Select(j => j.Name).ToList()).ToDictionary(r => r.Id);
        var list = new List<JobSchedule>();
        foreach (var job in registry.All.OrderBy(j => j.Name, StringComparer.Ordinal))
        {
            stored.TryGetValue(job.Name, out var r);
            var cron = r?.Cron ?? settings.Value.CronFor(job);
            var next = r?.NextExecution is { } n ? new DateTimeOffset(n, TimeSpan.Zero) : JobSchedules.NextAfter(cron, DateTimeOffset.UtcNow);
            list.Add(new JobSchedule(job.Name, job.Label, cron, JobSchedules.Describe(cron), next,
                r?.LastExecution is { } l ? new DateTimeOffset(l, TimeSpan.Zero) : null, r?.Error));
        }

        return Task.FromResult<IReadOnlyList<JobSchedule>>(list);
    }

    /// <summary>Queues one run now, recorded in job_runs as 'manual' with <paramref name="requestedBy"/>.</summary>
    /// <returns>false when no such job exists.</returns>
    public Task<bool> RunNowAsync(string name, string requestedBy, CancellationToken ct = default)
    {
        if (registry.Find(name) is not { } job)
        {
            return Task.FromResult(false);
        }

        var id = Enqueue(job, "manual", requestedBy);
        log.LogInformation("Tâche {Job} demandée par {Admin} (Hangfire {HangfireJob})", name, requestedBy, id);
        return Task.FromResult(true);
    }

    private string? _lastDelivery;

    /// <summary>
    /// Delivery now, because mail was queued: skipped while the previous request is still waiting in the queue (it will
    /// send this mail too), so a digest committing batch after batch asks for one run at a time, not one per batch.
    /// </summary>
    public void RequestDelivery()
    {
        if (registry.Find(Mail.DeliveryJob.Name) is not { } job)
        {
            return;
        }

        if (Volatile.Read(ref _lastDelivery) is { } last)
        {
            using var connection = storage.GetConnection();
            if (connection.GetStateData(last)?.Name == EnqueuedState.StateName)
            {
                return;
            }
        }

        Volatile.Write(ref _lastDelivery, Enqueue(job, "event", null));
    }

    private string Enqueue(ClusteredJobDefinition job, string kind, string? requestedBy)
    {
        var name = job.Name;
        var retries = job.Retries;
        var at = DateTimeOffset.UtcNow;
        return client.Enqueue<HangfireJob>(j => j.RunRequestedAsync(name, at, kind, requestedBy, retries, null, CancellationToken.None));
    }
}
