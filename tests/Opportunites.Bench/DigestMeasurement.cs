using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Npgsql;
using Opportunites.Web.Digests;
using Opportunites.Web.Mail;
using Opportunites.Web.Shared;

namespace Opportunites.Bench;

/// <summary>What one digest run measured.</summary>
/// <param name="Elapsed">Seconds from the digest job's start (job_runs.started_at) to the last message the sink accepted.</param>
/// <param name="DigestSeconds">The digest job alone (selection, rendering, ledger, outbox rows).</param>
/// <param name="SourceRate">postfix smtp-source, same sink, count, size and connections, in messages per second.</param>
public sealed record DigestFigures(int Subscribers, TimeSpan Generated, long Sent, int Queued, long Failed, int Groups, int Empty,
    double Elapsed, double DigestSeconds, int ConnectionsUsed, int MaxConcurrentConnections, int AverageSize, double StartupRssMb,
    double PeakRssMb, int SourceSessions, double SourceRate)
{
    /// <summary>Of <see cref="DigestSeconds"/>: reading the candidate offers, and writing the ledger and outbox rows.</summary>
    public double OffersSeconds { get; init; }

    public double WriteSeconds { get; init; }

    /// <summary>CPU time (user + system) of the app process from the job's request to the last message.</summary>
    public double AppCpuSeconds { get; init; }

    public double CpuMicrosPerMessage => Sent == 0 ? 0 : AppCpuSeconds * 1e6 / Sent;

    /// <summary>Distinct bodies the run wrote (outbox_bodies: one per distinct content, shared by the groups that render it).</summary>
    public long Bodies { get; init; }

    /// <summary>Offers' lines the run wrote once for all the bodies listing them (outbox_fragments).</summary>
    public long Fragments { get; init; }

    /// <summary>Where the subscribers' territories are: "départements" (earlier runs) or "communes" (issue 22).</summary>
    public string Granularity { get; init; } = DigestMeasurement.Departements;

    /// <summary>The app's garbage collections during the run (heap size: at the end).</summary>
    public GcFigures? Gc { get; init; }

    /// <summary>Each run of smtp-source, in order; <see cref="SourceRate"/> is their median.</summary>
    public IReadOnlyList<double> SourceRates { get; init; } = [];

    public double Rate => Sent / Elapsed;

    public double Ratio => Rate / SourceRate;
}

/// <summary>
/// The Monday digest at scale (issue 8, item 3): confirmed subscribers generated set-based, the app as a separate
/// process pointed at postfix's smtp-sink, the weekly digest job asked to run through the job scheduler (as the admin
/// page's "run now" does), then timed from the job's start (job_runs.started_at) to the last message the sink accepted
/// (outbox.sent_at, marked when the 250 came back). postfix's smtp-source then pushes the same number of messages of
/// the same average size over the same number of reused connections into the same sink, for the ratio.
/// Linked into the tests for the smoke run (DigestBench.cs, the verb and the report rows, is not).
/// </summary>
public static class DigestMeasurement
{
    public const string SmtpSource = "/usr/sbin/smtp-source";
    public const string Departements = "départements";
    public const string Communes = "communes";

    /// <summary>How many times smtp-source runs for the reference (its median is taken).</summary>
    public const int SourceRuns = 3;

    // A week of new offers is what a Monday digest lists: a dataset loaded days ago is shifted so that its latest
    // publication is now again (publication dates were spread over the last 60 days by the loader).
    private const string ShiftSql = """
        UPDATE opportunities o SET published_at = o.published_at + (now() - m.latest)
        FROM (SELECT max(published_at) AS latest FROM opportunities WHERE status = 'published') m
        WHERE o.status = 'published' AND m.latest < now() - interval '1 hour'
        """;

    private const string WindowCountsSql = """
        SELECT count(*) FILTER (WHERE published_at > now() - interval '7 days') AS new_in_week,
               count(*) FILTER (WHERE closes_at <= now() + interval '14 days') AS closing_soon,
               count(*) AS open
        FROM opportunities WHERE status = 'published' AND deadline_sort > now()
        """;

