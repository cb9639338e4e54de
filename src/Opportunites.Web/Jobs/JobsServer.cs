using Hangfire;
using Hangfire.Server;
using Microsoft.Extensions.Options;

namespace Opportunites.Web.Jobs;

/// <summary>This node's Hangfire server (its workers and schedulers), unless Jobs:Enabled=false.</summary>
internal sealed class JobsServer(
    JobStorage storage,
    JobActivator activator,
    IOptions<JobsSettings> settings,
    IEnumerable<IBackgroundProcess> processes) : IHostedService, IDisposable
{
    private BackgroundJobServer? _server;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var jobs = settings.Value;
        if (!jobs.Enabled)
        {
            return Task.CompletedTask;
        }

        _server = new BackgroundJobServer(new BackgroundJobServerOptions
        {
            ServerName = jobs.Node,
            WorkerCount = Math.Max(2, jobs.Workers),
            Activator = activator,
            // Measured: with the default 15 s, an every-5-seconds job ran 27 times for 77 occurrences; with 1 s, every
            // occurrence once. Also bounds how late a daily job starts.
            SchedulePollingInterval = TimeSpan.FromSeconds(1),
            // The servers list (dashboard, /healthz) forgets a killed node after ServerTimeout; its jobs do not wait for
            // that (their takeover is the invisibility timeout of the storage).
            HeartbeatInterval = TimeSpan.FromSeconds(5),
            ServerCheckInterval = TimeSpan.FromSeconds(15),
            ServerTimeout = TimeSpan.FromSeconds(30),
            // SIGTERM: the jobs' CancellationToken fires after StopTimeout; a delivery finishes its message and gives the
            // rest back, and Hangfire re-queues the job for another node. Within the host's 30 s shutdown timeout.
            StopTimeout = TimeSpan.FromSeconds(1),
            ShutdownTimeout = TimeSpan.FromSeconds(20),
        }, storage, processes);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null)
        {
            _server.SendStop();
            await _server.WaitForShutdownAsync(cancellationToken);
        }
    }

    public void Dispose() => _server?.Dispose();
}
