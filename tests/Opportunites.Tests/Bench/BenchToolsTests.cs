using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Dapper;
using Opportunites.Bench;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Board;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Shared;
using Opportunites.Web.Territories;

namespace Opportunites.Tests.Bench;

/// <summary>
/// Smoke tests of the benchmark's parts that can rot silently (tests/Opportunites.Bench, linked here): the URL
/// generator, the wrk script with its parsed result line, a tiny run of the digest benchmark and the expiry benchmark
/// on a tiny dataset. The benchmark itself is ./bench.sh (minutes); its start-time part (./bench.sh start) launches
/// ./run.sh several times and stays there.
/// </summary>
public sealed class BenchToolsTests
{
    private static readonly string[] Departements = ["01", "02", "13", "33", "2A", "75", "971"];
    private static readonly string[] Regions = ["R75", "R84", "R11"];

    [Test]
    public async Task BoardUrls_Mix_EveryUrlAcceptedByTheBoardAndHalfAreSearches()
    {
        var urls = BoardUrls.Mix(400, Departements, Regions, ["numérique", "insertion", "jeunes", "santé", "culture"]);
        var parser = new BoardFilterParser(await TerritoryDirectory.LoadAsync(SharedDatabase.DataSource), new ThemeCatalog(SharedDatabase.DataSource));

        foreach (var url in urls)
        {
            var parsed = await parser.ParseAsync(BoardQueryInput.Parse(url[BoardUrls.Path.Length..]));
            Assert.That(parsed.IsValid, Is.True, url + " : " + string.Join(" ", parsed.Errors.Values.SelectMany(v => v)));
        }

        Assert.That(urls.Count(u => u.Contains("q=", StringComparison.Ordinal)), Is.EqualTo(200));
        Assert.That(urls.Distinct().Count(), Is.GreaterThan(150));
        var again = BoardUrls.Mix(400, Departements, Regions, ["numérique", "insertion", "jeunes", "santé", "culture"]);
        Assert.That(again, Is.EqualTo(urls), "deterministic");
    }

    [Test]
    public void WrkResult_Line_ParsedAmongOtherOutput()
    {
        var r = WrkResult.Parse("Running 1s test\nwrk-result requests=120 seconds=1.002 rps=119.8 p50_ms=0.512 p90_ms=1.250 p99_ms=4.000 non2xx=3 socket_errors=1 bytes=4096\n");

        Assert.That(r, Is.EqualTo(new WrkResult(120, 1.002, 119.8, 0.512, 1.25, 4.0, 3, 1, 4096)));
        Assert.That(r!.Errors, Is.EqualTo(4));
        Assert.That(WrkResult.Parse("no result"), Is.Null);
    }

    [Test]
    public async Task WrkScript_AgainstASmallServer_CyclesThePathsAndCountsNon2xx()
    {
        if (!File.Exists("/usr/bin/wrk"))
        {
            Assert.Ignore("wrk n'est pas installé (tools/provision.sh bench).");
        }

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource();
        var server = ServeAsync(listener, stop.Token);
        var file = Path.GetTempFileName();
        await File.WriteAllLinesAsync(file, ["/ok", "/absent"]);
        var script = Path.Combine(FindRepoRoot(), "tests", "Opportunites.Bench", "wrk", "urls.lua");

        var psi = new ProcessStartInfo("wrk", ["-t1", "-c1", "-d1s", "-s", script, $"http://127.0.0.1:{port}", "--", file])
        {
            RedirectStandardOutput = true,
        };
        using var wrk = Process.Start(psi)!;
        var output = await wrk.StandardOutput.ReadToEndAsync();
        await wrk.WaitForExitAsync();
        await stop.CancelAsync();
        File.Delete(file);

        var r = WrkResult.Parse(output);
        Assert.That(r, Is.Not.Null, output);
        Assert.That(r!.Requests, Is.GreaterThan(10));
        // One connection alternating /ok and /absent: half the answers are 404.
        Assert.That(r.Non2xx, Is.InRange(r.Requests / 2 - 1, r.Requests / 2 + 1));
        Assert.That(r.P99Ms, Is.GreaterThanOrEqualTo(r.P50Ms));
        _ = server;
    }

    [Test]
    public async Task DigestMeasurement_TinyDataset_EveryQueuedDigestReachesTheSinkAndIsMeasured()
    {
        if (!File.Exists(SmtpSink.Executable) || !File.Exists(DigestMeasurement.SmtpSource))
        {
            Assert.Ignore("postfix (smtp-sink, smtp-source) n'est pas installé (tools/provision.sh test).");
        }

        await using var db = await PrivateDatabase.CreateAsync("opportunites_digestbench");
        await new DatasetLoader(db.DataSource).LoadAsync(open: 400, archived: 0, issuers: 20, sessions: 1);
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        // The app as the tests built it (Debug or Release), delivering every second so that the run takes seconds.
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
            ? "Release" : "Debug";
        var note = await DigestMeasurement.EnsureWeekOfNewAsync(db.DataSource);
        var f = await DigestMeasurement.MeasureAsync(db.DataSource, db.ConnectionString, FindRepoRoot(), 300, 2, port, configuration,
            new Dictionary<string, string> { ["Jobs__Schedules__deliver"] = "* * * * * ?" });

        Assert.That(note, Does.Contain("400 offres ouvertes"));
        Assert.That(f.Sent, Is.EqualTo(f.Queued).And.GreaterThan(0), "every queued digest sent");
        Assert.That(f.Sent + f.Empty, Is.EqualTo(300), "every subscriber served or found without content");
        Assert.That(f.Failed, Is.Zero);
        Assert.That(f.Groups, Is.InRange(2, 300));
        Assert.That(f.ConnectionsUsed, Is.InRange(1, 2));
        Assert.That(f.AverageSize, Is.GreaterThan(1000));
        Assert.That(f.Elapsed, Is.GreaterThan(0));
        Assert.That(f.PeakRssMb, Is.GreaterThanOrEqualTo(f.StartupRssMb).And.GreaterThan(20));
        Assert.That(f.SourceRate, Is.GreaterThan(0));
        // The app's own CPU over the run, per message (MailKit/MimeKit and the digest job): measured, not zero.
        Assert.That(f.CpuMicrosPerMessage, Is.GreaterThan(0));
    }

