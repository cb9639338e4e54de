using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Opportunites.Web.Mail;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Board;

public sealed record ApiIssuer(long Id, string Name);

/// <summary>A territory found by /api/v1/territoires: Code is what every other parameter takes (territoire=C33039).</summary>
/// <param name="Level">pays, region, departement, epci ou commune.</param>
/// <param name="Label">Le libellé affiché partout, qui distingue les homonymes : « Saint-Denis (974) », « Gironde (33) ».</param>
/// <param name="PostalCodes">Codes postaux d'une commune.</param>
public sealed record ApiTerritory(string Code, string InseeCode, string Name, string Level, string Label,
    string? DepartementCode, string? DepartementName, string? RegionCode, string? RegionName, IReadOnlyList<string> PostalCodes);

/// <param name="Label">Le libellé qui distingue les homonymes : « Bègles (33) », « Gironde (33) ».</param>
public sealed record ApiTerritoryRef(string Code, string Name, string Label);

public sealed record ApiTheme(string Code, string Label);

public sealed record ApiOpportunity(
    long Id, string Type, string TypeLabel, string Title, ApiIssuer Issuer, IReadOnlyList<ApiTerritoryRef> Territories,
    DateOnly? Deadline, string? DeadlineTime, DateTimeOffset? ClosesAt, DateTimeOffset? PublishedAt, bool Closed,
    string Url, string? ExternalUrl, ApiWorkPlace? WorkPlace);

/// <summary>Lieu de travail d'une offre d'emploi : une commune.</summary>
public sealed record ApiWorkPlace(string Code, string Label);

public sealed record ApiLinks(string Self, string? Next, string? Previous);

/// <param name="Total">Offers matching, counted up to 1,000; when more match, 1000 with TotalIsLowerBound true.</param>
public sealed record ApiOpportunityList(long Total, bool TotalIsLowerBound, int PageSize, IReadOnlyList<ApiOpportunity> Items, ApiLinks Links);

public sealed record ApiOpportunityDetail(
    long Id, string Type, string TypeLabel, string Title, ApiIssuer Issuer, IReadOnlyList<ApiTerritoryRef> Territories,
    IReadOnlyList<ApiTheme> Themes, DateOnly? Deadline, string? DeadlineTime, DateTimeOffset? ClosesAt,
    DateTimeOffset? PublishedAt, bool Closed, string Url, string? ExternalUrl, string Description, string DescriptionHtml,
    string? Contact, string? ContractType, string? Beneficiaries, decimal? AmountEur, ApiWorkPlace? WorkPlace);

/// <summary>The JSON API (/api/v1), the feeds of a search (RSS, ICS, CSV) and the .ics of one offer.</summary>
public static class BoardEndpoints
{
    public const int FeedLimit = 100;
    public const int CalendarLimit = 500;
    public const int CsvLimit = 5000;

    public static void MapBoard(this WebApplication app)
    {
        // OpenAPI document of the JSON API at /openapi/v1.json.
        app.MapOpenApi();

        var api = app.MapGroup("/api/v1").WithTags("Offres").AddEndpointFilter(AllowAnyOrigin).RequireRateLimiting(ReadConcurrencyPolicy.Name);
        api.MapGet("/opportunites", ListAsync)
            .WithName("ListerOpportunites")
            .WithSummary("Offres ouvertes (ou archivées) filtrées, 20 par page, avec le total.")
            .ProducesValidationProblem();
        api.MapGet("/opportunites/{id}", GetAsync)
            .WithName("LireOpportunite")
            .WithSummary("Une offre publique, ouverte ou close.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/territoires", Territories)
            .WithName("ChercherTerritoires")
            .WithSummary("Territoires (France, régions, départements, intercommunalités, communes) désignés par q : début du nom "
                + "(sans accents ni tirets requis, « st » pour « saint »), code postal (33130), code INSEE, numéro de département, "
                + "SIREN d'une intercommunalité. Dix au plus, les plus grands puis les plus peuplés d'abord (autocomplétion) ; "
                + "niveau=commune : seulement des communes.")
            .ProducesProblem(StatusCodes.Status400BadRequest);

        // Unknown API paths answer in JSON too, not with the HTML error page.
        app.MapFallback("/api/{**rest}", () => TypedResults.Problem(statusCode: 404, title: "Ressource introuvable",
            detail: "Cette adresse n'existe pas dans l'API. Voir /openapi/v1.json.")).ExcludeFromDescription();

        var feeds = app.MapGroup("/offres").ExcludeFromDescription().AddEndpointFilter(AllowAnyOrigin).AddEndpointFilter(CacheFiveMinutes)
            .RequireRateLimiting(ReadConcurrencyPolicy.Name);
        feeds.MapGet("/flux.rss", RssAsync);
        feeds.MapGet("/agenda.ics", CalendarAsync);
        feeds.MapGet("/export.csv", CsvAsync);
        feeds.MapGet("/{id}/agenda.ics", OneCalendarAsync);
    }

