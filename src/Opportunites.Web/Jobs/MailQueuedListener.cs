using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Opportunites.Web.Jobs;

/// <summary>
/// Delivery as soon as mail is queued: every outbox insert notifies <c>outbox_queued</c> at commit (trigger of migration
/// 0072, whoever the caller), and one node — the one whose listening session holds the advisory lock — queues a Hangfire
/// delivery run (<see cref="JobControl.RequestDelivery"/>). The lock goes with the session: a node that dies or loses
/// its connection lets another take the role at the next notification. The recurring <c>deliver</c> sweep covers mail
/// queued while no node listened and the retries of deferred messages.
/// </summary>
internal sealed class MailQueuedListener(
    [FromKeyedServices(JobsExtensions.HangfireSchema)] NpgsqlDataSource db,
    JobControl control,
    IOptions<JobsSettings> settings,
    ILogger<MailQueuedListener> log) : BackgroundService
{
    public const string Channel = "outbox_queued";

    // Any fixed key: it only has to differ from the app's other advisory locks (migrations use their own).
    private const long LeaderLockKey = 0x6f75_7462_6f78;

    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        // A node without a Hangfire server (Jobs:Enabled=false) leaves delivery to those that have one.
        while (settings.Value.Enabled && !stopping.IsCancellationRequested)
        {
            try
            {
                // Its own session, outside any pool: closing it is what releases the lock and the LISTEN.
                await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(db.ConnectionString) { Pooling = false }.ConnectionString);
                await conn.OpenAsync(stopping);
                await conn.ExecuteAsync($"LISTEN {Channel}");
                var leader = false;
                // Mail queued while this node was not listening (start, reconnection) goes now rather than at the sweep.
                var pending = true;
                conn.Notification += (_, _) => pending = true;
                while (true)
                {
                    if (pending)
                    {
                        pending = false;
                        leader = leader || await conn.ExecuteScalarAsync<bool>("SELECT pg_try_advisory_lock(@key)", new { key = LeaderLockKey });
                        if (leader)
                        {
                            control.RequestDelivery();
                        }
                    }

                    // Returns after a notification (the handler above has run), or after the timeout to check the link.
                    await conn.WaitAsync(TimeSpan.FromSeconds(30), stopping);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                log.LogWarning("Écoute des courriels mis en file interrompue ({Error}) ; nouvel essai dans {Delay} s",
                    ex.Message, ReconnectDelay.TotalSeconds);
                try
                {
                    await Task.Delay(ReconnectDelay, stopping);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
