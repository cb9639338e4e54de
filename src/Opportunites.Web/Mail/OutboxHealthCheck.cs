using Dapper;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Opportunites.Web.Mail;

/// <summary>/healthz: the outbox backlog. Degraded when due emails wait for more than 15 minutes.</summary>
internal sealed class OutboxHealthCheck(NpgsqlDataSource db) : IHealthCheck
{
    // Served by outbox_due and outbox_failed (partial indexes).
    private const string BacklogSql = """
        SELECT count(*) FILTER (WHERE next_attempt_at <= now()) AS due,
               count(*) AS queued,
               coalesce(extract(epoch FROM now() - min(next_attempt_at) FILTER (WHERE next_attempt_at <= now())), 0)::int AS oldest_due_seconds,
               (SELECT count(*) FROM outbox WHERE status = 'failed' AND created_at > now() - interval '1 day') AS failed_last_day
        FROM outbox WHERE status = 'queued'
        """;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var b = await conn.QuerySingleAsync<(long Due, long Queued, int OldestDueSeconds, long FailedLastDay)>(
                new CommandDefinition(BacklogSql, cancellationToken: ct));
            var data = new Dictionary<string, object>
            {
                ["en_attente"] = b.Queued,
                ["a_envoyer"] = b.Due,
                ["plus_ancien_retard_s"] = b.OldestDueSeconds,
                ["echecs_24h"] = b.FailedLastDay,
            };
            var text = $"{b.Queued} courriel(s) en file dont {b.Due} à envoyer, {b.FailedLastDay} échec(s) en 24 h";
            return b.OldestDueSeconds > 15 * 60
                ? HealthCheckResult.Degraded($"Envoi en retard : {text}", data: data)
                : HealthCheckResult.Healthy(text, data);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("file des courriels illisible", ex);
        }
    }
}