    private static async ValueTask<object?> AllowAnyOrigin(EndpointFilterInvocationContext ctx, EndpointFilterDelegate next)
    {
        // Open data: any site may read it (GET only; no credentials, so no preflight for simple requests).
        ctx.HttpContext.Response.Headers.AccessControlAllowOrigin = "*";
        return await next(ctx);
    }

    private static async ValueTask<object?> CacheFiveMinutes(EndpointFilterInvocationContext ctx, EndpointFilterDelegate next)
    {
        // Feed readers and calendars poll: five minutes of caching spares the database without hiding a new offer long.
        var result = await next(ctx);
        if (result is not IStatusCodeHttpResult { StatusCode: >= 400 })
        {
            ctx.HttpContext.Response.Headers.CacheControl = "public, max-age=300";
        }

        return result;
    }

    /// <summary>
    /// The site's public address (<see cref="SiteLinks.BaseUrl"/>), as in emails: links in feeds, API answers and JSON-LD
    /// are copied and cached far from the request, and a forged Host header would otherwise be written into an RSS feed
    /// that a cache then serves to everyone.
    /// </summary>
    public static string BaseUrl(HttpRequest request) => request.HttpContext.RequestServices.GetRequiredService<SiteLinks>().BaseUrl;

    private static ValidationProblem Invalid(IReadOnlyDictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors.ToDictionary(), title: "Paramètres de recherche invalides",
            detail: string.Join(" ", errors.Values.SelectMany(v => v)));

    private static async Task<Results<Ok<ApiOpportunityList>, ValidationProblem>> ListAsync(
        [AsParameters] BoardQueryInput input, HttpRequest request, BoardFilterParser parser, BoardQueries board,
        CancellationToken ct)
    {
        var parsed = await parser.ParseAsync(input, ct);
        if (!parsed.IsValid)
        {
            return Invalid(parsed.Errors);
        }

        var f = parsed.Filter;
        var page = await board.SearchAsync(f, ct: ct);
        var baseUrl = BaseUrl(request);
        var self = baseUrl + "/api/v1/opportunites" + f.ToQueryString(page: f.Page, after: f.After, before: f.Before);
        var next = page.HasNext ? baseUrl + "/api/v1/opportunites" + f.ToQueryString(after: page.LastId) : null;
        var previous = page.HasPrevious ? baseUrl + "/api/v1/opportunites" + f.ToQueryString(before: page.FirstId) : null;
        var now = DateTimeOffset.UtcNow;
        var items = page.Items.Select(o => ToApi(o, baseUrl, now)).ToList();
        return TypedResults.Ok(new ApiOpportunityList(page.Total, page.TotalCapped, BoardFilter.PageSize, items, new ApiLinks(self, next, previous)));
    }

    private static ApiOpportunity ToApi(OpportunityListItem o, string baseUrl, DateTimeOffset now) => new(
        o.Id, o.Kind, Kinds.LongLabel(o.Kind), o.Title, new ApiIssuer(o.IssuerId, o.IssuerName),
        [.. o.TerritoryCodes.Select((c, i) => new ApiTerritoryRef(c, o.TerritoryNames[i], o.TerritoryLabels.ElementAtOrDefault(i) ?? o.TerritoryNames[i]))],
        o.DeadlineDate, o.DeadlineTime?.ToString("HH':'mm", CultureInfo.InvariantCulture), Utc(o.ClosesAt), Utc(o.PublishedAt),
        Deadlines.IsClosed(o.Status, o.ClosesAt, now), baseUrl + o.Path, o.Url,
        o.WorkTerritoryCode is { } w ? new ApiWorkPlace(w, o.WorkTerritoryLabel ?? w) : null);

    private static DateTimeOffset? Utc(DateTime? d) =>
        d is { } v ? new DateTimeOffset(DateTime.SpecifyKind(v, DateTimeKind.Utc)) : null;