    /// <returns>A sentence for the report: open offers, new in the week, closing soon.</returns>
    public static async Task<string> EnsureWeekOfNewAsync(NpgsqlDataSource db)
    {
        await using var conn = await db.OpenConnectionAsync();
        var shifted = await conn.ExecuteAsync(ShiftSql, commandTimeout: 0);
        if (shifted > 0)
        {
            // 100,000 rows rewritten: vacuumed now, not by autovacuum in the middle of the run being measured (one
            // run after a shift spent ~70 s more of PostgreSQL's CPU than the runs around it).
            await conn.ExecuteAsync("VACUUM ANALYZE opportunities", commandTimeout: 0);
        }

        var c = await conn.QuerySingleAsync<(long NewInWeek, long ClosingSoon, long Open)>(WindowCountsSql);
        return ($"Veille : {c.Open:N0} offres ouvertes, dont {c.NewInWeek:N0} publiées dans les 7 derniers jours et " +
                    $"{c.ClosingSoon:N0} qui ferment dans les 14 jours{(shifted > 0 ? " (dates de publication recalées sur maintenant)" : "")}.");
    }

    // Subscribers, set-based: confirmed a while ago, weekly. 40 % pick one of 50 common preference sets (a
    // département or a région, all kinds or AAP + AMI; Zipf: the first sets are the most popular); the others pick
    // 1 to 3 territories (85 % départements with a Zipf spread, 10 % régions, 5 % national) and a subset of kinds.
    // Arrays sorted and distinct, as the app stores them (equal preferences compare equal).
    private const string SubscribersSql = """
        INSERT INTO subscribers (email, consent_at, confirmed_at, created_at)
        SELECT 'abonne' || g || '@bench.example.org', now() - interval '60 days', now() - interval '59 days', now() - interval '60 days'
        FROM generate_series(1, @n) g
        """;

    private const string PreferencesSql = """
        WITH terr AS (
          SELECT array_agg(code ORDER BY code) FILTER (WHERE level = 'departement') AS deps,
                 array_agg(code ORDER BY code) FILTER (WHERE level = 'region') AS regs
          FROM territories),
        pick AS (
          SELECT s.id, random() < 0.40 AS common, floor(50 * power(random(), 2))::int AS set_no,
                 1 + floor(random() * random() * 3)::int AS territory_count, 1 + floor(random() * 7)::int AS kind_mask
          FROM subscribers s)
        INSERT INTO digest_subscriptions (subscriber_id, territory_codes, kinds, themes, frequency)
        SELECT p.id,
               CASE WHEN p.common THEN
                      CASE WHEN p.set_no < 40 THEN ARRAY[terr.deps[1 + p.set_no * 2]] ELSE ARRAY[terr.regs[p.set_no - 39]] END
                    ELSE ARRAY(SELECT DISTINCT c FROM (
                      SELECT CASE WHEN r < 0.85 THEN terr.deps[1 + floor(array_length(terr.deps, 1) * power(random(), 2))::int]
                                  WHEN r < 0.95 THEN terr.regs[1 + floor(array_length(terr.regs, 1) * random())::int]
                                  ELSE 'FR' END AS c
                      FROM generate_series(1, p.territory_count) i, LATERAL (SELECT random() AS r WHERE i IS NOT NULL) x) t ORDER BY c)
               END,
               CASE WHEN p.common THEN CASE WHEN p.set_no % 2 = 0 THEN ARRAY['aap', 'ami', 'emploi'] ELSE ARRAY['aap', 'ami'] END
                    ELSE ARRAY(SELECT k FROM unnest(ARRAY['aap', 'ami', 'emploi']) WITH ORDINALITY AS u(k, b)
                               WHERE p.kind_mask & (1 << (b::int - 1)) <> 0 ORDER BY k)
               END,
               '{}', 'weekly'
        FROM pick p CROSS JOIN terr
        """;

