using Opportunites.Web.Jobs;
using Opportunites.Web.Mail;
using Opportunites.Web.Subscriptions;

namespace Opportunites.Web.Digests;

/// <summary>Monday 07:00 Europe/Paris: the weekly digests. Idempotent: the ledger makes a re-run send nothing.</summary>
public sealed class WeeklyDigestJob(DigestRunner runner, JobControl jobs, ILogger<WeeklyDigestJob> log) : IClusteredJob
{
    public const string Name = "veille-hebdomadaire";
    public const string Cron = "0 0 7 ? * MON";

    // The scheduled time, not the start time, decides the period: a run that starts late still serves its own week.
    public async Task<IReadOnlyDictionary<string, int>> RunAsync(JobRunContext context, CancellationToken ct)
    {
        var result = await RunAndDeliverAsync(runner, jobs, Name, context.ScheduledAt, Frequencies.Weekly, log, ct);
        return Counts(result);
    }

    /// <summary>
    /// Delivery runs every 10 seconds and stops when the outbox is empty. A digest asks for it as soon as its first
    /// emails are committed (otherwise they waited up to 10 s for its turn while the run went on: ~5,000 emails at the
    /// start of a 100,000-subscriber run), and again at the end when later batches queued more, since a delivery that
    /// caught up with the run meanwhile has stopped (a request made while it runs starts another run after it).
    /// </summary>
    internal static async Task<DigestRunResult> RunAndDeliverAsync(DigestRunner runner, JobControl jobs, string requestedBy,
        DateTimeOffset scheduledAt, string frequency, ILogger log, CancellationToken ct)
    {
        var asked = 0;
        var result = await runner.RunAsync(scheduledAt, frequency, ct: ct, firstQueued: async queued =>
        {
            asked = queued;
            await KickDeliveryAsync(jobs, requestedBy, log);
        });
        if (result.Queued > asked)
        {
            await KickDeliveryAsync(jobs, requestedBy, log);
        }

        return result;
    }

    /// <summary>A failed request changes nothing but the wait for delivery's next turn: the emails are queued either way.</summary>
    private static async Task KickDeliveryAsync(JobControl jobs, string requestedBy, ILogger log)
    {
        try
        {
            await jobs.RunNowAsync(DeliveryJob.Name, requestedBy, CancellationToken.None);
        }
        catch (Exception ex) when (ex is Quartz.SchedulerException or Npgsql.NpgsqlException or TimeoutException)
        {
            log.LogWarning(ex, "Envoi immédiat non demandé après la veille ; la tâche {Job} passera à son heure", DeliveryJob.Name);
        }
    }

    internal static IReadOnlyDictionary<string, int> Counts(DigestRunResult r) => new Dictionary<string, int>
    {
        ["en_file"] = r.Queued,
        ["sans_contenu"] = r.Empty,
        ["deja_servies"] = r.AlreadySent,
        ["groupes"] = r.Groups,
        // Where the time went (admin page, benchmark): reading the offers, writing ledger + outbox rows.
        ["ms_offres"] = (int)r.OffersTime.TotalMilliseconds,
        ["ms_ecriture"] = (int)r.WriteTime.TotalMilliseconds,
    };
}

/// <summary>Every day 07:00 Europe/Paris: the daily digests.</summary>
public sealed class DailyDigestJob(DigestRunner runner, JobControl jobs, ILogger<DailyDigestJob> log) : IClusteredJob
{
    public const string Name = "veille-quotidienne";
    public const string Cron = "0 0 7 * * ?";

    public async Task<IReadOnlyDictionary<string, int>> RunAsync(JobRunContext context, CancellationToken ct)
    {
        var result = await WeeklyDigestJob.RunAndDeliverAsync(runner, jobs, Name, context.ScheduledAt, Frequencies.Daily, log, ct);
        return WeeklyDigestJob.Counts(result);
    }
}

/// <summary>Every day 08:00 Europe/Paris: J-7 / J-1 deadline reminders, then the purge of unconfirmed addresses.</summary>
public sealed class DeadlineReminderJob(ReminderRunner runner) : IClusteredJob
{
    public const string Name = "rappels-date-limite";
    public const string Cron = "0 0 8 * * ?";

    public async Task<IReadOnlyDictionary<string, int>> RunAsync(JobRunContext context, CancellationToken ct)
    {
        var r = await runner.RunAsync(context.ScheduledAt, ct: ct);
        return new Dictionary<string, int> { ["rappels"] = r.Queued, ["adresses_effacees"] = r.Purged };
    }
}
