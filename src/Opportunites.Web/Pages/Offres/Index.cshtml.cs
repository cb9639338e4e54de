using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.AspNetCore.RateLimiting;
using Opportunites.Web.Board;
using Opportunites.Web.Shared;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Pages.Offres;

/// <summary>The public list at / and /offres: filters from the query string, 20 offers a page.</summary>
[EnableRateLimiting(ReadConcurrencyPolicy.Name)]
[OutputCache(PolicyName = PageCache.PolicyName)]
public sealed class IndexModel(BoardFilterParser parser, BoardQueries board, TerritoryDirectory territories,
    ThemeCatalog themes, TimeProvider clock) : PageModel
{
    public BoardQueryInput Input { get; private set; } = new();
    public BoardFilter Filter { get; private set; } = new();
    public IReadOnlyDictionary<string, string[]> Errors { get; private set; } = new Dictionary<string, string[]>();
    public BoardPage? Results { get; private set; }
    public IReadOnlyList<Theme> Themes { get; private set; } = [];

    /// <summary>The territory typed or chosen, resolved here so that a shared name ("Saint-Denis") asks which one.</summary>
    public TerritorySelection TerritorySelection { get; private set; } = TerritorySelection.Empty;
    public string? IssuerName { get; private set; }
    public DateOnly Today { get; private set; }
    public DateTimeOffset Now { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        Now = clock.GetUtcNow();
        Today = ParisTime.Today(clock);
        Input = BoardQueryInput.From(Request.Query);
        Themes = await themes.GetAllAsync(ct);
        // The field sends the chosen codes, or text typed without JavaScript: a shared name asks which place is meant.
        TerritorySelection = TerritorySelection.Resolve(territories, Request.Query["territoire"]);
        Input.Territoire = [.. TerritorySelection.Codes];
        var parsed = await parser.ParseAsync(Input, ct);
        Filter = parsed.Filter;
        Errors = parsed.Errors;
        if (!TerritorySelection.IsResolved)
        {
            Errors = new Dictionary<string, string[]>(Errors) { ["territoire"] = [.. TerritorySelection.Messages] };
        }

        if (Errors.Count > 0)
        {
            // The visitor's input is at fault: say so in French, show the form again, no results.
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        Results = await board.SearchAsync(Filter, ct: ct);
        HttpContext.Items[PageCache.ValidUntilKey] = PageCache.ValidUntil(Results.Items, Now, Today);
        if (Filter.IssuerId is { } issuerId)
        {
            IssuerName = await board.GetIssuerNameAsync(issuerId, ct) ?? "émetteur inconnu";
        }
    }

    public string Heading => Filter.IncludeClosed ? "Offres, archives comprises" : "Offres ouvertes";

    /// <summary>
    /// The window title, set by the pages (ViewData set in the shared partial never reaches the layout). It is the
    /// first thing a screen reader reads on the new page, so it says what is shown, or that the search was refused.
    /// </summary>
    public string PageTitle => Errors.Count > 0 ? "Erreur : " + Heading : BoardDescriptions.Title(Filter);

    /// <summary>
    /// How many filters are set (kinds, territories, themes, local only, dates, archives, issuer): the "Filtres (n)" fold.
    /// </summary>
    public int FilterCount => Filter.Kinds.Count + Filter.Territories.Count + Filter.Themes.Count
        + (Filter.IncludeWider ? 0 : 1) + (Filter.ClosingWithinDays is null ? 0 : 1) + (Filter.DeadlineBy is null ? 0 : 1)
        + (Filter.IncludeClosed ? 1 : 0) + (Filter.IssuerId is null ? 0 : 1);

    /// <summary>
    /// The same search on /alertes: territories, kinds, themes as repeated parameters and the scope (what an alert can hold),
    /// so that "Recevoir ces offres par email" opens the form already filled in.
    /// </summary>
    public string AlertQuery => QueryString.Create(
        Filter.Territories.Select(t => new KeyValuePair<string, string?>("territoire", t.Code))
            .Concat(Filter.Kinds.Select(k => new KeyValuePair<string, string?>("type", k)))
            .Concat(Filter.Themes.Select(t => new KeyValuePair<string, string?>("theme", t)))
            .Concat(Filter.Territories.Count > 0 && !Filter.IncludeWider ? [new KeyValuePair<string, string?>("portee", "local")] : [])).ToString();

    /// <summary>This page of this search, carried to each offer so that its back link returns here.</summary>
    public string ReturnQuery => Filter.ToQueryString(page: Filter.Page, after: Filter.After, before: Filter.Before).TrimStart('?');

    public string? Error(string key) => Errors.TryGetValue(key, out var m) ? string.Join(" ", m) : null;

    public int PageCount => Results is null ? 0 : (int)Math.Max(1, (Results.Total + BoardFilter.PageSize - 1) / BoardFilter.PageSize);
}