    // At commune granularity (issue 22): each subscriber follows the commune where they live, drawn by population
    // (DatasetLoader.PlacesSql), 10 % two communes; 40 % keep a common choice of kinds (all, or AAP + AMI), the others a
    // subset; offers for the EPCI, département, région and France that contain it come with it (include_wider, default).
    private const string CommunePreferencesSql = """
        WITH places AS (SELECT max(slot) AS n FROM bench_places),
        pick AS (
          SELECT s.id, random() < 0.40 AS common, random() < 0.5 AS all_kinds, random() < 0.10 AS two,
                 1 + floor(random() * places.n)::int AS slot, 1 + floor(random() * places.n)::int AS other_slot,
                 1 + floor(random() * 7)::int AS kind_mask
          FROM subscribers s CROSS JOIN places)
        INSERT INTO digest_subscriptions (subscriber_id, territory_codes, kinds, themes, frequency)
        SELECT p.id,
               CASE WHEN p.two THEN ARRAY(SELECT DISTINCT c FROM unnest(ARRAY[a.commune, b.commune]) c ORDER BY c) ELSE ARRAY[a.commune] END,
               CASE WHEN p.common THEN CASE WHEN p.all_kinds THEN ARRAY['aap', 'ami', 'emploi'] ELSE ARRAY['aap', 'ami'] END
                    ELSE ARRAY(SELECT k FROM unnest(ARRAY['aap', 'ami', 'emploi']) WITH ORDINALITY AS u(k, b)
                               WHERE p.kind_mask & (1 << (b::int - 1)) <> 0 ORDER BY k)
               END,
               '{}', 'weekly'
        FROM pick p
        JOIN bench_places a ON a.slot = p.slot
        JOIN bench_places b ON b.slot = p.other_slot
        """;

    internal static async Task<TimeSpan> GenerateSubscribersAsync(NpgsqlDataSource db, int n, string granularity)
    {
        var watch = Stopwatch.StartNew();
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        // Each run starts from nothing: no ledger (every subscriber is due), an empty outbox.
        await conn.ExecuteAsync("TRUNCATE subscribers, digest_subscriptions, digest_deliveries, deadline_reminders, reminder_deliveries, outbox, outbox_bodies, outbox_fragments RESTART IDENTITY CASCADE", transaction: tx);
        await conn.ExecuteAsync(SubscribersSql, new { n }, tx, commandTimeout: 0);
        if (granularity == Communes)
        {
            await conn.ExecuteAsync(DatasetLoader.PlacesSql, transaction: tx, commandTimeout: 0);
        }

        await conn.ExecuteAsync(granularity == Communes ? CommunePreferencesSql : PreferencesSql, transaction: tx, commandTimeout: 0);
        // No app runs on the bench database now. A node killed earlier (benchmark interrupted) may have left Hangfire jobs
        // fetched or queued, and lock rows: they would come back during the measurement (after the invisibility or lock
        // timeout). Cleared here.
        await conn.ExecuteAsync("""
            DELETE FROM hangfire.jobqueue;
            DELETE FROM hangfire.lock;
            """, transaction: tx);
        await tx.CommitAsync();
        await conn.ExecuteAsync("VACUUM ANALYZE subscribers, digest_subscriptions, outbox, digest_deliveries", commandTimeout: 0);
        return watch.Elapsed;
    }

    private sealed class RunRow
    {
        public long Id { get; init; }
        public DateTime StartedAt { get; init; }
        public DateTime? FinishedAt { get; init; }
        public int? DurationMs { get; init; }
        public string Outcome { get; init; } = "";
        public string Counts { get; init; } = "{}";
        public string? Error { get; init; }
    }

    private const string DigestRunSql = """
        SELECT id, started_at, finished_at, duration_ms, outcome, counts::text AS counts, error
        FROM job_runs WHERE job_name = @name AND requested_by = 'bench' AND id > @after ORDER BY id DESC LIMIT 1
        """;

