using System.Collections.Concurrent;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.Extensions.Options;
using Npgsql;
using Opportunites.Web.Shared;

namespace Opportunites.Web.Board;

/// <summary>
/// The board's list pages (/ and /offres) kept for <see cref="BoardSettings.PageCacheSeconds"/> per address, for
/// anonymous visitors only (ASP.NET Core output cache, default rules: GET and HEAD, 200, no cookie set, not signed in).
/// Rendering a list page costs the app several times what its statements cost PostgreSQL (docs/benchmarks.md);
/// visitors mostly open the same territory and kind pages. What the pages show changes rarely, and every change is
/// announced: the tables the list reads notify channel <c>board_changed</c> (0061; writes no list shows do not, 0062),
/// and <see cref="BoardChangeListener"/> forgets every kept page on every node when a write commits. A page is never kept past the instant it would change by
/// itself (<see cref="ValidUntil"/>). Left: the total of a search, and pages after the first, may lag by the offers
/// that closed meanwhile, for at most that many seconds.
/// </summary>
public static class PageCache
{
    public const string PolicyName = "tableau";
    public const string Tag = "tableau";

    /// <summary>HttpContext.Items key: the instant the rendered page stops being true by itself (<see cref="ValidUntil"/>).</summary>
    public const string ValidUntilKey = "tableau.valide-jusqu-a";

    /// <summary>
    /// When a list page changes without any write: the first listed offer to close (it leaves the list, or gets its
    /// "Close" badge in the archives), or midnight in Paris (deadline badges, "within 7 days").
    /// </summary>
    public static DateTimeOffset ValidUntil(IEnumerable<OpportunityListItem> items, DateTimeOffset now, DateOnly today)
    {
        var midnight = TimeZoneInfo.ConvertTimeToUtc(today.AddDays(1).ToDateTime(TimeOnly.MinValue), ParisTime.Zone);
        var until = new DateTimeOffset(midnight, TimeSpan.Zero);
        foreach (var item in items)
        {
            // timestamptz columns arrive as UTC DateTimes.
            if (item.ClosesAt is { } closesAt && new DateTimeOffset(DateTime.SpecifyKind(closesAt, DateTimeKind.Utc)) is var closes
                && closes > now && closes < until)
            {
                until = closes;
            }
        }

        return until;
    }

    public static void AddBoardPageCache(this IServiceCollection services)
    {
        services.AddOutputCache();
        services.AddOptions<OutputCacheOptions>().Configure<IOptions<BoardSettings>>((o, board) =>
        {
            // A page is ~27 KB: room for a couple of thousand, whatever the query strings a client makes up.
            o.SizeLimit = 64L * 1024 * 1024;
            var seconds = board.Value.PageCacheSeconds;
            o.AddPolicy(PolicyName, b =>
            {
                if (seconds > 0)
                {
                    b.Expire(TimeSpan.FromSeconds(seconds)).Tag(Tag).AddPolicy<BoardPagePolicy>();
                }
                else
                {
                    b.NoCache();
                }
            });
        });
        services.AddSingleton<BoardChangeListener>();
        services.AddHostedService(sp => sp.GetRequiredService<BoardChangeListener>());
    }
}

/// <summary>
/// For a transaction whose writes cannot change what a list page shows (migration 0062): <see cref="QuietSql"/> first,
/// so that its statements are not announced, then <see cref="AnnounceSql"/> if it did change a listed row after all.
/// </summary>
public static class BoardChanges
{
    public const string QuietSql = "SET LOCAL opportunites.board_quiet = 'on'";

    public const string AnnounceSql = $"SELECT pg_notify('{BoardChangeListener.Channel}', '')";
}

