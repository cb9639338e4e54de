using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Accounts;
using Opportunites.Web.Board;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Shared;

namespace Opportunites.Tests.Board;

/// <summary>
/// List pages kept for anonymous visitors (Board:PageCacheSeconds) and forgotten as soon as a write to what they show
/// commits, whoever writes it (PostgreSQL notifies, 0061). A kept page carries an Age header. On a database of its own:
/// another test's write would forget the pages in the middle of these.
/// </summary>
[NonParallelizable]
public sealed class BoardPageCacheTests
{
    private PrivateDatabase _db = null!;
    private AppFactory _app = null!;
    private HttpClient _client = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _db = await PrivateDatabase.CreateAsync("opportunites_cache");
        _app = new AppFactory(_db.ConnectionString, new Dictionary<string, string> { ["Board:PageCacheSeconds"] = "300" });
        _client = _app.CreateClient();
        await WaitForAsync(() => Listener.Listening, "the listener listens");
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
        await _db.DisposeAsync();
    }

    private BoardChangeListener Listener => _app.Services.GetRequiredService<BoardChangeListener>();

    [Test]
    public async Task ListPage_ServedAgainFromMemory_UntilAnOfferChanges_ThenShowsTheChange()
    {
        var word = BoardSeed.Word();
        var issuer = await TestData.CreateIssuerAsync(_db.DataSource);
        var first = await OfferAsync(issuer, $"Appel {word} premier");
        var url = $"/offres?q={word}";
        await QuietAsync();

        var (fresh, body) = await GetAsync(url);
        Assert.That(fresh, Is.False, "first view is rendered");
        Assert.That(body, Does.Contain($"Appel {word} premier"));
        var (kept, _) = await GetAsync(url);
        Assert.That(kept, Is.True, "second view comes from the cache");

        // A new offer, written straight to the database as any node or import would: the page shows it right away.
        var evictions = Listener.Evictions;
        await OfferAsync(issuer, $"Appel {word} second");
        await WaitForAsync(() => Listener.Evictions > evictions, "the write is heard");
        (kept, body) = await GetAsync(url);
        Assert.That(kept, Is.False);
        Assert.That(body, Does.Contain($"Appel {word} second"));
        Assert.That(body, Does.Contain("2 offres"));

        // Closing one is a change too.
        evictions = Listener.Evictions;
        await using (var conn = await _db.DataSource.OpenConnectionAsync())
        {
            await using var close = new NpgsqlCommand("UPDATE opportunities SET status = 'closed', closed_at = now() WHERE id = @id", conn);
            close.Parameters.AddWithValue("id", first);
            await close.ExecuteNonQueryAsync();
        }

        await WaitForAsync(() => Listener.Evictions > evictions, "the close is heard");
        (_, body) = await GetAsync(url);
        Assert.That(body, Does.Not.Contain($"Appel {word} premier"));
        Assert.That(body, Does.Contain("1 offre"));
    }

    [Test]
    public async Task EachQueryString_IsItsOwnPage()
    {
        var word = BoardSeed.Word();
        var issuer = await TestData.CreateIssuerAsync(_db.DataSource);
        await OfferAsync(issuer, $"Appel {word} Gironde", ["33"]);
        await OfferAsync(issuer, $"Appel {word} Nord", ["59"]);

        var (_, all) = await GetAsync($"/offres?q={word}");
        var (keptNord, nord) = await GetAsync($"/offres?q={word}&territoire=59");
        Assert.Multiple(() =>
        {
            Assert.That(all, Does.Contain($"Appel {word} Gironde").And.Contain($"Appel {word} Nord"));
            Assert.That(keptNord, Is.False, "another filter is not the kept page");
            Assert.That(nord, Does.Contain($"Appel {word} Nord").And.Not.Contain($"Appel {word} Gironde"));
        });
    }

    [Test]
    public async Task SignedInVisitor_NeverGetsAKeptPage()
    {
        var word = BoardSeed.Word();
        var issuer = await TestData.CreateIssuerAsync(_db.DataSource);
        await OfferAsync(issuer, $"Appel {word}");
        var user = await TestUsers.CreateAsync(_db.DataSource, Policies.IssuerRole);
        await QuietAsync();
        using var client = WebForms.CreateClient(_app);
        await TestUsers.LoginAsync(client, user);

        // An anonymous visitor's copy exists; the signed-in one (own menu, logout form) is rendered for them each time.
        await GetAsync($"/offres?q={word}");
        Assert.That((await GetAsync($"/offres?q={word}")).Kept, Is.True);
        for (var i = 0; i < 2; i++)
        {
            using var response = await client.GetAsync($"/offres?q={word}");
            var body = await response.Content.ReadAsStringAsync();
            Assert.Multiple(() =>
            {
                Assert.That(response.Headers.Age, Is.Null);
                Assert.That(body, Does.Contain("Déconnexion"));
            });
        }
    }

    [Test]
    public async Task InvalidSearch_IsNotKept()
    {
        var url = "/offres?limite=31/02/2026";
        for (var i = 0; i < 2; i++)
        {
            using var response = await _client.GetAsync(url);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(response.Headers.Age, Is.Null);
        }
    }

    [Test]
    public async Task ListeningConnectionLost_ForgetsEverything_ListensAgain_AndStillHearsWrites()
    {
        var word = BoardSeed.Word();
        var issuer = await TestData.CreateIssuerAsync(_db.DataSource);
        await OfferAsync(issuer, $"Appel {word} avant");
        var url = $"/offres?q={word}";
        await QuietAsync();
        await GetAsync(url);
        Assert.That((await GetAsync(url)).Kept, Is.True);

        // The listening session is killed (PostgreSQL restarted, connection cut): a change could have gone unheard.
        await using (var conn = await _db.DataSource.OpenConnectionAsync())
        {
            await using var kill = new NpgsqlCommand(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'", conn);
            Assert.That((long)(await kill.ExecuteScalarAsync())!, Is.EqualTo(1));
        }

        await WaitForAsync(() => !Listener.Listening, "the listener notices");
        await WaitForAsync(() => Listener.Listening, "the listener listens again");
        Assert.That((await GetAsync(url)).Kept, Is.False, "pages kept before the loss are forgotten");

        var evictions = Listener.Evictions;
        await OfferAsync(issuer, $"Appel {word} après");
        await WaitForAsync(() => Listener.Evictions > evictions, "the write is heard on the new connection");
        Assert.That((await GetAsync(url)).Body, Does.Contain($"Appel {word} après"));
    }

    [Test]
    public async Task CacheOff_EveryViewIsRendered()
    {
        await using var app = new AppFactory(_db.ConnectionString, new Dictionary<string, string> { ["Board:PageCacheSeconds"] = "0" });
        using var client = app.CreateClient();
        for (var i = 0; i < 2; i++)
        {
            using var response = await client.GetAsync("/offres");
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(response.Headers.Age, Is.Null);
        }
    }

    private Task<long> OfferAsync(long issuer, string title, string[]? territories = null) =>
        TestData.CreateOpportunityAsync(_db.DataSource, title, territories ?? ["33"], Kinds.Aap,
            ParisTime.Today(TimeProvider.System).AddDays(30), Statuses.Published, issuer);

    private async Task<(bool Kept, string Body)> GetAsync(string url)
    {
        using var response = await _client.GetAsync(url);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), url);
        return (response.Headers.Age is not null, await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// Waits until the set-up's writes have been heard. Their notifications reach the listener a few milliseconds after
    /// the commit; a page whose render overlaps one is rightly not kept (BoardPagePolicy), which would make "the second
    /// view comes from the cache" depend on timing (it failed once in CI). Quiet = no eviction for 300 ms.
    /// </summary>
    private async Task QuietAsync()
    {
        var clock = Stopwatch.StartNew();
        var seen = Listener.Evictions;
        var since = clock.Elapsed;
        while (clock.Elapsed - since < TimeSpan.FromMilliseconds(300))
        {
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "timed out waiting for the writes to be heard");
            await Task.Delay(20);
            if (Listener.Evictions != seen)
            {
                seen = Listener.Evictions;
                since = clock.Elapsed;
            }
        }
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "timed out waiting: " + what);
            await Task.Delay(20);
        }
    }
}
