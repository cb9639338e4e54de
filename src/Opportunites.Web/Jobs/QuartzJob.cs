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
        var scheduled = context.ScheduledFireTimeUtc ?? context.FireTimeUtc;
        // A recovery trigger fires "now" for a run that died with its node: it belongs to the original scheduled time,
        // whose job_runs row the dead node left 'running'.
        if (context.Recovering &&
            context.MergedJobDataMap.TryGetString(SchedulerConstants.FailedJobOriginalTriggerScheduledFireTime, out var original) &&
            TryParseInstant(original, out var originalTime))
        {
            scheduled = originalTime;
        }

        var run = new JobRunContext(
            context.JobDetail.Key.Name,
            scheduled,
            requestedBy is null ? "schedule" : "manual",
            requestedBy);
        await runner.RunAsync(run, cancellationToken, recovering: context.Recovering);
    }

    /// <summary>Quartz writes the original time as milliseconds since 1970 or as a date string, depending on the store.</summary>
    internal static bool TryParseInstant(string? text, out DateTimeOffset instant)
    {
        if (long.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var ms))
        {
            instant = DateTimeOffset.FromUnixTimeMilliseconds(ms);
            return true;
        }

        return DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal, out instant);
    }
}
