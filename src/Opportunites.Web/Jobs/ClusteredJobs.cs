namespace Opportunites.Web.Jobs;

/// <summary>
/// A background job body. It is run by Quartz on one node of the cluster, by the admin page ("Lancer maintenant")
/// or by the command line (<c>jobs run &lt;name&gt;</c>), always through <see cref="JobRunner"/>, which records the run
/// in <c>job_runs</c> and skips a scheduled time that another node already ran. It must still be idempotent.
/// </summary>
public interface IClusteredJob
{
    /// <returns>What the run did, by name (e.g. <c>expired = 3</c>), shown on the admin page and logged.</returns>
    Task<IReadOnlyDictionary<string, int>> RunAsync(JobRunContext context, CancellationToken ct);
}

/// <param name="ScheduledAt">The fire time Quartz scheduled, or the instant a manual run was asked for.</param>
/// <param name="TriggerKind">'schedule', 'manual' (admin page) or 'cli'.</param>
public sealed record JobRunContext(string JobName, DateTimeOffset ScheduledAt, string TriggerKind, string? RequestedBy);

/// <summary>What to do when a fire time was missed (all nodes down, or the previous run lasted too long).</summary>
public enum MisfirePolicy
{
    /// <summary>Run once as soon as possible, then follow the schedule (catch-up jobs such as expiry).</summary>
    FireOnceNow,

    /// <summary>Skip the missed times and wait for the next one (frequent jobs such as delivery).</summary>
    DoNothing,
}

/// <summary>A job known to the scheduler, the admin page and the command line.</summary>
/// <param name="Name">Short key: Quartz job key, <c>job_runs.job_name</c>, <c>Jobs:Schedules:&lt;name&gt;</c>, CLI argument.</param>
/// <param name="DefaultCron">Quartz cron (seconds first), in Europe/Paris, used unless the settings give another.</param>
/// <param name="Label">What admins read (French).</param>
/// <param name="RequestRecovery">Re-run on another node when the node running it dies mid-run.</param>
public sealed record ClusteredJobDefinition(
    string Name,
    Type JobType,
    string DefaultCron,
    string Label,
    MisfirePolicy Misfire,
    bool RequestRecovery);

/// <summary>Every job registered with <see cref="JobsExtensions.AddClusteredJob{TJob}"/>, by name.</summary>
public sealed class JobsRegistry(IEnumerable<ClusteredJobDefinition> definitions)
{
    private readonly Dictionary<string, ClusteredJobDefinition> _byName =
        definitions.ToDictionary(d => d.Name, StringComparer.Ordinal);

    public IReadOnlyCollection<ClusteredJobDefinition> All => _byName.Values;

    public ClusteredJobDefinition? Find(string name) => _byName.GetValueOrDefault(name);
}

/// <summary>The <c>Jobs</c> settings section.</summary>
public sealed class JobsSettings
{
    /// <summary>Whether this node's scheduler runs jobs (off: the admin page still reads the shared schedule).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Cron string per job name, overriding the job's default, e.g. <c>Jobs__Schedules__expire</c>.</summary>
    public Dictionary<string, string> Schedules { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How often a node tells the others it is alive; a silent node's jobs are recovered after twice that.</summary>
    public int CheckinIntervalSeconds { get; set; } = 5;

    /// <summary>Job runs and sent or failed emails older than this are deleted by the purge job.</summary>
    public int HistoryDays { get; set; } = 30;

    /// <summary>Name of this node in job_runs and logs (default: machine name and process id).</summary>
    public string? NodeName { get; set; }

    public string CronFor(ClusteredJobDefinition job) =>
        Schedules.TryGetValue(job.Name, out var cron) && !string.IsNullOrWhiteSpace(cron) ? cron.Trim() : job.DefaultCron;

    public string Node => string.IsNullOrWhiteSpace(NodeName) ? $"{Environment.MachineName}:{Environment.ProcessId}" : NodeName;
}
