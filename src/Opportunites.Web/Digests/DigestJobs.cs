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
        var result = await runner.RunAsync(context.ScheduledAt, Frequencies.Weekly, ct: ct);
        await KickDeliveryAsync(jobs, Name, result, log);
        return Counts(result);
    }

    /// <summary>
    /// Delivery runs every 10 seconds and stops when the outbox is empty: while a digest is being written it catches up
    /// and waits for its next turn. Asked to run at once when the digest is done, it sends the last emails without
    /// waiting for that turn (up to 10 s at the end of a 100,000-subscriber run). A failed request changes nothing
    /// but that wait: the emails are queued either way.
    /// </summary>
    internal static async Task KickDeliveryAsync(JobControl jobs, string requestedBy, DigestRunResult result, ILogger log)
    {
        if (result.Queued == 0)
        {
            return;
        }

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
        var result = await runner.RunAsync(context.ScheduledAt, Frequencies.Daily, ct: ct);
        await WeeklyDigestJob.KickDeliveryAsync(jobs, Name, result, log);
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
