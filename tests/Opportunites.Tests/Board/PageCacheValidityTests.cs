using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Opportunites.Web.Board;
using Opportunites.Web.Shared;

namespace Opportunites.Tests.Board;

/// <summary>
/// A kept list page never outlives the instant it would change by itself: its first listed offer's closing instant, or
/// midnight in Paris (PageCache.ValidUntil), applied to the cache entry by BoardPagePolicy.
/// </summary>
public sealed class PageCacheValidityTests
{
    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static OpportunityListItem Item(DateTimeOffset? closesAt) => new() { ClosesAt = closesAt?.UtcDateTime };

    private static DateTimeOffset Utc(int year, int month, int day, int hour, int minute) =>
        new(year, month, day, hour, minute, 0, TimeSpan.Zero);

    [Test]
    public void ValidUntil_FirstListedOfferToClose_IgnoringClosedOnesAndOnesWithoutDeadline()
    {
        var now = Utc(2026, 11, 22, 10, 0);
        var today = new DateOnly(2026, 11, 22);
        var items = new[] { Item(null), Item(now.AddMinutes(-5)), Item(now.AddHours(3)), Item(now.AddMinutes(90)) };

        Assert.That(PageCache.ValidUntil(items, now, today), Is.EqualTo(now.AddMinutes(90)));
    }