    private static async Task<Results<Ok<ApiOpportunityDetail>, ProblemHttpResult>> GetAsync(
        string id, HttpRequest request, BoardQueries board, CancellationToken ct)
    {
        if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var key) || key <= 0)
        {
            return TypedResults.Problem(statusCode: 400, title: "Identifiant invalide",
                detail: "L'identifiant d'une offre est un nombre entier positif.");
        }

        var o = await board.GetDetailAsync(key, ct);
        if (o is null)
        {
            return TypedResults.Problem(statusCode: 404, title: "Offre introuvable",
                detail: $"Aucune offre publique ne porte l'identifiant {key}.");
        }

        var baseUrl = BaseUrl(request);
        return TypedResults.Ok(new ApiOpportunityDetail(
            o.Id, o.Kind, Kinds.LongLabel(o.Kind), o.Title, new ApiIssuer(o.IssuerId, o.IssuerName),
            [.. o.TerritoryCodes.Select((c, i) => new ApiTerritoryRef(c, o.TerritoryNames[i], o.TerritoryLabels.ElementAtOrDefault(i) ?? o.TerritoryNames[i]))],
            o.ThemeCodes.Zip(o.ThemeLabels, (c, l) => new ApiTheme(c, l)).ToList(),
            o.DeadlineDate, o.DeadlineTime?.ToString("HH':'mm", CultureInfo.InvariantCulture), Utc(o.ClosesAt), Utc(o.PublishedAt),
            Deadlines.IsClosed(o.Status, o.ClosesAt, DateTimeOffset.UtcNow), baseUrl + o.Path, o.Url,
            o.Description, MarkdownRenderer.ToHtml(o.Description), o.Contact, o.ContractType, o.Beneficiaries, o.AmountEur,
            o.WorkTerritoryCode is { } w ? new ApiWorkPlace(w, o.WorkTerritoryLabel ?? w) : null));
    }

    private static Results<Ok<IReadOnlyList<ApiTerritory>>, ProblemHttpResult> Territories(
        [FromQuery] string? q, [FromQuery] string? niveau, TerritoryDirectory territories)
    {
        if (q is { Length: > 100 })
        {
            return TypedResults.Problem(statusCode: 400, title: "Recherche trop longue",
                detail: "Le nom d'un territoire fait 100 caractères au plus.");
        }

        // niveau=commune: the place-of-work field; a wider look so that ten communes remain after the larger places.
        var communesOnly = string.Equals(niveau, "commune", StringComparison.OrdinalIgnoreCase);
        var rows = string.IsNullOrWhiteSpace(q) ? []
            : communesOnly ? [.. territories.Search(q, 40).Where(t => t.Level == "commune").Take(10)]
            : territories.Search(q, 10);
        IReadOnlyList<ApiTerritory> result = rows.Select(t => new ApiTerritory(t.Code, t.InseeCode, t.Name, t.Level, t.Label,
            t.DepartementCode, t.DepartementName, t.RegionCode, t.RegionName, t.PostalCodes)).ToList();
        return TypedResults.Ok(result);
    }

    private static async Task<IResult> RssAsync(HttpRequest request, BoardFilterParser parser, BoardQueries board,
        TimeProvider clock, CancellationToken ct)
    {
        var parsed = await parser.ParseAsync(BoardQueryInput.From(request.Query), ct);
        if (!parsed.IsValid)
        {
            return Invalid(parsed.Errors);
        }

        // A feed reader wants the newest first unless the search asks otherwise.
        var f = parsed.Filter;
        var listUrl = "/offres" + f.ToQueryString();
        if (!request.Query.ContainsKey("tri"))
        {
            f = f with { Sort = BoardSort.Newest };
        }

        var items = await board.GetForExportAsync(f, FeedLimit, ct);
        var baseUrl = BaseUrl(request);
        var body = RssFeed.Write(items, baseUrl, listUrl, "Opportunités — " + BoardDescriptions.Describe(f), clock.GetUtcNow());
        return Results.Bytes(body, "application/rss+xml; charset=utf-8");
    }

    private static async Task<IResult> CalendarAsync(HttpRequest request, BoardFilterParser parser, BoardQueries board,
        CancellationToken ct)
    {
        var parsed = await parser.ParseAsync(BoardQueryInput.From(request.Query), ct);
        if (!parsed.IsValid)
        {
            return Invalid(parsed.Errors);
        }

        var f = parsed.Filter with { Sort = BoardSort.Deadline };
        var items = await board.GetForExportAsync(f, CalendarLimit, ct);
        var baseUrl = BaseUrl(request);
        var events = items.Select(o => IcsCalendar.From(o, baseUrl)).OfType<IcsCalendar.Event>();
        var body = IcsCalendar.Write(events, "Opportunités — " + BoardDescriptions.Describe(f), request.Host.Host);
        return Results.Bytes(body, "text/calendar; charset=utf-8", "opportunites.ics");
    }

    private static async Task<IResult> CsvAsync(HttpRequest request, BoardFilterParser parser, BoardQueries board,
        CancellationToken ct)
    {
        var parsed = await parser.ParseAsync(BoardQueryInput.From(request.Query), ct);
        if (!parsed.IsValid)
        {
            return Invalid(parsed.Errors);
        }

        var items = await board.GetForExportAsync(parsed.Filter, CsvLimit, ct);
        var body = CsvExport.Write(items, BaseUrl(request));
        return Results.Bytes(body, "text/csv; charset=utf-8", "opportunites.csv");
    }

    private static async Task<IResult> OneCalendarAsync(string id, HttpRequest request, BoardQueries board, CancellationToken ct)
    {
        if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var key) || key <= 0)
        {
            return Results.Problem(statusCode: 404, title: "Offre introuvable", detail: "Cette offre n'existe pas.");
        }

        var o = await board.GetDetailAsync(key, ct);
        var baseUrl = BaseUrl(request);
        if (o is null || IcsCalendar.From(o, baseUrl) is not { } e)
        {
            return Results.Problem(statusCode: 404, title: "Offre introuvable",
                detail: o is null ? "Cette offre n'existe pas." : "Cette offre n'a pas de date limite.");
        }

        var body = IcsCalendar.Write([e], o.Title, request.Host.Host);
        return Results.Bytes(body, "text/calendar; charset=utf-8", $"offre-{o.Id}.ics");
    }
}
