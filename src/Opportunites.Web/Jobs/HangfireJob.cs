using Hangfire;
using Hangfire.Common;
using Hangfire.Server;
using Hangfire.States;
using Hangfire.Storage;
using Microsoft.Extensions.Options;

namespace Opportunites.Web.Jobs;

/// <summary>
/// What Hangfire runs: the name of a registered <see cref="IClusteredJob"/>, run through <see cref="JobRunner"/> (ledger,
/// one run per occurrence). Hangfire's default retry (10 attempts over ~4.5 h) is off; each job's own count applies
/// (<see cref="ClusteredJobDefinition.Retries"/>, passed as the <c>retries</c> argument).
/// </summary>
[AutomaticRetry(Attempts = 0)]
[JobRetries]
public sealed class HangfireJob(JobRunner runner, JobsRegistry registry, IOptions<JobsSettings> settings)
{
    /// <summary>One occurrence of a job's schedule (a Hangfire recurring job).</summary>
    [JobDisplayName("{0} (planifiée)")]
    public async Task RunScheduledAsync(string jobName, int retries, PerformContext? perform, CancellationToken ct)
    {
        var job = registry.Find(jobName) ?? throw new InvalidOperationException($"Tâche inconnue : {jobName}");
        // The instant the scheduler created this run ("Time", Unix seconds), else the job's creation time.
        var triggered = perform?.GetJobParameter<long?>("Time") is { } seconds
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : new DateTimeOffset(perform?.BackgroundJob.CreatedAt ?? DateTime.UtcNow, TimeSpan.Zero);
        var occurrence = JobSchedules.OccurrenceAt(settings.Value.CronFor(job), triggered) ?? triggered;
        await RunAsync(new JobRunContext(jobName, occurrence, "schedule", null), perform, ct);
    }

    /// <summary>A run asked for now: by an admin ('manual'), or delivery because mail was queued ('event').</summary>
    [JobDisplayName("{0} ({2})")]
    public Task RunRequestedAsync(string jobName, DateTimeOffset requestedAt, string triggerKind, string? requestedBy, int retries,
        PerformContext? perform, CancellationToken ct) =>
        RunAsync(new JobRunContext(jobName, requestedAt, triggerKind, requestedBy), perform, ct);

    private async Task RunAsync(JobRunContext context, PerformContext? perform, CancellationToken ct)
    {
        var outcome = await runner.RunAsync(context, ct, perform?.BackgroundJob.Id);
        // Stopping: Hangfire puts the job back in the queue and another node starts it at once.
        ct.ThrowIfCancellationRequested();
        if (outcome.Outcome == "failed")
        {
            // Recorded in job_runs already; thrown so that Hangfire retries it (or shows it failed on its dashboard).
            throw new JobRunFailedException($"Tâche {context.JobName} en échec : {outcome.Error}");
        }
    }
}

public sealed class JobRunFailedException(string message) : Exception(message);

/// <summary>Hangfire's retry with the attempts each job chose, read from the job's <c>retries</c> argument.</summary>
[AttributeUsage(AttributeTargets.Class)]
internal sealed class JobRetriesAttribute : JobFilterAttribute, IElectStateFilter
{
    public void OnStateElection(ElectStateContext context)
    {
        if (context.CandidateState is not FailedState)
        {
            return;
        }

        var job = context.BackgroundJob.Job;
        var index = Array.FindIndex(job.Method.GetParameters(), p => p.Name == "retries");
        var attempts = index >= 0 && job.Args[index] is { } value ? Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture) : 0;
        if (attempts > 0)
        {
            new AutomaticRetryAttribute { Attempts = attempts, OnAttemptsExceeded = AttemptsExceededAction.Fail }.OnStateElection(context);
        }
    }
}

/// <summary>
/// At start, each registered job becomes a Hangfire recurring job (same id, cron from the settings, Europe/Paris), and a
/// recurring job that no longer exists in the code is removed.
/// </summary>
internal sealed class RecurringJobsRegistration(
    IRecurringJobManager manager,
    JobStorage storage,
    JobsRegistry registry,
    IOptions<JobsSettings> settings,
    ILogger<RecurringJobsRegistration> log) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!settings.Value.Enabled)
        {
            return Task.CompletedTask;
        }

        foreach (var job in registry.All)
        {
            var cron = settings.Value.CronFor(job);
            // Fails the start on a bad Jobs:Schedules value rather than leaving a job silently unscheduled.
            JobSchedules.Parse(cron);
            var options = new RecurringJobOptions
            {
                TimeZone = Shared.ParisTime.Zone,
                // Relaxed: after a time with every node down, one run for the missed occurrences; Ignorable: none.
                MisfireHandling = job.Misfire == MisfirePolicy.FireOnceNow ? MisfireHandlingMode.Relaxed : MisfireHandlingMode.Ignorable,
            };
            var name = job.Name;
            var retries = job.Retries;
            WhenLockFree(name, () =>
                manager.AddOrUpdate<HangfireJob>(name, j => j.RunScheduledAsync(name, retries, null, CancellationToken.None), cron, options));
        }

        using var connection = storage.GetConnection();
        foreach (var stale in connection.GetRecurringJobs().Where(r => registry.Find(r.Id) is null))
        {
            log.LogInformation("Tâche récurrente {Job} retirée : elle n'existe plus dans l'application", stale.Id);
            WhenLockFree(stale.Id, () => manager.RemoveIfExists(stale.Id));
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// A node killed while it held a recurring job's lock (Hangfire's scheduler takes it at each trigger) leaves the lock
    /// row until the storage's DistributedLockTimeout, and AddOrUpdate gives up after 15 s: a node restarted at once failed
    /// to start (DigestCrashTests). The storage removes the row once it has expired; the start waits for that.
    /// </summary>
    private void WhenLockFree(string job, Action change)
    {
        var deadline = DateTime.UtcNow + 2 * JobsExtensions.StorageOptions(settings.Value).DistributedLockTimeout;
        while (true)
        {
            try
            {
                change();
                return;
            }
            catch (Hangfire.PostgreSql.PostgreSqlDistributedLockException ex) when (DateTime.UtcNow < deadline)
            {
                log.LogWarning("Tâche récurrente {Job} verrouillée (nœud arrêté brutalement ?), nouvel essai : {Error}", job, ex.Message);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
