using Npgsql;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Board;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Shared;
using Opportunites.Web.Territories;

namespace Opportunites.Tests.Board;

/// <summary>Rows for board tests: each test makes its own issuer (a filter that isolates it) and offers.</summary>
internal static class BoardSeed
{
    public static NpgsqlDataSource Db => SharedDatabase.DataSource;

    public static DateOnly Today => ParisTime.Today(TimeProvider.System);

    /// <summary>A word nobody else uses, letters only, so that full-text search isolates a test's rows.</summary>
    public static string Word() => "zq" + string.Concat(Guid.NewGuid().ToString("N")[..10].Select(c => (char)('a' + (c % 26))));

    public static Task<long> IssuerAsync(string? name = null) => TestData.CreateIssuerAsync(Db, name ?? TestData.Unique("Émetteur board"));

    public static Task<long> OfferAsync(long issuerId, string title, string[]? territories = null, string kind = Kinds.Aap,
        int? daysLeft = 60, string status = Statuses.Published, string description = "", string[]? themes = null,
        TimeOnly? time = null, DateTimeOffset? publishedAt = null, DateOnly? deadline = null) =>
        TestData.CreateOpportunityAsync(Db, title, territories ?? ["33"], kind,
            deadline ?? (daysLeft is { } d ? Today.AddDays(d) : null), status, issuerId, description, themes, time,
            publishedAt ?? (status is Statuses.Closed or Statuses.Expired ? DateTimeOffset.UtcNow.AddDays(-30) : null));

    public static BoardQueries Queries() => new(Db, TimeProvider.System);

    public static async Task<BoardFilterParser> ParserAsync() => new(await TerritoryDirectory.LoadAsync(Db), new ThemeCatalog(Db));

    /// <summary>Parses a query string the way the page and the API do; fails the test on invalid input.</summary>
    public static async Task<BoardFilter> FilterAsync(string query)
    {
        var r = await (await ParserAsync()).ParseAsync(BoardQueryInput.Parse(query));
        Assert.That(r.IsValid, Is.True, string.Join(" ", r.Errors.Values.SelectMany(v => v)));
        return r.Filter;
    }

    public static async Task<string[]> TitlesAsync(string query, int pageSize = 100)
    {
        var page = await Queries().SearchAsync(await FilterAsync(query), pageSize);
        return page.Items.Select(i => i.Title).ToArray();
    }
}
