using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace Opportunites.Bench;

/// <summary>What one launch of ./run.sh took, and when each of its steps printed its line.</summary>
internal sealed record StartRun(double FirstOkMs, IReadOnlyList<(double AtMs, string Line)> Steps);

/// <summary>The options of <c>./bench.sh start</c> (also <c>--start</c> in the main run).</summary>
internal sealed record StartOptions(int Runs, int AppPort, int PgPort, bool WithStoppedCluster)
{
    public static StartOptions Parse(string[] args)
    {
        int Int(string name, int fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
        }

        return new StartOptions(Int("--start-runs", 3), Int("--start-port", 5195), Int("--start-pg-port", 54339),
            !args.Contains("--start-no-stop"));
    }
}

/// <summary>
/// Issue 8, item 5: from launching <c>./run.sh</c> on a provisioned machine to the first HTTP 200 on <c>/</c>. It runs
/// the real script in its own session, on a PostgreSQL cluster of its own (var/start-bench/pg, another port: the
/// shared cluster of var/pg is never stopped), first once to provision (initdb, build, demo data; not timed), then with
/// the cluster already running and, unless --start-no-stop, with the cluster stopped (run.sh starts it).
/// </summary>
internal sealed class StartBench(string repoRoot, StartOptions options)
{
    public const double TargetMs = 5000;

    private string PgRoot => Path.Combine(repoRoot, "var", "start-bench", "pg");

    public static async Task<int> RunAsync(string[] args, string repoRoot)
    {
        var report = new Report();
        await new StartBench(repoRoot, StartOptions.Parse(args)).MeasureAsync(report);
        report.Print();
        return 0;
    }

    public async Task MeasureAsync(Report report)
    {
        Console.Error.WriteLine($"Démarrage : premier lancement de ./run.sh (cluster {PgRoot}, port {options.PgPort}), non mesuré…");
        try
        {
            var first = await LaunchAsync();
            report.Add("démarrage : premier lancement (provision)", "initdb si besoin, compilation, démonstration : non visé", first.FirstOkMs, "ms");
            var running = new List<StartRun>();
            for (var i = 0; i < options.Runs; i++)
            {
                running.Add(await LaunchAsync());
            }

            AddRuns(report, "PostgreSQL déjà lancé", running);
            if (options.WithStoppedCluster)
            {
                var stopped = new List<StartRun>();
                for (var i = 0; i < options.Runs; i++)
                {
                    await PgAsync("stop");
                    stopped.Add(await LaunchAsync());
                }

                AddRuns(report, "PostgreSQL arrêté", stopped);
            }
        }
        finally
        {
            // The benchmark's own cluster: left stopped, as it was before the first launch started it.
            await PgAsync("stop");
        }
    }

    private static void AddRuns(Report report, string label, List<StartRun> runs)
    {
        var sorted = runs.Select(r => r.FirstOkMs).Order().ToArray();
        var p50 = sorted[sorted.Length / 2];
        var max = sorted[^1];
        report.Check($"démarrage ./run.sh → 200 sur /, {label} : p50", p50, "ms", $"< {TargetMs:0} ms", p50 < TargetMs,
            $"{runs.Count} lancements");
        report.Check($"démarrage ./run.sh → 200 sur /, {label} : max", max, "ms", $"< {TargetMs:0} ms", max < TargetMs);
        // Where the time goes, for the median launch: when each step printed its first line.
        var median = runs.OrderBy(r => r.FirstOkMs).ElementAt(runs.Count / 2);
        report.Note($"Démarrage ({label}, lancement médian) : " + string.Join(" ; ",
            median.Steps.Select(s => $"{s.AtMs.ToString("0", CultureInfo.InvariantCulture)} ms « {s.Line} »")) +
            $" ; 200 sur / à {median.FirstOkMs.ToString("0", CultureInfo.InvariantCulture)} ms.");
    }