/// <summary>
/// Listens on <c>board_changed</c> and forgets the kept board pages when a write commits. While it is not listening
/// (PostgreSQL away, connection lost) a change could go unheard: pages are neither kept nor served from memory then, and
/// it forgets everything when the connection drops and again once it listens anew.
/// </summary>
public sealed partial class BoardChangeListener(NpgsqlDataSource db, IOutputCacheStore cache, IOptions<BoardSettings> settings,
    ILogger<BoardChangeListener> log) : BackgroundService
{
    public const string Channel = "board_changed";

    // A silent network failure leaves WaitAsync waiting: past this, a round trip proves the connection alive.
    private static readonly TimeSpan Probe = TimeSpan.FromSeconds(30);

    /// <summary>How many times the pages were forgotten: a render that sees it change is not kept (<see cref="BoardPagePolicy"/>).</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>True while the connection listens; pages are kept and served from memory only then (<see cref="BoardPagePolicy"/>).</summary>
    public bool Listening { get; private set; }

    private long _evictions;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (settings.Value.PageCacheSeconds <= 0)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var conn = await db.OpenConnectionAsync(stoppingToken);
                conn.Notification += (_, _) => Forget();
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", conn))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                Listening = true;
                // Pages rendered while nobody listened may predate a change.
                Forget();
                while (!stoppingToken.IsCancellationRequested)
                {
                    if (!await conn.WaitAsync(Probe, stoppingToken))
                    {
                        await using var ping = new NpgsqlCommand("SELECT 1", conn);
                        await ping.ExecuteScalarAsync(stoppingToken);
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Whatever went wrong, keep trying: an exception leaving a background service stops the whole app.
                if (Listening)
                {
                    LogLost(log, ex.Message);
                }

                Listening = false;
                Forget();
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    internal void Forget()
    {
        Interlocked.Increment(ref _evictions);
        // The memory store evicts synchronously; nothing to wait for on the connection's thread.
        _ = cache.EvictByTagAsync(PageCache.Tag, CancellationToken.None);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cache du tableau : écoute des changements interrompue ({Reason}) ; pages oubliées, reconnexion.")]
    private static partial void LogLost(ILogger logger, string reason);
}

/// <summary>
/// When a list page may be kept or served from memory, besides the output cache's default rules:
/// <list type="bullet">
/// <item>only while this node hears about changes (<see cref="BoardChangeListener.Listening"/>): during a database
/// outage pages fail as they would without the cache (a French 503), and nothing kept then is served once the node
/// listens again;</item>
/// <item>not kept when a change was heard while it was being rendered: its statements may have run before that write
/// committed, and the eviction that the write caused is already past;</item>
/// <item>kept no longer than <see cref="PageCache.ValidUntilKey"/>, set by the page;</item>
/// <item>rendered again ahead of time: the first view after 90 % of a kept page's stay renders it anew and
/// replaces it, while the other views keep being served the kept copy (one such render at a time per node). Without it, a page viewed often expired under
/// load and every view of it waited for one render behind all the others (p99 of the 64-connection benchmark minute:
/// 149–175 ms with pages expiring during it, 7 ms when none did; docs/benchmarks.md).</item>
/// </list>
/// </summary>
public sealed class BoardPagePolicy(TimeProvider clock) : IOutputCachePolicy
{
    private const string GenerationKey = "tableau.generation";
    private const string RefreshKey = "tableau.rafraichir";
    private const string RefreshingKey = "tableau.rafraichit";

    /// <summary>How much shorter than the setting a page's stay may be drawn.</summary>
    internal const double Spread = 0.2;

    /// <summary>Share of a kept page's stay after which its next view renders it again.</summary>
    internal const double RefreshShare = 0.9;

    /// <summary>A view that took a refresh and did not keep its render (error, change heard) lets another try then.</summary>
    internal static readonly TimeSpan RefreshRetry = TimeSpan.FromSeconds(5);

    // More pages than the store holds (~2,000 of ~27 KB): addresses made up by a client; forgetting the schedule
    // only means those pages expire instead of being rendered ahead.
    private const int MaxScheduled = 10_000;

    // Per address: when its kept page is due for a render ahead, and under which eviction generation it was kept
    // (a page forgotten since is not in the store any more: its next view is a plain miss).
    private readonly ConcurrentDictionary<string, (DateTimeOffset At, long Generation)> _refresh = new(StringComparer.Ordinal);

    public ValueTask CacheRequestAsync(OutputCacheContext context, CancellationToken cancellation)
    {
        // Resolved once per request (a page served from memory does nothing else here); absent outside the app.
        var listener = context.HttpContext.RequestServices?.GetService<BoardChangeListener>();
        var generation = listener?.Evictions ?? 0;
        if (listener is { Listening: false })
        {
            context.AllowCacheLookup = false;
            context.AllowCacheStorage = false;
            context.AllowLocking = false;
        }
        else if (context.AllowCacheLookup)
        {
            var key = Address(context.HttpContext.Request);
            context.HttpContext.Items[RefreshKey] = key;
            var now = clock.GetUtcNow();
            if (_refresh.TryGetValue(key, out var due) && now >= due.At && due.Generation == generation
                && TryStartRefresh(now, out var started))
            {
                if (_refresh.TryUpdate(key, (now + RefreshRetry, generation), due))
                {
                    // This view renders the page and stores it over the kept copy; the others are served the kept copy
                    // meanwhile (they look it up; only views that missed would wait for this render).
                    context.AllowCacheLookup = false;
                    context.HttpContext.Items[RefreshingKey] = started;
                    // Also when the render fails before ServeResponseAsync.
                    context.HttpContext.Response.RegisterForDispose(new RefreshDone(this, started));
                }
                else
                {
                    // Another view took this page meanwhile.
                    EndRefresh(started);
                }
            }
        }

        context.HttpContext.Items[GenerationKey] = (listener, generation);
        return ValueTask.CompletedTask;
    }

    // One page rendered ahead at a time on this node (ticks of its start, 0 when none): pages that came due while no one
    // was looking (a quiet night, or the pauses between the benchmark's phases) are then rendered one after the other by
    // the first views that find them due, not all at once with every connection waiting on one. A slot held longer than
    // RefreshRetry is taken back (a render that neither finished nor failed).
    private long _refreshing;

    private bool TryStartRefresh(DateTimeOffset now, out long started)
    {
        started = now.UtcTicks;
        var held = Interlocked.Read(ref _refreshing);
        if (held != 0 && started - held < RefreshRetry.Ticks)
        {
            return false;
        }

        return Interlocked.CompareExchange(ref _refreshing, started, held) == held;
    }

    // Only the render that holds the slot gives it back (one whose slot was taken back does not end the next one).
    private void EndRefresh(long started) => Interlocked.CompareExchange(ref _refreshing, 0, started);

    private sealed class RefreshDone(BoardPagePolicy policy, long started) : IDisposable
    {
        public void Dispose() => policy.EndRefresh(started);
    }

    private static string Address(HttpRequest request) =>
        string.Concat(request.Host.Value, request.PathBase.Value, request.Path.Value, request.QueryString.Value);

    public ValueTask ServeFromCacheAsync(OutputCacheContext context, CancellationToken cancellation) => ValueTask.CompletedTask;

    public ValueTask ServeResponseAsync(OutputCacheContext context, CancellationToken cancellation)
    {
        if (context.HttpContext.Items[GenerationKey] is (BoardChangeListener listener, long started) && started != listener.Evictions)
        {
            context.AllowCacheStorage = false;
        }

        // Pages first viewed together (after a start, a change or a busy minute) would all expire together and be
        // rendered again in one burst, every lifetime: each stays between 80 % and 100 % of it instead. The benchmark's
        // 64-connection minute had its p99 set by such a burst (docs/benchmarks.md).
        if (context.ResponseExpirationTimeSpan is { } lifetime)
        {
            context.ResponseExpirationTimeSpan = lifetime * (1 - Spread * Random.Shared.NextDouble());
        }

        if (context.HttpContext.Items[PageCache.ValidUntilKey] is DateTimeOffset until)
        {
            var left = until - clock.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                context.AllowCacheStorage = false;
            }
            else if (context.ResponseExpirationTimeSpan is not { } expiration || left < expiration)
            {
                context.ResponseExpirationTimeSpan = left;
            }
        }

        if (context.HttpContext.Items[RefreshingKey] is long refreshing)
        {
            EndRefresh(refreshing);
        }

        if (context.HttpContext.Items[RefreshKey] is string key)
        {
            if (context.AllowCacheStorage && context.ResponseExpirationTimeSpan is { } stay
                && context.HttpContext.Items[GenerationKey] is (_, long kept))
            {
                if (_refresh.Count >= MaxScheduled)
                {
                    _refresh.Clear();
                }

                _refresh[key] = (clock.GetUtcNow() + (stay * RefreshShare), kept);
            }
            else
            {
                _refresh.TryRemove(key, out _);
            }
        }

        return ValueTask.CompletedTask;
    }
}
