using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;
using Opportunites.Tests.Infrastructure;

namespace Opportunites.Tests.Faults;

/// <summary>
/// PostgreSQL really stopped and started again (a private cluster, never the shared one) while wrk loads the board
/// and a probe times single requests: the app answers a French 503 at once during the outage, serves again within
/// 5 s of the database being back, without a restart, and its scheduled jobs resume. Fast by default (3 s outage);
/// FAULT_TESTS=1: 10 s (FAULT_DB_OUTAGE_SECONDS overrides).
/// </summary>
[NonParallelizable]
public sealed partial class DatabaseRestartTests
{
    private static readonly string[] Paths =
        ["/offres", "/offres?type=aap", "/offres?territoire=33", "/offres?q=restauration", "/offres?tri=recent&type=emploi"];

    private sealed record Probe(TimeSpan Start, TimeSpan Duration, int Status, string Body);

    [Test]
    public async Task Board_DatabaseRestartedUnderLoad_Fails503FastThenServesAgainAndJobsResume()
    {
        var outage = TimeSpan.FromSeconds(FaultRun.Int("FAULT_DB_OUTAGE_SECONDS", 3, 10));
        await using var cluster = await PrivateCluster.StartAsync();
        await using var app = AppProcess.Start(new Dictionary<string, string>
        {
            ["ConnectionStrings__Default"] = cluster.ConnectionString,
            ["Jobs__Enabled"] = "true",
            ["Jobs__Schedules__expire"] = "0/2 * * * * ?",
            ["Jobs__Schedules__deliver"] = FaultRun.Never,
            ["Jobs__Schedules__veille-hebdomadaire"] = FaultRun.Never,
            ["Jobs__Schedules__veille-quotidienne"] = FaultRun.Never,
            ["Jobs__Schedules__rappels-date-limite"] = FaultRun.Never,
            ["Jobs__Schedules__purge"] = FaultRun.Never,
        });
        await app.WaitUntilListeningAsync(TimeSpan.FromSeconds(90));
        await SeedAsync(cluster.ConnectionString);
        using var client = new HttpClient { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        Assert.That(await FaultRun.WaitUntilAsync(async () => (await client.GetAsync("/offres?q=restauration")).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(30)), Is.True, "the board never served before the outage\n" + app.LogTail());

        var clock = Stopwatch.StartNew();
        var warmUp = TimeSpan.FromSeconds(3);
        var load = warmUp + outage + TimeSpan.FromSeconds(10);
        var wrk = StartWrk(app.BaseAddress, load);
        using var stopProbing = new CancellationTokenSource();
        var probing = ProbeAsync(client, clock, stopProbing.Token);

        await Task.Delay(warmUp);
        var downAt = clock.Elapsed;
        await cluster.StopAsync();
        var stoppedAt = clock.Elapsed;
        // The API answers in its own format during the outage too.
        using var api = await client.GetAsync("/api/v1/opportunites?q=restauration");
        var apiBody = await api.Content.ReadAsStringAsync();
        var remaining = outage - (clock.Elapsed - stoppedAt);
        if (remaining > TimeSpan.Zero)
        {
            await Task.Delay(remaining);
        }

        var restartAt = clock.Elapsed;
        await cluster.StartAgainAsync();
        var upAt = clock.Elapsed;
        TestContext.Out.WriteLine($"PostgreSQL arrêté à {downAt.TotalSeconds:0.0} s (fini {stoppedAt.TotalSeconds:0.0} s), redémarré à {restartAt.TotalSeconds:0.0} s, prêt à {upAt.TotalSeconds:0.0} s");

        var wrkOutput = await wrk;
        // wrk ran on for 10 s after the outage: the probe saw the recovery too.
        stopProbing.Cancel();
        var probes = await probing;

        // Jobs resume: a scheduled run later than the restart succeeds.
        await using var db = NpgsqlDataSource.Create(cluster.ConnectionString);
        var upUtc = DateTime.UtcNow - (clock.Elapsed - upAt);
        var resumed = await FaultRun.WaitUntilAsync(async () =>
        {
            await using var conn = await db.OpenConnectionAsync();
            return await conn.ExecuteScalarAsync<long>(
                "SELECT count(*) FROM job_runs WHERE job_name = 'expire' AND outcome = 'succeeded' AND scheduled_at > @upUtc",
                new { upUtc }) > 0;
        }, TimeSpan.FromSeconds(60), pollMs: 500);

        var down = probes.Where(p => p.Start >= stoppedAt && p.Start + p.Duration <= restartAt).ToList();
        var unavailable = probes.Where(p => p.Status == 503).ToList();
        var firstOkAfter = probes.FirstOrDefault(p => p.Start >= upAt && p.Status == 200)
            ?? probes.FirstOrDefault(p => p.Start + p.Duration >= upAt && p.Status == 200);
        var backWithin = firstOkAfter is null ? (TimeSpan?)null : firstOkAfter.Start + firstOkAfter.Duration - upAt;
        var lateFailures = probes.Where(p => p.Start >= upAt + TimeSpan.FromSeconds(5) && p.Status != 200).ToList();
        var wrkStats = WrkStats.Parse(wrkOutput);
        var summary = string.Create(CultureInfo.InvariantCulture,
            $"Redémarrage PostgreSQL sous charge : panne {outage.TotalSeconds:0} s ; sonde : {probes.Count} requêtes, {down.Count} pendant la panne " +
            $"({down.Count(p => p.Status == 503)} en 503, la plus lente {down.Select(p => p.Duration.TotalMilliseconds).DefaultIfEmpty(0).Max():0} ms), " +
            $"de nouveau 200 {backWithin?.TotalSeconds:0.00} s après le retour de la base ; wrk : {wrkStats.Requests} requêtes, " +
            $"{wrkStats.Non2xx} non-2xx, {wrkStats.Timeouts} expirées, latence max {wrkStats.MaxLatency}");
        TestContext.Out.WriteLine(summary);
        TestContext.Out.WriteLine(wrkOutput);

        Assert.Multiple(() =>
        {
            Assert.That(app.HasExited, Is.False, "the app died\n" + app.LogTail());
            Assert.That(down, Is.Not.Empty, "no probe during the outage");
            Assert.That((int)api.StatusCode, Is.EqualTo(503), apiBody);
            Assert.That(api.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
            Assert.That(ProblemTitle(apiBody), Is.EqualTo("Service momentanément indisponible"), apiBody);
            Assert.That(apiBody, Does.Not.Contain("Exception").And.Not.Contain("Npgsql"));
            Assert.That(down.Where(p => p.Status != 503).Select(p => $"{p.Status} {p.Duration}"), Is.Empty,
                "during the outage every page is a 503");
            // Not a hang: the connect timeout is 3 s; a generous bound for a loaded machine, not a benchmark.
            Assert.That(down.Select(p => p.Duration), Has.All.LessThan(TimeSpan.FromSeconds(10)), "a request hung");
            foreach (var p in unavailable)
            {
                Assert.That(p.Body, Does.Contain("Service momentanément indisponible").And.Contain("lang=\"fr\""));
                Assert.That(p.Body, Does.Not.Contain("Exception").And.Not.Contain("Npgsql").And.Not.Contain("   at "), "no stack trace");
            }

            Assert.That(backWithin, Is.Not.Null.And.LessThanOrEqualTo(TimeSpan.FromSeconds(5)), "serves again within 5 s of the database");
            Assert.That(lateFailures.Select(p => $"{p.Start} {p.Status}"), Is.Empty, "still failing 5 s after the database came back");
            Assert.That(wrkStats.Timeouts, Is.Zero, "wrk saw requests time out (a hang)");
            Assert.That(wrkStats.Requests, Is.GreaterThan(0), wrkOutput);
            Assert.That(resumed, Is.True, "no scheduled job succeeded after the database came back\n" + app.LogTail());
        });
    }

    private static string? ProblemTitle(string json)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(json);
            return doc.RootElement.GetProperty("title").GetString();
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    private static async Task SeedAsync(string connectionString)
    {
        Dapper.DefaultTypeMap.MatchNamesWithUnderscores = true;
        await using var db = NpgsqlDataSource.Create(connectionString);
        var issuer = await TestData.CreateIssuerAsync(db);
        var kinds = new[] { "aap", "ami", "emploi" };
        for (var i = 0; i < 30; i++)
        {
            await TestData.CreateOpportunityAsync(db, $"Restauration du lavoir {i}", [i % 2 == 0 ? "33" : "FR"], kinds[i % 3],
                deadline: DateOnly.FromDateTime(DateTime.UtcNow.AddDays(10 + i)), issuerId: issuer,
                description: "Appel pour la restauration du petit patrimoine.");
        }
    }

    /// <summary>One request at a time, timed, until cancelled.</summary>
    private static async Task<List<Probe>> ProbeAsync(HttpClient client, Stopwatch clock, CancellationToken stop)
    {
        var probes = new List<Probe>();
        var i = 0;
        while (!stop.IsCancellationRequested)
        {
            var start = clock.Elapsed;
            try
            {
                using var response = await client.GetAsync(Paths[i++ % Paths.Length], CancellationToken.None);
                var body = await response.Content.ReadAsStringAsync(CancellationToken.None);
                probes.Add(new Probe(start, clock.Elapsed - start, (int)response.StatusCode, body));
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                probes.Add(new Probe(start, clock.Elapsed - start, 0, ex.Message));
            }

            await Task.Delay(50, CancellationToken.None);
        }

        return probes;
    }

    private static async Task<string> StartWrk(Uri baseAddress, TimeSpan duration)
    {
        var script = Path.Combine(Path.GetTempPath(), $"wrk-board-{Guid.NewGuid():N}.lua");
        await File.WriteAllTextAsync(script, $$"""
            local paths = { {{string.Join(", ", Paths.Select(p => $"\"{p}\""))}} }
            local i = 0
            request = function()
              i = i + 1
              return wrk.format("GET", paths[(i % #paths) + 1])
            end
            """);
        try
        {
            var psi = new ProcessStartInfo("wrk")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var a in new[] { "-t2", "-c8", $"-d{(int)duration.TotalSeconds}s", "--timeout", "10s", "--latency", "-s", script, baseAddress.ToString().TrimEnd('/') })
            {
                psi.ArgumentList.Add(a);
            }

            using var p = Process.Start(psi) ?? throw new InvalidOperationException("wrk introuvable (tools/provision.sh test)");
            var output = await p.StandardOutput.ReadToEndAsync();
            var error = await p.StandardError.ReadToEndAsync();
            await p.WaitForExitAsync();
            return output + error;
        }
        finally
        {
            File.Delete(script);
        }
    }

    private sealed partial record WrkStats(long Requests, long Non2xx, long Timeouts, string MaxLatency)
    {
        public static WrkStats Parse(string output)
        {
            var requests = RequestsRegex().Match(output) is { Success: true } r ? long.Parse(r.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
            var non2xx = Non2xxRegex().Match(output) is { Success: true } n ? long.Parse(n.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
            var timeouts = SocketErrorsRegex().Match(output) is { Success: true } s ? long.Parse(s.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
            var max = LatencyRegex().Match(output) is { Success: true } l ? l.Groups[1].Value : "?";
            return new WrkStats(requests, non2xx, timeouts, max);
        }

        [GeneratedRegex(@"(\d+) requests in")]
        private static partial Regex RequestsRegex();

        [GeneratedRegex(@"Non-2xx or 3xx responses: (\d+)")]
        private static partial Regex Non2xxRegex();

        [GeneratedRegex(@"Socket errors: .*timeout (\d+)")]
        private static partial Regex SocketErrorsRegex();

        // "Latency   1.23ms  2.34ms  56.78ms  90.12%": the third figure is the max.
        [GeneratedRegex(@"Latency\s+\S+\s+\S+\s+(\S+)")]
        private static partial Regex LatencyRegex();
    }
}
