using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;

namespace Opportunites.Bench;

internal static partial class Tools
{
    public static async Task<(int Code, string Out, string Err)> RunAsync(string file, IEnumerable<string> args,
        string? workingDirectory = null, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        if (workingDirectory is not null)
        {
            psi.WorkingDirectory = workingDirectory;
        }

        foreach (var (k, val) in env ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = val;
        }

        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"Impossible de lancer {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await stdout, await stderr);
    }

    /// <summary>wrk with the committed Lua script cycling through the paths of <paramref name="urlsFile"/>.</summary>
    public static async Task<WrkResult> WrkAsync(string baseUrl, string luaScript, string urlsFile, int connections, int seconds)
    {
        var threads = Math.Min(2, connections);
        var (code, output, err) = await RunAsync("wrk",
            ["-t" + threads, "-c" + connections, "-d" + seconds + "s", "--timeout", "10s", "-s", luaScript, baseUrl, "--", urlsFile]);
        return WrkResult.Parse(output)
            ?? throw new InvalidOperationException($"wrk n'a pas donné de résultat (code {code}) : {output} {err}");
    }

    [GeneratedRegex(@"tps = ([0-9.]+) \(without initial connection time\)")]
    private static partial Regex PgBenchTps();

    [GeneratedRegex(@"number of failed transactions: (\d+)")]
    private static partial Regex PgBenchFailed();

    /// <summary>pgbench on the scripts (one transaction = one page view's statements), prepared like the app's.</summary>
    public static async Task<(double Tps, long Failed)> PgBenchAsync(string connectionString, IReadOnlyList<string> scripts,
        int connections, int seconds)
    {
        var cs = new NpgsqlConnectionStringBuilder(connectionString);
        var exe = File.Exists("/usr/lib/postgresql/15/bin/pgbench") ? "/usr/lib/postgresql/15/bin/pgbench" : "pgbench";
        var args = new List<string>
        {
            "-n", "-M", "prepared", "-c", connections.ToString(CultureInfo.InvariantCulture),
            "-j", Math.Min(2, connections).ToString(CultureInfo.InvariantCulture), "-T", seconds.ToString(CultureInfo.InvariantCulture),
            "-h", cs.Host!, "-p", cs.Port.ToString(CultureInfo.InvariantCulture), "-U", cs.Username!,
        };
        foreach (var s in scripts)
        {
            args.Add("-f");
            args.Add(s + "@1");
        }

        args.Add(cs.Database!);
        // The app's session settings (DataExtensions.CreateDataSource), so both plan the statements alike.
        var (code, output, err) = await RunAsync(exe, args,
            env: new Dictionary<string, string> { ["PGOPTIONS"] = "-c plan_cache_mode=force_custom_plan -c jit=off" });
        var m = PgBenchTps().Match(output);
        if (code != 0 || !m.Success)
        {
            throw new InvalidOperationException($"pgbench a échoué (code {code}) : {err}\n{output}");
        }

        var failed = PgBenchFailed().Match(output) is { Success: true } f ? long.Parse(f.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        return (double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), failed);
    }
}

/// <summary>The app, built in Release, as a separate process on its own port, stopped on dispose.</summary>
internal sealed class AppProcess : IAsyncDisposable
{
    private readonly Process _process;

    public string BaseUrl { get; }

    public int Pid => _process.Id;

    /// <summary>Peak resident set size so far (VmHWM), in MB.</summary>
    public double PeakRssMb => (MemorySampler.Read(_process.Id, "VmHWM:") ?? 0) / 1024.0 / 1024.0;

    private AppProcess(Process process, string baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    /// <param name="configuration">The build to run: Release for measurements, Debug for the smoke test of the benchmark.</param>
    /// <param name="environment">Settings added to (or overriding) the defaults below, e.g. Jobs__Enabled=true.</param>
    public static async Task<AppProcess> StartAsync(string repoRoot, string connectionString, int port, string configuration = "Release",
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var project = Path.Combine(repoRoot, "src", "Opportunites.Web");
        var dll = Path.Combine(project, "bin", configuration, "net10.0", "Opportunites.Web.dll");
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} manque : lancez d'abord `dotnet build -c Release` (bench.sh le fait).");
        }

        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, WorkingDirectory = project, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        psi.Environment["ConnectionStrings__Default"] = connectionString;
        psi.Environment["PORT"] = port.ToString(CultureInfo.InvariantCulture);
        psi.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        // Background jobs would compete with the load for the two cores (setting of the jobs feature, if present).
        psi.Environment["Jobs__Enabled"] = "false";
        psi.Environment["Bench__StaticEndpoint"] = "true";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException("Impossible de lancer l'application.");
        process.OutputDataReceived += (_, e) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 })
            {
                Console.Error.WriteLine("[app] " + e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var app = new AppProcess(process, $"http://127.0.0.1:{port}");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(120))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"L'application s'est arrêtée au démarrage (code {process.ExitCode}).");
            }

            try
            {
                if ((await http.GetAsync(app.BaseUrl + "/healthz")).IsSuccessStatusCode)
                {
                    return app;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Slow to answer under load: try again.
            }

            await Task.Delay(250);
        }

        await app.DisposeAsync();
        throw new TimeoutException("L'application n'a pas répondu sur /healthz en 120 s.");
    }

    private bool _disposed;

    /// <summary>SIGKILL, as a crashed node or a lost machine: no shutdown, its job left fetched and its connections dropped.</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    /// <summary>Stops the app; may be called again (the board bench stops one app before starting the next).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_process.HasExited)
        {
            // Stopped as a deployment stops it (SIGTERM), not killed: a killed node leaves its running job invisible to
            // the next measurement's node until the invisibility timeout (60 s) has passed.
            var term = new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false };
            using (var signal = Process.Start(term))
            {
                await signal!.WaitForExitAsync();
            }

            using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(patience.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
    }
}