    // Through the partial index outbox_due.
    private const string AnyQueuedSql = "SELECT EXISTS (SELECT 1 FROM outbox WHERE status = 'queued')";

    private const string OutboxStateSql = """
        SELECT count(*) FILTER (WHERE status = 'queued') AS queued, count(*) FILTER (WHERE status = 'sent') AS sent,
               count(*) FILTER (WHERE status = 'failed') AS failed, min(sent_at) AS first_sent, max(sent_at) AS last_sent
        FROM outbox
        """;

    private sealed class OutboxState
    {
        public long Queued { get; init; }
        public long Sent { get; init; }
        public long Failed { get; init; }
        public DateTime? FirstSent { get; init; }
        public DateTime? LastSent { get; init; }
    }

    /// <summary>
    /// One run at <paramref name="n"/> subscribers: generates them (replacing the subscribers, ledgers and outbox of
    /// the database), starts the app (<paramref name="configuration"/> build) with its scheduler on, asks for the weekly
    /// digest job, waits for the outbox to drain, then runs smtp-source for the reference rate.
    /// </summary>
    /// <param name="settings">More settings for the app (the smoke test delivers every second instead of every 10).</param>
    public static async Task<DigestFigures> MeasureAsync(NpgsqlDataSource db, string connectionString, string repoRoot, int n,
        int connections, int port, string configuration = "Release", IReadOnlyDictionary<string, string>? settings = null,
        string granularity = Departements)
    {
        var label = $"veille {n:N0} abonnés ({granularity})";
        Console.Error.WriteLine($"{label} : génération…");
        var generated = await GenerateSubscribersAsync(db, n, granularity);

        long lastRunId;
        await using (var conn = await db.OpenConnectionAsync())
        {
            lastRunId = await conn.ExecuteScalarAsync<long>("SELECT coalesce(max(id), 0) FROM job_runs");
        }

        using var sink = MailBench.SmtpSink.Start();
        var env = new Dictionary<string, string>
        {
            ["Jobs__Enabled"] = "true",
            ["Jobs__NodeName"] = "bench-veille",
            ["Bench__JobsEndpoint"] = "true",
            ["Smtp__Host"] = "127.0.0.1",
            ["Smtp__Port"] = sink.Port.ToString(CultureInfo.InvariantCulture),
            ["Mail__Connections"] = connections.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string>())
        {
            env[k] = v;
        }

        double peakMb, startupMb;
        OutboxState state;
        RunRow run;
        GcFigures gcBefore, gcAfter;
        double cpuBefore, cpuAfter;
        long bodies, fragments;
        ConnectionSampler used;
        await using (var app = await AppProcess.StartAsync(repoRoot, connectionString, port, configuration, env))
        {
            startupMb = app.PeakRssMb;
            used = new ConnectionSampler(sink.Port, app.Pid);
            using var sampling = new CancellationTokenSource();
            var sampler = used.RunAsync(sampling.Token);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            gcBefore = (await http.GetFromJsonAsync<GcFigures>($"{app.BaseUrl}/bench/gc"))!;
            cpuBefore = CpuSeconds(app.Pid);
            using (var response = await http.PostAsync($"{app.BaseUrl}/bench/taches/{WeeklyDigestJob.Name}", null))
            {
                response.EnsureSuccessStatusCode();
            }

            Console.Error.WriteLine($"{label} : tâche {WeeklyDigestJob.Name} demandée, attente du dernier message…");
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                // The wait itself must not load the machine it measures: two index probes every 250 ms. (A count over
                // the whole outbox every 200 ms, as first written, kept a PostgreSQL backend busy during the run.)
                await Task.Delay(250);
                await using var conn = await db.OpenConnectionAsync();
                var r = await conn.QuerySingleOrDefaultAsync<RunRow>(DigestRunSql, new { name = WeeklyDigestJob.Name, after = lastRunId });
                if (r is { Outcome: not "running" } && !await conn.ExecuteScalarAsync<bool>(AnyQueuedSql))
                {
                    run = r;
                    break;
                }

                if (deadline.Elapsed > TimeSpan.FromMinutes(20))
                {
                    var late = await conn.QuerySingleAsync<OutboxState>(OutboxStateSql);
                    throw new TimeoutException($"{label} : pas fini en 20 min ({late.Sent} envoyés, {late.Queued} en file).");
                }
            }

            await using (var conn = await db.OpenConnectionAsync())
            {
                state = await conn.QuerySingleAsync<OutboxState>(OutboxStateSql);
                bodies = await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM outbox_bodies");
                fragments = await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM outbox_fragments");
            }

            peakMb = app.PeakRssMb;
            cpuAfter = CpuSeconds(app.Pid);
            gcAfter = (await http.GetFromJsonAsync<GcFigures>($"{app.BaseUrl}/bench/gc"))!;
            await sampling.CancelAsync();
            await sampler;
        }

