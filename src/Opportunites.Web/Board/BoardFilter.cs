using System.ComponentModel;
using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Board;

/// <summary>
/// A search as typed in the query string: only strings, so binding never fails and every check (with its French
/// message) happens in <see cref="BoardFilterParser"/>. The page, the feeds and the JSON API all read this shape.
/// </summary>
public sealed class BoardQueryInput
{
    [FromQuery(Name = "q"), Description("Recherche plein texte en français (titre, émetteur, description), sans accents requis.")]
    public string? Q { get; set; }

    [FromQuery(Name = "type"), Description("Type d'offre, répétable : emploi, aap, ami.")]
    public string[]? Type { get; set; }

    [FromQuery(Name = "territoire"), Description("Territoire, répétable (l'union des territoires) : code (33, 2A, R75 pour une région, FR) ou nom (Gironde). Correspondance dans les deux sens de la hiérarchie.")]
    public string[]? Territoire { get; set; }

    [FromQuery(Name = "portee"), Description("Avec un territoire : local = seulement ce territoire et ce qu'il contient ; tout (défaut) = aussi les offres des territoires qui le contiennent (région, France).")]
    public string? Portee { get; set; }

    [FromQuery(Name = "theme"), Description("Code de thème, répétable (ex. numerique, insertion).")]
    public string[]? Theme { get; set; }

    [FromQuery(Name = "emetteur"), Description("Identifiant numérique de l'émetteur.")]
    public string? Emetteur { get; set; }

    [FromQuery(Name = "cloture"), Description("Clôture dans 7 ou 30 jours.")]
    public string? Cloture { get; set; }

    [FromQuery(Name = "limite"), Description("Date limite au plus tard le JJ/MM/AAAA (ou AAAA-MM-JJ).")]
    public string? Limite { get; set; }

    [FromQuery(Name = "archives"), Description("1 pour inclure les offres closes.")]
    public string? Archives { get; set; }

    [FromQuery(Name = "tri"), Description("Tri : echeance (défaut), recent, pertinence (avec q).")]
    public string? Tri { get; set; }

    [FromQuery(Name = "page"), Description("Numéro de page (1 à 500), 20 offres par page.")]
    public string? Page { get; set; }

    [FromQuery(Name = "apres"), Description("Curseur : identifiant de la dernière offre de la page précédente (pagination stable).")]
    public string? Apres { get; set; }

    [FromQuery(Name = "avant"), Description("Curseur : identifiant de la première offre de la page suivante (retour en arrière).")]
    public string? Avant { get; set; }

    public static BoardQueryInput From(IQueryCollection query) => new()
    {
        Q = query["q"],
        Type = query["type"].Where(s => s is not null).Select(s => s!).ToArray(),
        Territoire = query["territoire"].Where(s => s is not null).Select(s => s!).ToArray(),
        Portee = query["portee"],
        Theme = query["theme"].Where(s => s is not null).Select(s => s!).ToArray(),
        Emetteur = query["emetteur"],
        Cloture = query["cloture"],
        Limite = query["limite"],
        Archives = query["archives"],
        Tri = query["tri"],
        Page = query["page"],
        Apres = query["apres"],
        Avant = query["avant"],
    };

    /// <summary>Parses "?type=aap&amp;q=..." (tests, links).</summary>
    public static BoardQueryInput Parse(string queryString) => From(new QueryCollection(QueryHelpers.ParseQuery(queryString)));
}

public enum BoardSort
{
    Deadline,
    Newest,
    Relevance,
}

/// <summary>A validated search. Territory is resolved to its code; kinds and themes are whitelisted values.</summary>
public sealed record BoardFilter
{
    public const int PageSize = 20;
    public const int MaxPage = 500;
    public const int MaxQueryLength = 200;

    public string? Query { get; init; }
    public IReadOnlyList<string> Kinds { get; init; } = [];
    public const int MaxTerritories = 20;

    /// <summary>The territories searched: an offer matching any of them (both ways) is shown.</summary>
    public IReadOnlyList<Territory> Territories { get; init; } = [];

    /// <summary>False: only the territories and what they contain ("près de chez moi"), not the offers of the
    /// territories containing them (région, France).</summary>
    public bool IncludeWider { get; init; } = true;
    public IReadOnlyList<string> Themes { get; init; } = [];
    public long? IssuerId { get; init; }
    public int? ClosingWithinDays { get; init; }
    public DateOnly? DeadlineBy { get; init; }
    public bool IncludeClosed { get; init; }
    public BoardSort Sort { get; init; } = BoardSort.Deadline;
    public int Page { get; init; } = 1;
    public long? After { get; init; }
    public long? Before { get; init; }

