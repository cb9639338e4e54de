using Quartz;

namespace Opportunites.Web.Jobs;

/// <summary>
/// The one Quartz job class: its job key is the name of a registered <see cref="IClusteredJob"/>, which it runs
/// through <see cref="JobRunner"/>. Never two at once for a key across the cluster: measured here, two nodes
/// otherwise fired the same scheduled time twice in most runs.
/// </summary>
[DisallowConcurrentExecution]
public sealed class QuartzJob(JobRunner runner) : IJob
{
    /// <summary>Job data key of a manual run: who asked for it (audited in job_runs.requested_by).</summary>
    public const string RequestedByKey = "requestedBy";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var requestedBy = context.MergedJobDataMap.TryGetString(RequestedByKey, out var who) ? who : null;
        var run = new JobRunContext(
            context.JobDetail.Key.Name,
            context.ScheduledFireTimeUtc ?? context.FireTimeUtc,
            requestedBy is null ? "schedule" : "manual",
            requestedBy);
        await runner.RunAsync(run, cancellationToken, recovering: context.Recovering);
    }
}
