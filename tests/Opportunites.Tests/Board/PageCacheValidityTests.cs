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
