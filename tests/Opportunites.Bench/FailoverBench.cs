using System.Diagnostics;
using System.Globalization;
using Dapper;
using Npgsql;
using Opportunites.Web.Digests;

namespace Opportunites.Bench;

/// <summary>
/// Issue 23, item 3: two app nodes on the bench database, both with their job servers, the weekly digest asked for;
/// the node that runs it is SIGKILLed once the digest has written its first messages and delivery is sending. Then,
/// read from job_runs and the outbox: how long until the other node takes the digest run over (its own row, or the
/// killed node's row taken over by the same Hangfire job), until mail is sent again, and until everything is sent.
/// Target: another node resumes within 90 seconds.
/// </summary>
internal static class FailoverBench
{
    private const double TargetSeconds = 90;

    private const string RunsSql = """
        SELECT id, node, outcome, started_at, hangfire_job_id FROM job_runs
        WHERE job_name = @name AND id > @after ORDER BY id
        """;

    private sealed class RunRow
    {
        public long Id { get; init; }
        public string Node { get; init; } = "";
        public string Outcome { get; init; } = "";
        public DateTime StartedAt { get; init; }
        public string? HangfireJobId { get; init; }
    }

    public static async Task RunAsync(NpgsqlDataSource db, string connectionString, string repoRoot, int subscribers, int port,
        Report report, string configuration = "Release")
    {
        Console.Error.WriteLine($"bascule : {subscribers:N0} abonnés, deux nœuds…");
        await DigestMeasurement.EnsureWeekOfNewAsync(db);
        await DigestMeasurement.GenerateSubscribersAsync(db, subscribers, DigestMeasurement.Communes);
        long lastRunId;
        await using (var conn = await db.OpenConnectionAsync())
        {
            lastRunId = await conn.ExecuteScalarAsync<long>("SELECT coalesce(max(id), 0) FROM job_runs");
        }

        using var sink = MailBench.SmtpSink.Start();
        Dictionary<string, string> Node(string name) => new()
        {
            ["Jobs__Enabled"] = "true",
            ["Jobs__NodeName"] = name,
            ["Bench__JobsEndpoint"] = "true",
            ["Smtp__Host"] = "127.0.0.1",
            ["Smtp__Port"] = sink.Port.ToString(CultureInfo.InvariantCulture),
            ["Mail__Connections"] = "8",
        };

        await using var a = await AppProcess.StartAsync(repoRoot, connectionString, port, configuration, Node("bench-a"));
        await using var b = await AppProcess.StartAsync(repoRoot, connectionString, port + 1, configuration, Node("bench-b"));
        var nodes = new Dictionary<string, AppProcess> { ["bench-a"] = a, ["bench-b"] = b };
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) })
        {
            using var response = await http.PostAsync($"{a.BaseUrl}/bench/taches/{WeeklyDigestJob.Name}", null);
            response.EnsureSuccessStatusCode();
        }

        // Kill the node running the digest once it has queued mail and delivery has sent some: in the middle of both.
        var watch = Stopwatch.StartNew();
        RunRow victim;
        long sentAtKill, queuedAtKill;
        while (true)
        {
            await Task.Delay(100);
            await using var conn = await db.OpenConnectionAsync();
            var runs = (await conn.QueryAsync<RunRow>(RunsSql, new { name = WeeklyDigestJob.Name, after = lastRunId })).AsList();
            var running = runs.FirstOrDefault(r => r.Outcome == "running");
            var progress = await conn.QuerySingleAsync<(long Sent, long Queued)>(
                "SELECT count(*) FILTER (WHERE status = 'sent'), count(*) FILTER (WHERE status = 'queued') FROM outbox");
            if (running is not null && progress.Sent > 0)
            {
                victim = running;
                (sentAtKill, queuedAtKill) = progress;
                break;
            }

            if (runs.Any(r => r.Outcome != "running") || watch.Elapsed > TimeSpan.FromMinutes(5))
            {
                report.Note($"Bascule : la veille a fini (ou n'a pas commencé) avant d'avoir pu arrêter son nœud ({subscribers:N0} abonnés) : non mesurée.");
                return;
            }
        }

        var killedAt = DateTime.UtcNow;
        nodes[victim.Node].Kill();
        var survivor = nodes.Single(n => n.Key != victim.Node);
        Console.Error.WriteLine($"bascule : {victim.Node} tué (SIGKILL) pendant la veille, {sentAtKill:N0} envoyés, {queuedAtKill:N0} en file…");

        double? resumed = null, mailResumed = null, done = null;
        var finalOutcome = "";
        while ((DateTime.UtcNow - killedAt).TotalSeconds < 600)
        {
            await Task.Delay(250);
            await using var conn = await db.OpenConnectionAsync();
            var runs = (await conn.QueryAsync<RunRow>(RunsSql, new { name = WeeklyDigestJob.Name, after = lastRunId })).AsList();
            var now = (DateTime.UtcNow - killedAt).TotalSeconds;
            // Taken over: a run of the digest on the surviving node (a new row, or the killed node's row claimed again).
            if (resumed is null && runs.Any(r => r.Node == survivor.Key))
            {
                resumed = now;
            }

            mailResumed ??= await conn.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM outbox WHERE sent_at > @killedAt)", new { killedAt })
                ? now : null;
            // Messages the killed node had read but not sent are due at once for the next run; messages waiting for a retry
            // after a failure (attempts > 0) are counted, not awaited.
            if (resumed is not null && runs.Count > 0 && runs[^1].Outcome != "running"
                && !await conn.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM outbox WHERE status = 'queued' AND attempts = 0)"))
            {
                done = now;
                finalOutcome = runs[^1].Outcome;
                break;
            }
        }

        long sent, total, retrying;
        DateTime? retryAt;
        await using (var conn = await db.OpenConnectionAsync())
        {
            (sent, total, retrying, retryAt) = await conn.QuerySingleAsync<(long, long, long, DateTime?)>("""
                SELECT count(*) FILTER (WHERE status = 'sent'), count(*), count(*) FILTER (WHERE status = 'queued'),
                       max(next_attempt_at) FILTER (WHERE status = 'queued')
                FROM outbox
                """);
        }

        const string label = "bascule après SIGKILL (2 nœuds)";
        report.Check($"{label} : veille reprise par l'autre nœud", resumed ?? double.NaN, "s", $"≤ {TargetSeconds:0} s", resumed <= TargetSeconds,
            $"{subscribers:N0} abonnés (communes) ; {victim.Node} tué pendant la veille ({sentAtKill:N0} messages envoyés, {queuedAtKill:N0} en file) ; "
            + $"reprise lue dans job_runs (exécution sur {survivor.Key})");
        report.Check($"{label} : envoi repris", mailResumed ?? double.NaN, "s", $"≤ {TargetSeconds:0} s", mailResumed <= TargetSeconds,
            "premier message accepté par le sink après l'arrêt (outbox.sent_at)");
        report.Add($"{label} : tout envoyé", $"issue de la veille reprise : « {finalOutcome} » ; {sent:N0} envoyés sur {total:N0} en file"
            + (retrying > 0 ? $" ; {retrying:N0} en attente d'un nouvel essai ({(retryAt - killedAt)?.TotalSeconds:0} s après l'arrêt)" : ""),
            done ?? double.NaN, "s");
    }
}
