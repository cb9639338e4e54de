using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Opportunites.Web.Shared;

/// <summary>
/// GET /bench/statique?octets=N: an HTML body of N bytes, built once, through the same middleware as the real pages.
/// The benchmark compares the board's request rate with this one to show the cost of the framework alone (issue 8,
/// ratio b). Mapped only when the setting Bench:StaticEndpoint is true (the benchmark sets it); off by default, so
/// production never serves it.
/// </summary>
public static class StaticBenchEndpoint
{
    private const int MaxBytes = 1 << 20;

    private static readonly ConcurrentDictionary<int, byte[]> Bodies = new();

    public static void MapStaticBenchEndpoint(this WebApplication app)
    {
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
