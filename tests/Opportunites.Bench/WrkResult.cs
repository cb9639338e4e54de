using System.Globalization;

namespace Opportunites.Bench;

/// <summary>The line printed by wrk/urls.lua in done(), parsed.</summary>
public sealed record WrkResult(long Requests, double Seconds, double Rps, double P50Ms, double P90Ms, double P99Ms,
    long Non2xx, long SocketErrors, long Bytes)
{
    public long Errors => Non2xx + SocketErrors;

    /// <summary>The "wrk-result key=value …" line of wrk's output; null when absent.</summary>
    public static WrkResult? Parse(string output)
    {
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("wrk-result ", StringComparison.Ordinal));
        if (line is null)
        {
            return null;
        }

        var v = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(kv => kv.Split('=', 2))
            .ToDictionary(kv => kv[0], kv => double.Parse(kv[1], CultureInfo.InvariantCulture));
        return new WrkResult((long)v["requests"], v["seconds"], v["rps"], v["p50_ms"], v["p90_ms"], v["p99_ms"],
            (long)v["non2xx"], (long)v["socket_errors"], (long)v["bytes"]);
    }
}