    /// <summary>Launches ./run.sh in its own session, waits for a 200 on /, then stops the whole session.</summary>
    private async Task<StartRun> LaunchAsync()
    {
        await WaitPortFreeAsync(options.AppPort);
        var psi = new ProcessStartInfo("setsid")
        {
            UseShellExecute = false,
            WorkingDirectory = repoRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add(Path.Combine(repoRoot, "run.sh"));
        Environment(psi);
        var steps = new List<(double, string)>();
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("Impossible de lancer ./run.sh.");
        var log = new List<string>();

        void OnLine(string? line)
        {
            if (line is not { Length: > 0 })
            {
                return;
            }

            lock (log)
            {
                log.Add(line);
                if (IsStep(line))
                {
                    steps.Add((clock.Elapsed.TotalMilliseconds, line.Trim()));
                }
            }
        }

        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var url = $"http://127.0.0.1:{options.AppPort}/";
            while (clock.Elapsed < TimeSpan.FromSeconds(300))
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"./run.sh s'est arrêté (code {process.ExitCode}) :\n{string.Join('\n', log.TakeLast(30))}");
                }

                try
                {
                    using var response = await http.GetAsync(url);
                    if ((int)response.StatusCode == 200)
                    {
                        var ms = clock.Elapsed.TotalMilliseconds;
                        lock (log)
                        {
                            return new StartRun(ms, steps.ToList());
                        }
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }

                await Task.Delay(20);
            }

            throw new TimeoutException("./run.sh : pas de 200 sur / en 300 s.");
        }
        finally
        {
            await StopSessionAsync(process);
        }
    }

    // The lines of run.sh and of the app that mark a step (provisioning, PostgreSQL, build, demo data, listening).
    private static bool IsStep(string line) =>
        line.StartsWith("[pg]", StringComparison.Ordinal) || line.StartsWith("[run]", StringComparison.Ordinal)
        || line.StartsWith("[provision]", StringComparison.Ordinal) || line.Contains("Démonstration", StringComparison.Ordinal)
        || line.StartsWith("Opportunités sur", StringComparison.Ordinal) || line.Contains("Now listening", StringComparison.Ordinal)
        || line.Contains("Application started", StringComparison.Ordinal);

    private void Environment(ProcessStartInfo psi)
    {
        // run.sh's own path: its cluster (db/pg.sh), its demo database, Debug build; nothing of the benchmark's.
        psi.Environment.Remove("ConnectionStrings__Default");
        psi.Environment["PG_ROOT"] = PgRoot;
        psi.Environment["PGPORT_LOCAL"] = options.PgPort.ToString(CultureInfo.InvariantCulture);
        psi.Environment["PORT"] = options.AppPort.ToString(CultureInfo.InvariantCulture);
        psi.Environment["Mail__PickupDirectory"] = Path.Combine(repoRoot, "var", "start-bench", "mail");
    }

    private static async Task StopSessionAsync(Process process)
    {
        if (process.HasExited)
        {
            return;
        }

        // setsid made run.sh the leader of its own process group: SIGTERM to the group stops dotnet and the app.
        using (var kill = Process.Start("kill", ["-TERM", "--", "-" + process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            using var kill = Process.Start("kill", ["-KILL", "--", "-" + process.Id.ToString(CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
        }
    }

    private static async Task WaitPortFreeAsync(int port)
    {
        for (var i = 0; i < 200; i++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", port);
            }
            catch (SocketException)
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException($"Le port {port} reste occupé : choisissez-en un autre (--start-port).");
    }

    private async Task PgAsync(string verb)
    {
        var psi = new ProcessStartInfo(Path.Combine(repoRoot, "db", "pg.sh")) { UseShellExecute = false, WorkingDirectory = repoRoot };
        psi.ArgumentList.Add(verb);
        Environment(psi);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("db/pg.sh");
        await p.WaitForExitAsync();
    }
}
