using System.Net;
using System.Text.Json;
using Dapper;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Board;
using static Opportunites.Tests.Board.BoardSeed;

namespace Opportunites.Tests.Board;

/// <summary>Counts stop at BoardQueries.CountCap: past it the board says "plus de 1 000" and remembers it five minutes.</summary>
public sealed class BoardCountCapTests
{
    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UtcNow;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    // Open offers in one statement (the store's own insert, 1,001 times, would take seconds): a word in every title
    // isolates them in full-text search, their issuer in the issuer filter.
    private const string ManyOffersSql = """
        WITH o AS (
          INSERT INTO opportunities (kind, title, issuer_id, description, deadline_date, status, created_at, updated_at, published_at)
          SELECT 'aap', @word || ' ' || g, @issuer, '', current_date + 30 + g % 200, 'published', now(), now(), now()
          FROM generate_series(1, @count) g
          RETURNING id)
        INSERT INTO opportunity_territories (opportunity_id, territory_code) SELECT id, '976' FROM o
        """;

    private readonly List<long> _issuers = [];

    // A thousand offers would crowd other tests' capped lists (a newsletter export of 500 lines, a first page):
    // they go to Mayotte, and away once the test is done.
    [TearDown]
    public async Task RemoveOffersAsync()
    {
        await using var conn = await Db.OpenConnectionAsync();
        await conn.ExecuteAsync("DELETE FROM opportunities WHERE issuer_id = ANY (@issuers)", new { issuers = _issuers.ToArray() });
        _issuers.Clear();
    }

    private async Task<(long Issuer, string Word)> ManyOffersAsync(int count)
    {
        var issuer = await IssuerAsync();
        _issuers.Add(issuer);
        var word = Word();
        await using var conn = await Db.OpenConnectionAsync();
        await conn.ExecuteAsync(ManyOffersSql, new { word, issuer, count });
        return (issuer, word);
    }

    [Test]
    public async Task Search_MoreThanCap_CappedLowerBoundRememberedUntilItLapses()
    {
        var (issuer, word) = await ManyOffersAsync(BoardQueries.CountCap + 1);
        var clock = new ManualClock();
        var board = new BoardQueries(Db, clock);

        foreach (var query in new[] { $"?q={word}", $"?emetteur={issuer}", $"?emetteur={issuer}&territoire=976&type=aap" })
        {
            var first = await board.SearchAsync(await FilterAsync(query));
            Assert.That((first.Total, first.TotalCapped, first.Items.Count, first.HasNext), Is.EqualTo((1000L, true, 20, true)), query);
        }

        // Once known broad, words in a territory page through the match rows: the same offers, in the same order.
        var inRegion = await FilterAsync($"?q={word}&territoire=R06&type=aap");
        var throughIndex = await board.SearchAsync(inRegion);
        var throughMatches = await board.SearchAsync(inRegion);
        var page2 = await board.SearchAsync(inRegion with { After = throughMatches.LastId, Page = 2 });
        Assert.That(throughIndex.TotalCapped, Is.True);
        Assert.That(throughMatches.Items.Select(o => o.Id), Is.EqualTo(throughIndex.Items.Select(o => o.Id)));
        Assert.That(page2.Items.Select(o => o.Id), Is.EqualTo(
            (await new BoardQueries(Db, clock).SearchAsync(inRegion with { After = throughIndex.LastId, Page = 2 })).Items.Select(o => o.Id)));

        // Down to 6 offers: the search is remembered as capped (page alone), then counted again once that lapses.
        await using (var conn = await Db.OpenConnectionAsync())
        {
            await conn.ExecuteAsync("UPDATE opportunities SET status = 'closed', closed_at = now() WHERE issuer_id = @issuer AND id NOT IN " +
                                    "(SELECT id FROM opportunities WHERE issuer_id = @issuer ORDER BY id LIMIT 6)", new { issuer });
        }

        var filter = await FilterAsync($"?q={word}");
        var remembered = await board.SearchAsync(filter);
        Assert.That((remembered.Total, remembered.TotalCapped, remembered.Items.Count), Is.EqualTo((1000L, true, 6)));
        // Another page of the same search shares the remembered count.
        Assert.That((await board.SearchAsync(filter with { Page = 2 })).TotalCapped, Is.True);

        clock.Now += TimeSpan.FromMinutes(6);
        var recounted = await board.SearchAsync(filter);
        Assert.That((recounted.Total, recounted.TotalCapped, recounted.HasNext), Is.EqualTo((6L, false, false)));
    }

    [Test]
    public async Task Search_ExactlyCap_CountedExactly()
    {
        var (issuer, _) = await ManyOffersAsync(BoardQueries.CountCap);

        var page = await Queries().SearchAsync(await FilterAsync($"?emetteur={issuer}&page=50"));

        Assert.That((page.Total, page.TotalCapped, page.Items.Count, page.HasNext), Is.EqualTo((1000L, false, 20, false)));
    }

    [Test]
    public async Task PageAndApi_MoreThanCap_SayMoreThanAndKeepNextLinks()
    {
        var (issuer, word) = await ManyOffersAsync(BoardQueries.CountCap + 1);
        await using var app = new AppFactory();
        using var client = app.CreateClient();

        var html = WebUtility.HtmlDecode(await client.GetStringAsync($"/offres?q={word}&page=50"));
        // French grouping: a narrow no-break space between thousands.
        Assert.That(html, Does.Contain("Plus de 1\u202f000 offres"));
        Assert.That(html, Does.Contain("Page 50<").And.Contain("rel=\"next\"").And.Not.Contain("Page 50 sur"));

        using var response = await client.GetAsync($"/api/v1/opportunites?emetteur={issuer}");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.That(json.RootElement.GetProperty("total").GetInt64(), Is.EqualTo(1000));
        Assert.That(json.RootElement.GetProperty("totalIsLowerBound").GetBoolean(), Is.True);
        Assert.That(json.RootElement.GetProperty("links").GetProperty("next").GetString(), Is.Not.Null);
    }
}