        if (run.Outcome != "succeeded")
        {
            throw new InvalidOperationException($"{label} : la tâche a fini en « {run.Outcome} » : {run.Error}");
        }

        var counts = JsonSerializer.Deserialize<Dictionary<string, int>>(run.Counts) ?? [];
        var queuedByJob = counts.GetValueOrDefault("en_file");
        var elapsed = (state.LastSent!.Value - run.StartedAt).TotalSeconds;
        var rate = state.Sent / elapsed;
        var size = await AverageMessageSizeAsync(db);

        // The reference: same sink, same count, same average size, same number of reused connections. Its median of three
        // runs: on this 2-core machine one run of smtp-source, limited by the sink's single core, gave from 1,600 to 2,950
        // msg/s for the same sink and size (the figure moved more than what it is compared with).
        var sessions = Math.Max(1, Math.Min(connections, used.Distinct));
        var sourceRates = new List<double>();
        for (var i = 0; i < SourceRuns; i++)
        {
            Console.Error.WriteLine($"{label} : smtp-source -d -s {sessions} -m {state.Sent} -l {size} ({i + 1}/{SourceRuns})…");
            var watch = Stopwatch.StartNew();
            var (code, _, err) = await Tools.RunAsync(SmtpSource,
            [
                "-d", "-s", sessions.ToString(CultureInfo.InvariantCulture), "-m", state.Sent.ToString(CultureInfo.InvariantCulture),
                "-l", size.ToString(CultureInfo.InvariantCulture), "-f", "ne-pas-repondre@opportunites.local", "-t", "abonne@bench.example.org",
                $"127.0.0.1:{sink.Port}",
            ]);
            if (code != 0)
            {
                throw new InvalidOperationException($"smtp-source a échoué (code {code}) : {err}");
            }

            sourceRates.Add(state.Sent / watch.Elapsed.TotalSeconds);
        }

        var sourceRate = sourceRates.Order().ElementAt(sourceRates.Count / 2);

