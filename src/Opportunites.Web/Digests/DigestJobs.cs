using Opportunites.Web.Jobs;
using Opportunites.Web.Subscriptions;

namespace Opportunites.Web.Digests;

/// <summary>Monday 07:00 Europe/Paris: the weekly digests. Idempotent: the ledger makes a re-run send nothing.</summary>
public sealed class WeeklyDigestJob(DigestRunner runner) : IClusteredJob
{
    public const string Name = "veille-hebdomadaire";
    public const string Cron = "0 0 7 ? * MON";

    // The scheduled occurrence, not the start time, decides the period: a run that starts late still serves its own week.
    // Delivery needs no asking: each batch's commit notifies the job nodes (MailQueuedListener).
    public async Task<IReadOnlyDictionary<string, int>> RunAsync(JobRunContext context, CancellationToken ct) =>
        Counts(await runner.RunAsync(context.ScheduledAt, Frequencies.Weekly, ct: ct));

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
public sealed class DailyDigestJob(DigestRunner runner) : IClusteredJob
{
    public const string Name = "veille-quotidienne";
    public const string Cron = "0 0 7 * * ?";

    public async Task<IReadOnlyDictionary<string, int>> RunAsync(JobRunContext context, CancellationToken ct) =>
        WeeklyDigestJob.Counts(await runner.RunAsync(context.ScheduledAt, Frequencies.Daily, ct: ct));
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