    [Test]
    public async Task ExpiryBench_TinyDataset_ExpiresThemAllThenRestoresTheDataset()
    {
        await using var db = await PrivateDatabase.CreateAsync("opportunites_benchexp");
        var issuer = await TestData.CreateIssuerAsync(db.DataSource);
        for (var i = 0; i < 12; i++)
        {
            await TestData.CreateOpportunityAsync(db.DataSource, TestData.Unique("Appel banc"), i % 3 == 0 ? ["FR"] : ["33"], Kinds.Aap,
                ParisTime.Today(TimeProvider.System).AddDays(10 + i), Statuses.Published, issuer, "", null, null, null);
        }

        const string StateSql = """
            SELECT string_agg(id || status || coalesce(deadline_date::text, '-') || coalesce(closed_at::text, '-') || updated_at, ',' ORDER BY id)
                   || (SELECT count(*) FROM opportunity_territory_matches) || (SELECT count(*) FROM job_runs)
                   || (SELECT count(*) FROM outbox)
            FROM opportunities
            """;
        await using var conn = await db.DataSource.OpenConnectionAsync();
        var before = await conn.ExecuteScalarAsync<string>(StateSql);

        var f = await new ExpiryBench(db.DataSource).RunAsync(overdue: 10, idleRuns: 3);

        Assert.That(f.Overdue, Is.EqualTo(10));
        Assert.That(f.Expired, Is.EqualTo(10));
        Assert.That(f.Initial, Is.Zero);
        Assert.That(f.CatchUp, Is.EqualTo(new SettleRuns(0, 0, 0, 0)), "10 offers: one batch, nothing left for the next runs");
        Assert.That(f.VisibleOverdue, Is.Zero);
        Assert.That(f.IdleMs, Has.Length.EqualTo(3));
        Assert.That(f.Plans.Select(p => p.Title), Has.Some.Contains("expiration de 10 offres"));
        Assert.That(f.Plans[0].Plan, Does.Contain("Update on opportunities"));
        Assert.That(f.Schedule.MaxGap, Is.EqualTo(TimeSpan.FromMinutes(15)));
        Assert.That(await conn.ExecuteScalarAsync<string>(StateSql), Is.EqualTo(before), "dataset restored");
        Assert.That(await conn.ExecuteScalarAsync<bool>("SELECT to_regclass('bench_expiry_snapshot') IS NULL"), Is.True);
    }

    [TestCase("0 0/15 * * * ?", 15, 0)]
    [TestCase("0 30 * * * ?", 60, 30)]
    [TestCase("0 0 * * * ?", 60, 0)]
    public void ExpiryBench_CheckSchedule_GapAndWaitAfterParisMidnightOverAYear(string cron, int maxGapMinutes, int afterMidnightMinutes)
    {
        var s = ExpiryBench.CheckSchedule(cron);

        Assert.That(s.MaxGap, Is.EqualTo(TimeSpan.FromMinutes(maxGapMinutes)));
        Assert.That(s.MaxAfterMidnight, Is.EqualTo(TimeSpan.FromMinutes(afterMidnightMinutes)));
    }

    /// <summary>HTTP/1.1 keep-alive, 200 for /ok and 404 otherwise: enough for wrk.</summary>
    private static async Task ServeAsync(TcpListener listener, CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var client = await listener.AcceptTcpClientAsync(ct);
                _ = Task.Run(async () =>
                {
                    using var c = client;
                    var stream = c.GetStream();
                    var reader = new StreamReader(stream);
                    while (await reader.ReadLineAsync(ct) is { } line)
                    {
                        var ok = line.StartsWith("GET /ok ", StringComparison.Ordinal);
                        while (await reader.ReadLineAsync(ct) is { Length: > 0 })
                        {
                            // Headers.
                        }

                        var body = ok ? "ok" : "absent";
                        var head = $"HTTP/1.1 {(ok ? "200 OK" : "404 Not Found")}\r\nContent-Length: {body.Length}\r\n\r\n{body}";
                        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(head), ct);
                    }
                }, ct);
            }
        }
        catch (OperationCanceledException)
        {
            // Test over.
        }
    }

    internal static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Opportunites.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new DirectoryNotFoundException("Opportunites.sln");
    }
}