    /// <summary>The query string of this search (without pagination), to build links, feeds and exports.</summary>
    public string ToQueryString(BoardSort? sort = null, int? page = null, long? after = null, long? before = null)
    {
        var pairs = new List<KeyValuePair<string, string?>>();
        if (Query is not null)
        {
            pairs.Add(new("q", Query));
        }

        pairs.AddRange(Kinds.Select(k => new KeyValuePair<string, string?>("type", k)));
        pairs.AddRange(Territories.Select(t => new KeyValuePair<string, string?>("territoire", t.Code)));
        if (!IncludeWider)
        {
            pairs.Add(new("portee", "local"));
        }

        pairs.AddRange(Themes.Select(t => new KeyValuePair<string, string?>("theme", t)));
        if (IssuerId is { } issuer)
        {
            pairs.Add(new("emetteur", issuer.ToString(CultureInfo.InvariantCulture)));
        }

        if (ClosingWithinDays is { } days)
        {
            pairs.Add(new("cloture", days.ToString(CultureInfo.InvariantCulture)));
        }

        if (DeadlineBy is { } by)
        {
            pairs.Add(new("limite", Shared.ParisTime.FormatDate(by)));
        }

        if (IncludeClosed)
        {
            pairs.Add(new("archives", "1"));
        }

        var s = sort ?? Sort;
        if (s != BoardSort.Deadline)
        {
            pairs.Add(new("tri", BoardFilterParser.SortName(s)));
        }

        if (page is > 1)
        {
            pairs.Add(new("page", page.Value.ToString(CultureInfo.InvariantCulture)));
        }

        if (after is { } a)
        {
            pairs.Add(new("apres", a.ToString(CultureInfo.InvariantCulture)));
        }

        if (before is { } b)
        {
            pairs.Add(new("avant", b.ToString(CultureInfo.InvariantCulture)));
        }

        return QueryString.Create(pairs).ToString();
    }
}

/// <summary>The outcome of parsing: a filter, or French messages keyed by the query parameter at fault.</summary>
public sealed record BoardFilterResult(BoardFilter Filter, IReadOnlyDictionary<string, string[]> Errors)
{
    public bool IsValid => Errors.Count == 0;
}

/// <summary>Checks a <see cref="BoardQueryInput"/>: every rejected value gets a French message; nothing here throws.</summary>
public sealed class BoardFilterParser(TerritoryDirectory territories, ThemeCatalog themeCatalog)
{
    public static string SortName(BoardSort sort) => sort switch
    {
        BoardSort.Newest => "recent",
        BoardSort.Relevance => "pertinence",
        _ => "echeance",
    };