        return new DigestFigures(n, generated, state.Sent, queuedByJob, state.Failed, counts.GetValueOrDefault("groupes"),
            counts.GetValueOrDefault("sans_contenu"), elapsed, (run.DurationMs ?? 0) / 1000.0, used.Distinct, used.MaxConcurrent, size,
            startupMb, peakMb, sessions, sourceRate)
        {
            SourceRates = sourceRates,
            OffersSeconds = counts.GetValueOrDefault("ms_offres") / 1000.0,
            WriteSeconds = counts.GetValueOrDefault("ms_ecriture") / 1000.0,
            AppCpuSeconds = cpuAfter - cpuBefore,
            Bodies = bodies,
            Fragments = fragments,
            Granularity = granularity,
            Gc = gcAfter with
            {
                Gen0 = gcAfter.Gen0 - gcBefore.Gen0,
                Gen1 = gcAfter.Gen1 - gcBefore.Gen1,
                Gen2 = gcAfter.Gen2 - gcBefore.Gen2,
                PauseMs = gcAfter.PauseMs - gcBefore.PauseMs,
                AllocatedBytes = gcAfter.AllocatedBytes - gcBefore.AllocatedBytes,
            },
        };
    }

    /// <summary>utime + stime of a process (/proc/PID/stat, fields 14 and 15, in clock ticks of 1/100 s on Linux).</summary>
    private static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // The command name (field 2) may hold spaces: fields are counted after its closing parenthesis.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    private const string SampleSql = """
        SELECT message_id, to_address, to_name, subject, text_body, html_body, headers::text AS headers, created_at
        FROM outbox_messages WHERE status = 'sent' ORDER BY random() LIMIT 300
        """;

    /// <summary>The bytes the sink received per message, on average: sampled rows built as delivery builds them (MimeKit).</summary>
    private static async Task<int> AverageMessageSizeAsync(NpgsqlDataSource db)
    {
        await using var conn = await db.OpenConnectionAsync();
        var rows = (await conn.QueryAsync<OutboxDelivery.OutboxRow>(SampleSql)).AsList();
        if (rows.Count == 0)
        {
            return 0;
        }

        var builder = new MessageBuilder(new SmtpSettings(), new MailSettings());
        var sizes = rows.Select(r =>
        {
            using var counter = new MimeKit.IO.MeasuringStream();
            builder.Build(r).WriteTo(MessageBuilder.Format, counter);
            return counter.Length;
        });
        return (int)sizes.Average();
    }

    /// <summary>
    /// Client connections to the sink's port (every 250 ms): how many distinct ones the app opened (reused connections
    /// count once) and how many were open at the same time. The socket table (/proc/net/tcp) is read only when the
    /// app's own set of sockets (/proc/PID/fd) has changed: reading it walks the kernel's whole connection hash table,
    /// and doing so four times a second took ~4 % of a core from the run it measures (perf, 23/11/2026).
    /// </summary>
    private sealed class ConnectionSampler(int port, int pid)
    {
        private readonly HashSet<string> _seen = [];
        private readonly HashSet<string> _sockets = [];
        private int _open;

        public int Distinct => _seen.Count;

        public int MaxConcurrent { get; private set; }

        public async Task RunAsync(CancellationToken ct)
        {
            var portHex = ":" + port.ToString("X4", CultureInfo.InvariantCulture);
            var readAgain = false;
            while (!ct.IsCancellationRequested)
            {
                // A socket just created may not be connected yet: after a change the table is read again at the next
                // pass (read once, a run whose SMTP sockets were all made in one pass was counted as using none).
                var changed = SocketsChanged();
                if (changed || readAgain)
                {
                    readAgain = changed;
                    var now = 0;
                    // A dual-mode socket (IPv4 address, IPv6 socket) is listed in tcp6 as ::ffff:127.0.0.1.
                    foreach (var line in File.ReadLines("/proc/net/tcp").Skip(1).Concat(File.ReadLines("/proc/net/tcp6").Skip(1)))
                    {
                        var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                        // local_address rem_address st: an established client socket whose remote end is the sink.
                        if (f.Length > 3 && f[2].EndsWith(portHex, StringComparison.Ordinal) && f[3] == "01")
                        {
                            _seen.Add(f[1]);
                            now++;
                        }
                    }

                    _open = now;
                }

                MaxConcurrent = Math.Max(MaxConcurrent, _open);
                try
                {
                    await Task.Delay(250, ct);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        /// <summary>True when the app holds a socket it did not hold at the previous pass, or no longer holds one.</summary>
        private bool SocketsChanged()
        {
            var current = new HashSet<string>();
            try
            {
                foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
                {
                    if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:", StringComparison.Ordinal))
                    {
                        current.Add(target);
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The app is gone or a descriptor closed while listed: read the table this time.
                return true;
            }

            if (current.SetEquals(_sockets))
            {
                return false;
            }

            _sockets.Clear();
            _sockets.UnionWith(current);
            return true;
        }
    }
}
