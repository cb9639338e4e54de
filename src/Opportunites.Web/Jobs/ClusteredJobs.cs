namespace Opportunites.Web.Jobs;

/// <summary>
/// A background job body. It is run by Hangfire on one node of the cluster (at each occurrence of its schedule, when the
/// admin page asks for it, or, for delivery, when mail is queued), or by the command line (<c>jobs run &lt;name&gt;</c>),
/// always through <see cref="JobRunner"/>, which records the run in <c>job_runs</c> and skips an occurrence that another
/// node or another Hangfire job already ran. It must still be idempotent: a node killed mid-run has it started over.
/// </summary>
public interface IClusteredJob
{
    /// <returns>What the run did, by name (e.g. <c>expired = 3</c>), shown on the admin page and logged.</returns>
    Task<IReadOnlyDictionary<string, int>> RunAsync(JobRunContext context, CancellationToken ct);
}

/// <param name="ScheduledAt">The cron occurrence the run belongs to, or the instant a run was asked for.</param>
/// <param name="TriggerKind">'schedule', 'manual' (admin page), 'cli' or 'event' (delivery after mail was queued).</param>
public sealed record JobRunContext(string JobName, DateTimeOffset ScheduledAt, string TriggerKind, string? RequestedBy);

/// <summary>What to do when occurrences were missed (every node down).</summary>
public enum MisfirePolicy
{
    /// <summary>Run once as soon as possible, for the latest missed occurrence, then follow the schedule (expiry, digests).</summary>
    FireOnceNow,

    /// <summary>Skip the missed occurrences and wait for the next one (frequent jobs such as the delivery sweep).</summary>
    DoNothing,
}

/// <summary>A job known to the scheduler, the admin page and the command line.</summary>
/// <param name="Name">Short key: Hangfire recurring job id, <c>job_runs.job_name</c>, <c>Jobs:Schedules:&lt;name&gt;</c>, CLI argument.</param>
/// <param name="DefaultCron">Cron with seconds first (6 fields, <c>?</c> accepted), in Europe/Paris, unless the settings give another.</param>
/// <param name="Label">What admins read (French).</param>
/// <param name="RequestRecovery">Start the run over on another node when the node running it dies or stops mid-run.</param>
/// <param name="Retries">Hangfire attempts after a failed run (its <c>AutomaticRetry</c>), 0 = wait for the next occurrence.</param>
public sealed record ClusteredJobDefinition(
    string Name,
    Type JobType,
    string DefaultCron,
    string Label,
    MisfirePolicy Misfire,
    bool RequestRecovery,
    int Retries = 0);

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
    /// <summary>Whether this node runs a Hangfire server (off: the admin page still reads the shared schedule).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Cron string per job name, overriding the job's default, e.g. <c>Jobs__Schedules__expire</c>.</summary>
    public Dictionary<string, string> Schedules { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// A fetched job stays invisible to other nodes this long after its node last renewed it (sliding, renewed while the
    /// job runs): a killed node's job is taken over after at most this, plus a poll. 60 s measured 58 s (stack notes).
    /// </summary>
    public int InvisibilitySeconds { get; set; } = 60;

    /// <summary>Hangfire workers on this node: the long jobs (a digest, a delivery) plus room for the short ones.</summary>
    public int Workers { get; set; } = 5;

    /// <summary>Job runs and sent or failed emails older than this are deleted by the purge job.</summary>
    public int HistoryDays { get; set; } = 30;

    /// <summary>Name of this node in job_runs and logs (default: machine name and process id).</summary>
    public string? NodeName { get; set; }

    public string CronFor(ClusteredJobDefinition job) =>
        Schedules.TryGetValue(job.Name, out var cron) && !string.IsNullOrWhiteSpace(cron) ? cron.Trim() : job.DefaultCron;

    public string Node => string.IsNullOrWhiteSpace(NodeName) ? $"{Environment.MachineName}:{Environment.ProcessId}" : NodeName;
}