    public async Task<BoardFilterResult> ParseAsync(BoardQueryInput input, CancellationToken ct = default)
    {
        var errors = new Dictionary<string, string[]>();
        void Fail(string key, string message) => errors[key] = [message];

        var q = Clean(input.Q);
        if (q is { Length: > BoardFilter.MaxQueryLength })
        {
            Fail("q", $"La recherche est trop longue : {BoardFilter.MaxQueryLength} caractères au plus.");
            q = null;
        }

        var kinds = new List<string>();
        foreach (var raw in input.Type ?? [])
        {
            var kind = raw.Trim().ToLowerInvariant();
            if (kind.Length == 0)
            {
                continue;
            }

            if (!Opportunities.Kinds.IsValid(kind))
            {
                Fail("type", $"Type d'offre inconnu : « {Truncate(raw)} ». Valeurs possibles : emploi, aap, ami.");
            }
            else if (!kinds.Contains(kind))
            {
                kinds.Add(kind);
            }
        }

        var themes = new List<string>();
        var knownThemes = input.Theme is { Length: > 0 } ? await themeCatalog.GetAllAsync(ct) : [];
        foreach (var raw in input.Theme ?? [])
        {
            var theme = raw.Trim().ToLowerInvariant();
            if (theme.Length == 0)
            {
                continue;
            }

            if (!knownThemes.Any(t => t.Code == theme))
            {
                Fail("theme", $"Thème inconnu : « {Truncate(raw)} ».");
            }
            else if (!themes.Contains(theme))
            {
                themes.Add(theme);
            }
        }

        long? issuerId = null;
        if (!string.IsNullOrWhiteSpace(input.Emetteur))
        {
            if (long.TryParse(input.Emetteur.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0)
            {
                issuerId = id;
            }
            else
            {
                Fail("emetteur", "L'émetteur doit être désigné par son identifiant numérique.");
            }
        }

        int? closing = null;
        switch (input.Cloture?.Trim())
        {
            case null or "":
                break;
            case "7":
                closing = 7;
                break;
            case "30":
                closing = 30;
                break;
            default:
                Fail("cloture", "La clôture se filtre à 7 ou 30 jours.");
                break;
        }

        DateOnly? deadlineBy = null;
        if (!string.IsNullOrWhiteSpace(input.Limite))
        {
            if (Shared.ParisTime.TryParseDate(input.Limite, out var by) && by.Year is >= 2000 and <= 2100)
            {
                deadlineBy = by;
            }
            else
            {
                Fail("limite", $"Date invalide : « {Truncate(input.Limite)} ». Utilisez le format JJ/MM/AAAA, par exemple 30/06/2026.");
            }
        }

        var includeClosed = false;
        switch (input.Archives?.Trim().ToLowerInvariant())
        {
            case null or "" or "0" or "false" or "non":
                break;
            case "1" or "true" or "on" or "oui":
                includeClosed = true;
                break;
            default:
                Fail("archives", "Le paramètre archives vaut 1 (inclure les offres closes) ou 0.");
                break;
        }

        var sort = BoardSort.Deadline;
        switch (input.Tri?.Trim().ToLowerInvariant())
        {
            case null or "" or "echeance":
                break;
            case "recent":
                sort = BoardSort.Newest;
                break;
            case "pertinence":
                // Relevance needs text; without it the deadline order is the meaningful one.
                sort = q is null ? BoardSort.Deadline : BoardSort.Relevance;
                break;
            default:
                Fail("tri", "Tri inconnu : choisissez echeance, recent ou pertinence.");
                break;
        }

        var page = 1;
        if (!string.IsNullOrWhiteSpace(input.Page))
        {
            if (!int.TryParse(input.Page.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out page)
                || page < 1 || page > BoardFilter.MaxPage)
            {
                Fail("page", $"Le numéro de page doit être un entier entre 1 et {BoardFilter.MaxPage}.");
                page = 1;
            }
        }

        var after = ParseCursor(input.Apres, "apres", Fail);
        var before = ParseCursor(input.Avant, "avant", Fail);
        if (after is not null && before is not null)
        {
            Fail("avant", "Utilisez apres ou avant, pas les deux.");
        }

        // Repeated "territoire" parameters are several territories (links of the digests, alerts and feeds carry one
        // per territory of a selection); a blank one is an empty field of the form.
        var chosen = new List<Territory>();
        var typed = (input.Territoire ?? []).Select(Clean).OfType<string>().ToList();
        if (typed.Count > BoardFilter.MaxTerritories)
        {
            Fail("territoire", $"Trop de territoires : {BoardFilter.MaxTerritories} au plus.");
            typed.Clear();
        }

        var unknown = new List<string>();
        foreach (var text in typed)
        {
            var territory = text.Length > 200 ? null : territories.Resolve(text) is { } t ? territories.Describe(t) : null;
            if (territory is null)
            {
                unknown.Add($"« {Truncate(text)} »");
            }
            else if (!chosen.Any(t => t.Code == territory.Code))
            {
                chosen.Add(territory);
            }
        }

        if (unknown.Count > 0)
        {
            Fail("territoire", $"Territoire inconnu : {string.Join(", ", unknown)}. Saisissez un nom (Gironde) ou un code (33, R75) de la liste.");
        }

        var includeWider = true;
        switch (input.Portee?.Trim().ToLowerInvariant())
        {
            case null or "" or "tout" or "toutes" or "national":
                break;
            case "local" or "locale":
                includeWider = false;
                break;
            default:
                Fail("portee", "La portée vaut local (seulement ce territoire et ce qu'il contient) ou tout (aussi les offres régionales et nationales).");
                break;
        }

        var filter = new BoardFilter
        {
            Query = q,
            Kinds = kinds,
            Territories = chosen,
            IncludeWider = includeWider,
            Themes = themes,
            IssuerId = issuerId,
            ClosingWithinDays = closing,
            DeadlineBy = deadlineBy,
            IncludeClosed = includeClosed,
            Sort = sort,
            Page = page,
            After = after,
            Before = before,
        };
        return new BoardFilterResult(filter, errors);
    }

    /// <summary>Trimmed text without control characters (PostgreSQL text cannot hold NUL); null when blank.</summary>
    private static string? Clean(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var cleaned = new string(text.Select(c => char.IsControl(c) ? ' ' : c).ToArray()).Trim();
        return cleaned.Length == 0 ? null : cleaned;
    }

    private static long? ParseCursor(string? raw, string key, Action<string, string> fail)
    {
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }

        if (long.TryParse(raw.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0)
        {
            return id;
        }

        fail(key, "Le curseur de pagination est invalide : revenez à la première page.");
        return null;
    }

    private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