    [TestCase(2026, 11, 22, 10, 0, "2026-11-22T23:00:00Z")] // winter: Paris midnight is 23:00 UTC
    [TestCase(2026, 7, 14, 10, 0, "2026-07-14T22:00:00Z")] // summer: 22:00 UTC
    [TestCase(2026, 3, 28, 22, 30, "2026-03-28T23:00:00Z")] // the night clocks go forward: 23:30 Paris, midnight still at 23:00 UTC
    public void ValidUntil_NothingClosesToday_ParisMidnight(int y, int m, int d, int h, int min, string expected)
    {
        var now = Utc(y, m, d, h, min);
        var today = DateOnly.FromDateTime(ParisTime.ToParis(now));
        var items = new[] { Item(now.AddDays(3)), Item(null) };

        Assert.That(PageCache.ValidUntil(items, now, today), Is.EqualTo(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public async Task Policy_ShortensTheStayToTheValidityOfThePage()
    {
        var now = Utc(2026, 11, 22, 10, 0);
        var policy = (IOutputCachePolicy)new BoardPagePolicy(new FixedClock(now));

        var soon = Context(now.AddSeconds(7), TimeSpan.FromSeconds(60));
        await policy.ServeResponseAsync(soon, CancellationToken.None);
        var later = Context(now.AddHours(2), TimeSpan.FromSeconds(60));
        await policy.ServeResponseAsync(later, CancellationToken.None);
        var past = Context(now.AddSeconds(-1), TimeSpan.FromSeconds(60));
        await policy.ServeResponseAsync(past, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(soon.ResponseExpirationTimeSpan, Is.EqualTo(TimeSpan.FromSeconds(7)));
            Assert.That(soon.AllowCacheStorage, Is.True);
            Assert.That(later.ResponseExpirationTimeSpan, Is.InRange(TimeSpan.FromSeconds(48), TimeSpan.FromSeconds(60)),
                "the setting stays the upper bound, less up to 20 % so that pages kept together do not all expire together");
            Assert.That(past.AllowCacheStorage, Is.False, "a page already out of date is not kept");
        });
    }

    [Test]
    public async Task Policy_SpreadsTheStaysOfPagesKeptTogether()
    {
        var now = Utc(2026, 11, 22, 10, 0);
        var policy = (IOutputCachePolicy)new BoardPagePolicy(new FixedClock(now));
        var stays = new List<TimeSpan>();
        for (var i = 0; i < 200; i++)
        {
            var context = Context(now.AddHours(2), TimeSpan.FromSeconds(300));
            await policy.ServeResponseAsync(context, CancellationToken.None);
            stays.Add(context.ResponseExpirationTimeSpan!.Value);
        }

        Assert.Multiple(() =>
        {
            Assert.That(stays, Is.All.InRange(TimeSpan.FromSeconds(240), TimeSpan.FromSeconds(300)));
            // 200 draws over 60 s: all within one 10-second slice has a probability of about 6 × (1/6)^200.
            Assert.That(stays.Max() - stays.Min(), Is.GreaterThan(TimeSpan.FromSeconds(10)));
        });
    }

    [Test]
    public async Task Policy_PageViewedNearTheEndOfItsStay_OneViewRendersItAgainOthersGetTheKeptCopy()
    {
        var clock = new MovingClock(Utc(2026, 11, 22, 10, 0));
        var policy = (IOutputCachePolicy)new BoardPagePolicy(clock);

        // Rendered and kept for 100 s (the page's own validity is shorter than the 300 s setting).
        var first = await ViewAsync(policy, "/offres?territoire=33", clock.Now.AddSeconds(100));
        Assert.That(first.ResponseExpirationTimeSpan, Is.EqualTo(TimeSpan.FromSeconds(100)));
        await ViewAsync(policy, "/offres?territoire=59", clock.Now.AddSeconds(100));
        await ViewAsync(policy, "/offres?territoire=13", clock.Now.AddSeconds(1000));

        clock.Now = clock.Now.AddSeconds(89);
        var early = await LookupAsync(policy, "/offres?territoire=33");
        clock.Now = clock.Now.AddSeconds(2);
        var refresher = await LookupAsync(policy, "/offres?territoire=33");
        var meanwhile = await LookupAsync(policy, "/offres?territoire=33");
        var notDue = await LookupAsync(policy, "/offres?territoire=13");
        var dueToo = await LookupAsync(policy, "/offres?territoire=59");
        Assert.Multiple(() =>
        {
            Assert.That(early.AllowCacheLookup, Is.True, "before 90 % of its stay: the kept copy");
            Assert.That(refresher.AllowCacheLookup, Is.False, "the first view after: rendered again, stored over the kept copy");
            Assert.That(meanwhile.AllowCacheLookup, Is.True, "the others meanwhile: the kept copy");
            Assert.That(notDue.AllowCacheLookup, Is.True, "another page, not due: the kept copy");
            Assert.That(dueToo.AllowCacheLookup, Is.True, "another page due: the kept copy while a render ahead runs");
        });

        // The new render is kept: the next refresh is at 90 % of its own stay. The other due page is
        // rendered by its first view after that one ended.
        await FinishAsync(policy, refresher, clock.Now.AddSeconds(100));
        var next = await LookupAsync(policy, "/offres?territoire=59");
        Assert.That(next.AllowCacheLookup, Is.False);
        await FinishAsync(policy, next, clock.Now.AddSeconds(100));
        clock.Now = clock.Now.AddSeconds(60);
        Assert.That((await LookupAsync(policy, "/offres?territoire=33")).AllowCacheLookup, Is.True);
        clock.Now = clock.Now.AddSeconds(31);
        Assert.That((await LookupAsync(policy, "/offres?territoire=33")).AllowCacheLookup, Is.False);

        // A refresh whose render was not kept lets another view try a few seconds later.
        clock.Now = clock.Now.AddSeconds(1);
        Assert.That((await LookupAsync(policy, "/offres?territoire=33")).AllowCacheLookup, Is.True);
        clock.Now = clock.Now.Add(BoardPagePolicy.RefreshRetry);
        Assert.That((await LookupAsync(policy, "/offres?territoire=33")).AllowCacheLookup, Is.False);
    }

    private static async Task<OutputCacheContext> LookupAsync(IOutputCachePolicy policy, string url)
    {
        // As the output cache's default policy leaves it for an anonymous GET.
        var context = new OutputCacheContext { HttpContext = Request(url), AllowCacheLookup = true, AllowCacheStorage = true };
        await policy.CacheRequestAsync(context, CancellationToken.None);
        return context;
    }

    private static async Task<OutputCacheContext> ViewAsync(IOutputCachePolicy policy, string url, DateTimeOffset validUntil)
    {
        var context = await LookupAsync(policy, url);
        await FinishAsync(policy, context, validUntil);
        return context;
    }

    private static async Task FinishAsync(IOutputCachePolicy policy, OutputCacheContext context, DateTimeOffset validUntil)
    {
        context.HttpContext.Items[PageCache.ValidUntilKey] = validUntil;
        context.ResponseExpirationTimeSpan = TimeSpan.FromSeconds(300);
        context.AllowCacheStorage = true;
        await policy.ServeResponseAsync(context, CancellationToken.None);
    }

    private static DefaultHttpContext Request(string url)
    {
        var http = new DefaultHttpContext();
        var query = url.IndexOf('?', StringComparison.Ordinal);
        http.Request.Host = new HostString("opportunites.test");
        http.Request.Path = query < 0 ? url : url[..query];
        http.Request.QueryString = query < 0 ? QueryString.Empty : new QueryString(url[query..]);
        return http;
    }

    private sealed class MovingClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Test]
    public async Task Policy_NotListeningOrChangeHeardDuringTheRender_PageNeitherServedNorKept()
    {
        // The real listener and store, listening on the test database.
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(NpgsqlDataSource.Create(SharedDatabase.ConnectionString));
        services.AddOptions<BoardSettings>();
        services.AddBoardPageCache();
        await using var provider = services.BuildServiceProvider();
        var listener = provider.GetRequiredService<BoardChangeListener>();
        var now = Utc(2026, 11, 22, 10, 0);
        var policy = (IOutputCachePolicy)new BoardPagePolicy(new FixedClock(now));

        // Not listening yet (as during a database outage): nothing is looked up or kept.
        var deaf = Context(now.AddHours(1), TimeSpan.FromSeconds(60), provider);
        deaf.AllowCacheLookup = true;
        await policy.CacheRequestAsync(deaf, CancellationToken.None);
        await listener.StartAsync(CancellationToken.None);
        for (var i = 0; i < 200 && !listener.Listening; i++)
        {
            await Task.Delay(25);
        }

        Assert.That(listener.Listening, Is.True, "the listener listens");

        var quiet = Context(now.AddHours(1), TimeSpan.FromSeconds(60), provider);
        await policy.CacheRequestAsync(quiet, CancellationToken.None);
        await policy.ServeResponseAsync(quiet, CancellationToken.None);

        var overlapping = Context(now.AddHours(1), TimeSpan.FromSeconds(60), provider);
        await policy.CacheRequestAsync(overlapping, CancellationToken.None);
        listener.Forget(); // a write committed while this page was being rendered
        await policy.ServeResponseAsync(overlapping, CancellationToken.None);

        await listener.StopAsync(CancellationToken.None);
        Assert.Multiple(() =>
        {
            Assert.That(deaf.AllowCacheLookup, Is.False);
            Assert.That(deaf.AllowCacheStorage, Is.False);
            Assert.That(quiet.AllowCacheStorage, Is.True);
            Assert.That(overlapping.AllowCacheStorage, Is.False);
        });
    }

    private static OutputCacheContext Context(DateTimeOffset validUntil, TimeSpan expiration, IServiceProvider? services = null)
    {
        var http = new DefaultHttpContext { RequestServices = services! };
        http.Items[PageCache.ValidUntilKey] = validUntil;
        return new OutputCacheContext { HttpContext = http, ResponseExpirationTimeSpan = expiration, AllowCacheStorage = true };
    }
}
