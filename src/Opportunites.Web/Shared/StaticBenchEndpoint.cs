using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Opportunites.Web.Jobs;

namespace Opportunites.Web.Shared;

/// <summary>
/// GET /bench/statique?octets=N: an HTML body of N bytes, built once, through the same middleware as the real pages.
/// The benchmark compares the board's request rate with this one to show the cost of the framework alone (issue 8,
/// ratio b). Mapped only when the setting Bench:StaticEndpoint is true (the benchmark sets it); off by default, so
/// production never serves it.
/// With Bench:JobsEndpoint=true (the digest benchmark, off by default), POST /bench/taches/{name} asks the cluster for a
/// run of a job now, exactly like the admin page's "Lancer maintenant" (recorded as 'manual', requested by "bench"),
/// and GET /bench/gc gives the garbage collector's counters.
/// </summary>
public static class StaticBenchEndpoint
{
    private const int MaxBytes = 1 << 20;

    private static readonly ConcurrentDictionary<int, byte[]> Bodies = new();

    public static void MapStaticBenchEndpoint(this WebApplication app)
    {
        if (app.Configuration.GetValue("Bench:JobsEndpoint", false))
        {
            // No cookie, no form: nothing for antiforgery to protect, and the setting never exists outside the benchmark.
            app.MapPost("/bench/taches/{name}", async (string name, JobControl jobs, CancellationToken ct) =>
                await jobs.RunNowAsync(name, "bench", ct) ? Results.Accepted() : Results.NotFound()).ExcludeFromDescription();
            // What the garbage collector did so far (read before and after a run): dotnet-counters does not restore here.
            app.MapGet("/bench/gc", () => Results.Json(GcFigures.Now())).ExcludeFromDescription();
        }

        if (!app.Configuration.GetValue("Bench:StaticEndpoint", false))
        {
            return;
        }

        app.MapGet("/bench/statique", (int? octets) =>
        {
            var size = Math.Clamp(octets ?? 30_000, 16, MaxBytes);
            var body = Bodies.GetOrAdd(size, Build);
            return Results.Bytes(body, "text/html; charset=utf-8");
        }).ExcludeFromDescription();
    }

    private static byte[] Build(int size)
    {
        var sb = new StringBuilder("<!DOCTYPE html><p>");
        var i = 0;
        while (sb.Length < size)
        {
            sb.Append("offre ").Append(i++.ToString(CultureInfo.InvariantCulture)).Append(' ');
        }

        return Encoding.ASCII.GetBytes(sb.ToString(0, size));
    }
}

/// <summary>The garbage collector's counters since the process started.</summary>
public sealed record GcFigures(int Gen0, int Gen1, int Gen2, double PauseMs, long AllocatedBytes, long HeapBytes)
{
    /// <summary>Memory the GC holds from the system (part of the RSS) after the last collection.</summary>
    public long CommittedBytes { get; init; }

    /// <summary>Free space inside the heap after the last collection.</summary>
    public long FragmentedBytes { get; init; }

    public static GcFigures Now()
    {
        var info = GC.GetGCMemoryInfo();
        return new(GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2),
            GC.GetTotalPauseDuration().TotalMilliseconds, GC.GetTotalAllocatedBytes(), info.HeapSizeBytes)
        {
            CommittedBytes = info.TotalCommittedBytes,
            FragmentedBytes = info.FragmentedBytes,
        };
    }
}
