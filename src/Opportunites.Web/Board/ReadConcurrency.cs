using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Opportunites.Web.Board;

/// <summary>The <c>Board</c> settings section: how many board requests run at once.</summary>
public sealed class BoardSettings
{
    /// <summary>
    /// Board pages, API and feeds processed at the same time; the others wait their turn, oldest first. 0: twice the
    /// processor count. Each request is CPU work shared with PostgreSQL on the same cores: past a few at once they only
    /// slow each other down, and the slowest wait longest. Issue 8 benchmark, browsing at 16 connections on 2 cores: p99
    /// 61 ms with every request at once against 34 ms with 4 database connections at a time (one pair of 20 s runs); this
    /// queue at 4 against none, five pairs of 10 s runs on a loaded host: p99 98 against 107 ms on average.
    /// </summary>
    public int MaxConcurrentRequests { get; set; }

    /// <summary>Requests waiting for their turn beyond this many get a French 503 page (Retry-After: 1).</summary>
    public int QueueLimit { get; set; } = 2_000;

    /// <summary>
    /// Seconds an anonymous visitor's list page is kept at most and served again as is (<see cref="PageCache"/>); 0:
    /// never kept. Every write to what the list shows forgets them at once, on every node, and no page outlives its
    /// first listed offer's closing instant or Paris midnight. What this bounds is how long the total of a search, or
    /// a page after the first, may lag behind offers that closed elsewhere in the results (with the default order,
    /// soonest deadline first, the first page holds the next ones to close). Five minutes, as the "more than 1,000"
    /// fact (CappedCounts): a page not viewed for that long is rendered again.
    /// </summary>
    public int PageCacheSeconds { get; set; } = 300;

    public int EffectiveMaxConcurrentRequests => MaxConcurrentRequests > 0 ? MaxConcurrentRequests : 2 * Environment.ProcessorCount;
}

/// <summary>One queue for the board's read requests (<see cref="BoardSettings"/>), applied by name to its pages and endpoints.</summary>
public sealed class ReadConcurrencyPolicy(IOptions<BoardSettings> settings) : IRateLimiterPolicy<string>
{
    public const string Name = "tableau";

    private readonly ConcurrencyLimiterOptions _options = new()
    {
        PermitLimit = settings.Value.EffectiveMaxConcurrentRequests,
        QueueLimit = Math.Max(0, settings.Value.QueueLimit),
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    };

    // One partition for every client: the point is the machine's concurrency, not fairness between clients.
    public RateLimitPartition<string> GetPartition(HttpContext httpContext) =>
        RateLimitPartition.GetConcurrencyLimiter("", _ => _options);

    // A full queue means the server is overloaded, not that this client asked too much: 503, try again in a second.
    // The body stays empty: the status-code pages render the French error page.
    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected { get; } = (ctx, _) =>
    {
        ctx.HttpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        ctx.HttpContext.Response.Headers.RetryAfter = "1";
        return ValueTask.CompletedTask;
    };
}
