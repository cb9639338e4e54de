using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Opportunites.Tests.Faults;

/// <summary>
/// The built app (Opportunites.Web.dll next to the tests) as a real child process on a free port of 127.0.0.1, in
/// Production mode, with the given settings as environment variables; its output is kept for failure messages.
/// <see cref="Kill"/> sends SIGKILL: nothing in the app gets to run.
/// </summary>
public sealed class AppProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();

    private AppProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");

    public bool HasExited => _process.HasExited;

    /// <summary>The last lines the process wrote (stdout and stderr).</summary>
    public string LogTail(int lines = 40) => string.Join('\n', _log.TakeLast(lines));

    public string Log => string.Join('\n', _log);

    public static AppProcess Start(IReadOnlyDictionary<string, string> settings, params string[] args)
    {
        var port = FreePort();
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Opportunites.Web.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        psi.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        psi.Environment["Site__BaseUrl"] = $"http://127.0.0.1:{port}";
        psi.Environment["Logging__LogLevel__Default"] = "Information";
        foreach (var (key, value) in settings)
        {
            psi.Environment[key] = value;
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException("dotnet n'a pas démarré");
        var app = new AppProcess(process, port);
        // Drain the output so the child never blocks on a full pipe.
        process.OutputDataReceived += (_, e) => app.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => app.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return app;
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _log.Enqueue(line);
        while (_log.Count > 2000)
        {
            _log.TryDequeue(out _);
        }
    }

    /// <summary>Waits until the app answers HTTP at all (any status: the database may be down on purpose).</summary>
    public async Task WaitUntilListeningAsync(TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"L'application s'est arrêtée (code {_process.ExitCode}) :\n{LogTail()}");
            }

            try
            {
                using var response = await client.GetAsync("healthz");
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                await Task.Delay(200);
            }
        }

        throw new TimeoutException($"L'application n'écoute pas après {timeout.TotalSeconds} s :\n{LogTail()}");
    }

    /// <summary>SIGKILL, then waits for the process to be gone.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        await _process.WaitForExitAsync();
    }

    /// <summary>A client on the app that keeps cookies and shows redirects instead of following them.</summary>
    public HttpClient CreateClient() =>
        new(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() })
        {
            BaseAddress = BaseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }
}

/// <summary>Sizes of the fault tests: small by default (./test.sh), full-size with FAULT_TESTS=1.</summary>
public static class FaultRun
{
    public static bool Full => Environment.GetEnvironmentVariable("FAULT_TESTS") == "1";

    public static int Int(string variable, int fast, int full) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0
            ? v
            : Full ? full : fast;

    public static string S(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Schedules that keep a job from ever firing during a test.</summary>
    public const string Never = "0 0 0 31 2 ?";

    /// <summary>Polls <paramref name="condition"/> until it holds or the time is up.</summary>
    public static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, int pollMs = 100)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(pollMs);
        }

        return await condition();
    }
}
