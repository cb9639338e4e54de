using Opportunites.Web.Subscriptions;
using Quartz;

namespace Opportunites.Web.Digests;

/// <summary>Monday 07:00 Europe/Paris: the weekly digests. Idempotent: the ledger makes a re-run send nothing.</summary>
[DisallowConcurrentExecution]
public sealed class WeeklyDigestJob(DigestRunner runner, TimeProvider clock) : IJob
{
    public const string Name = "veille-hebdomadaire";
    public const string Cron = "0 0 7 ? * MON";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var r = await runner.RunAsync(clock.GetUtcNow(), Frequencies.Weekly, ct: cancellationToken);
        context.Result = $"{r.Queued} veille(s) en file, {r.Empty} sans contenu, {r.AlreadySent} déjà servie(s)";
    }
}

/// <summary>Every day 07:00 Europe/Paris: the daily digests.</summary>
[DisallowConcurrentExecution]
public sealed class DailyDigestJob(DigestRunner runner, TimeProvider clock) : IJob
{
    public const string Name = "veille-quotidienne";
    public const string Cron = "0 0 7 * * ?";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var r = await runner.RunAsync(clock.GetUtcNow(), Frequencies.Daily, ct: cancellationToken);
        context.Result = $"{r.Queued} veille(s) en file, {r.Empty} sans contenu, {r.AlreadySent} déjà servie(s)";
    }
}

/// <summary>Every day 08:00 Europe/Paris: J-7 / J-1 deadline reminders, then the purge of unconfirmed addresses.</summary>
[DisallowConcurrentExecution]
public sealed class DeadlineReminderJob(ReminderRunner runner, TimeProvider clock) : IJob
{
    public const string Name = "rappels-date-limite";
    public const string Cron = "0 0 8 * * ?";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var r = await runner.RunAsync(clock.GetUtcNow(), ct: cancellationToken);
        context.Result = $"{r.Queued} rappel(s) en file, {r.Purged} adresse(s) non confirmée(s) effacée(s)";
    }
}
