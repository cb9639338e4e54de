using System.Globalization;

namespace Opportunites.Bench;

/// <summary>A process's resident memory (VmRSS of /proc/PID/status), sampled every second in the background.</summary>
internal sealed class MemorySampler : IAsyncDisposable
{
    private readonly List<(TimeSpan At, long Bytes)> _samples = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public MemorySampler(int pid)
    {
        var started = DateTime.UtcNow;
        _loop = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
            do
            {
                if (Read(pid, "VmRSS:") is { } rss)
                {
                    lock (_samples)
                    {
                        _samples.Add((DateTime.UtcNow - started, rss));
                    }
                }
            }
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false));
        });
    }

    public IReadOnlyList<(TimeSpan At, long Bytes)> Samples
    {
        get
        {
            lock (_samples)
            {
                return _samples.ToList();
            }
        }
    }

    /// <summary>A field of /proc/PID/status in bytes (VmRSS:, VmHWM: …); null when the process is gone.</summary>
    public static long? Read(int pid, string field)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
            return line is null ? null : long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }

        _stop.Dispose();
    }
}
