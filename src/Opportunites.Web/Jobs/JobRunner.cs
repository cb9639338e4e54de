using System.Diagnostics;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Opportunites.Web.Data;

namespace Opportunites.Web.Jobs;

/// <summary>The outcome of one call to <see cref="JobRunner.RunAsync"/>.</summary>
/// <param name="Skipped">Another node (or an earlier call) already ran this job for this scheduled time.</param>
public sealed record JobRunOutcome(
    bool Skipped,
    string Outcome,
    IReadOnlyDictionary<string, int> Counts,
    string? Error,
    int DurationMs);

/// <summary>
/// Runs a registered job once, for one occurrence: claims the (job, occurrence) row in job_runs first so that a second
/// Hangfire job for the same occurrence (at-least-once) changes nothing, then runs the job in its own DI scope and records
/// how it went. A failure is logged and recorded, and returned: the Hangfire entry point throws it for Hangfire's retry.
/// </summary>
public sealed class JobRunner(
    NpgsqlDataSource db,
    JobsRegistry registry,
    IServiceScopeFactory scopes,
    IOptions<JobsSettings> settings,
    ILogger<JobRunner> log)
{
    private const string ClaimSql = """
        INSERT INTO job_runs (job_name, scheduled_at, trigger_kind, requested_by, node, hangfire_job_id)
        VALUES (@name, @scheduledAt, @triggerKind, @requestedBy, @node, @hangfireJobId)
        ON CONFLICT (job_name, scheduled_at) DO NOTHING
        RETURNING id
        """;

    // The same Hangfire job again: its node was killed ('running' left behind) or stopped ('cancelled'), or it failed and
    // Hangfire retries it. It takes its own row over and starts again, unless the job asked for no recovery after an
    // interruption: then the row is closed as interrupted and the next occurrence does the work. A succeeded row stays.
    private const string TakeOverSql = """
        UPDATE job_runs
        SET node = @node, started_at = now(), duration_ms = NULL, counts = '{}'::jsonb,
            outcome = CASE WHEN outcome = 'failed' OR @recover THEN 'running' ELSE 'cancelled' END,
            finished_at = CASE WHEN outcome = 'failed' OR @recover THEN NULL ELSE now() END,
            error = CASE WHEN outcome = 'failed' OR @recover THEN NULL ELSE 'Interrompue par l''arrêt d''un nœud, sans reprise.' END
        WHERE job_name = @name AND scheduled_at = @scheduledAt AND hangfire_job_id = @hangfireJobId AND outcome <> 'succeeded'
        RETURNING id, outcome
        """;

    private const string FinishSql = """
        UPDATE job_runs
        SET finished_at = now(), duration_ms = @durationMs, outcome = @outcome, counts = @counts::jsonb, error = @error
        WHERE id = @id
        """;

    /// <summary>Delays between attempts to record how a run ended while PostgreSQL is unreachable (~30 s in all).</summary>
    internal static readonly TimeSpan[] RecordRetryDelays =
        [TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(15)];

    // Record even when the host is stopping: the row must not stay 'running'. A run that failed because PostgreSQL went
    // away usually finds it still away at this point: try again while it restarts (the admin page would otherwise show
    // the run as running forever); a stopping host tries twice, then leaves it.
    private async Task RecordAsync(long runId, string jobName, object args, CancellationToken stopping)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await using var conn = await db.OpenConnectionAsync(CancellationToken.None);
                await conn.ExecuteAsync(FinishSql, args);
                return;
            }
            catch (Exception ex) when (DataExtensions.IsDatabaseUnavailable(ex)
                                       && attempt < (stopping.IsCancellationRequested ? 1 : RecordRetryDelays.Length))
            {
                log.LogWarning("Tâche {Job} : fin de l'exécution {RunId} non enregistrée ({Error}), nouvel essai", jobName, runId, ex.Message);
                await Task.Delay(RecordRetryDelays[attempt], CancellationToken.None);
            }
        }
    }

    /// <param name="hangfireJobId">The Hangfire job running it (null from the command line).</param>
    private const string StoppedMessage = "Arrêt du nœud pendant l'exécution : reprise par un autre nœud.";

    public async Task<JobRunOutcome> RunAsync(JobRunContext context, CancellationToken ct, string? hangfireJobId = null)
    {
        var job = registry.Find(context.JobName)
            ?? throw new ArgumentException($"Tâche inconnue : {context.JobName}", nameof(context));

        // Microsecond precision is what timestamptz keeps: compare like with like.
        var scheduledAt = context.ScheduledAt.ToUniversalTime();
        long? runId;
        var recovering = false;
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            var args = new
            {
                name = job.Name,
                scheduledAt,
                triggerKind = context.TriggerKind,
                requestedBy = context.RequestedBy,
                node = settings.Value.Node,
                hangfireJobId,
                recover = job.RequestRecovery,
            };
            runId = await conn.ExecuteScalarAsync<long?>(new CommandDefinition(ClaimSql, args, cancellationToken: ct));
            if (runId is null && hangfireJobId is not null)
            {
                var taken = await conn.QuerySingleOrDefaultAsync<(long Id, string Outcome)?>(new CommandDefinition(TakeOverSql, args, cancellationToken: ct));
                recovering = taken?.Outcome == "running";
                runId = recovering ? taken!.Value.Id : null;
                if (taken?.Outcome == "cancelled")
                {
                    log.LogWarning("Tâche {Job} : l'exécution de l'échéance {ScheduledAt:O} a été interrompue ; pas de reprise pour cette tâche",
                        job.Name, scheduledAt);
                }
            }
        }

        if (runId is null)
        {
            log.LogInformation("Tâche {Job} : l'échéance {ScheduledAt:O} a déjà été exécutée ou est en cours ailleurs, rien à faire",
                job.Name, scheduledAt);
            return new JobRunOutcome(true, "skipped", new Dictionary<string, int>(), null, 0);
        }

        var started = Stopwatch.GetTimestamp();
        IReadOnlyDictionary<string, int> counts = new Dictionary<string, int>();
        string outcome;
        string? error = null;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var instance = (IClusteredJob)scope.ServiceProvider.GetRequiredService(job.JobType);
            counts = await instance.RunAsync(context with { ScheduledAt = scheduledAt }, ct);
            // A job that stops early when asked (delivery leaves its unsent messages due) returns normally: still cut
            // short, so the same Hangfire job, re-queued, takes this row over on another node and finishes the work.
            (outcome, error) = ct.IsCancellationRequested ? ("cancelled", StoppedMessage) : ("succeeded", null);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            outcome = "cancelled";
            error = StoppedMessage;
        }
        catch (Exception ex)
        {
            outcome = "failed";
            error = ex.Message;
            log.LogError(ex, "Tâche {Job} en échec", job.Name);
        }

        var ms = (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        await RecordAsync(runId.Value, job.Name, new
        {
            id = runId,
            durationMs = ms,
            outcome,
            counts = JsonSerializer.Serialize(counts),
            error,
        }, ct);

        log.LogInformation("Tâche {Job} ({Trigger}, échéance {ScheduledAt:O}{Recovered}) : {Outcome} en {Ms} ms {Counts}", job.Name,
            context.TriggerKind, scheduledAt, recovering ? ", reprise" : "", outcome, ms,
            string.Join(", ", counts.Select(c => $"{c.Key}={c.Value}")));
        return new JobRunOutcome(false, outcome, counts, error, ms);
    }
}
