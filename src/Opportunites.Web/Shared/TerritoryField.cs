using Opportunites.Web.Board;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Shared;

/// <summary>A typed text that did not resolve to one territory: the places it may mean, or close names.</summary>
public sealed record TerritoryQuestion(string Text, IReadOnlyList<Territory> Candidates);

/// <summary>
/// What the values of a territory field (codes from chosen chips, or text typed without JavaScript) resolve to:
/// the territories chosen, the texts that name several places (a choice to make) and the texts that name none.
/// </summary>
public sealed class TerritorySelection
{
    public const int MaxValues = 60;

    public static readonly TerritorySelection Empty = new();

    public IReadOnlyList<Territory> Chosen { get; init; } = [];
    public IReadOnlyList<TerritoryQuestion> Ambiguous { get; init; } = [];
    public IReadOnlyList<TerritoryQuestion> Unknown { get; init; } = [];

    public bool IsResolved => Ambiguous.Count == 0 && Unknown.Count == 0;

    public IReadOnlyList<string> Codes => [.. Chosen.Select(t => t.Code)];

    /// <summary>French messages for the error summary: one per text still to choose or correct.</summary>
    public IEnumerable<string> Messages =>
        Ambiguous.Select(q => $"Plusieurs territoires correspondent à « {Short(q.Text)} » : choisissez le bon dans la liste.")
            .Concat(Unknown.Select(q => q.Candidates.Count > 0
                ? $"Aucun territoire ne s'appelle « {Short(q.Text)} » : choisissez un territoire proche ou corrigez le nom."
                : $"Aucun territoire ne correspond à « {Short(q.Text)} ». Saisissez le nom d'une commune, d'une intercommunalité, d'un département, d'une région, ou un code (33, R75)."));

    /// <summary>
    /// Resolves the submitted values: a code (what a chip carries) or a text ("Bègles", "33130", "Saint-Denis (93)",
    /// several separated by commas when typed without JavaScript). With <paramref name="multiple"/> false, a typed
    /// text replaces the chip already chosen, as picking a new one in the list does.
    /// </summary>
    public static TerritorySelection Resolve(TerritoryDirectory directory, IEnumerable<string?> values, bool multiple = true)
    {
        var texts = values.Where(v => !string.IsNullOrWhiteSpace(v))
            .SelectMany(v => v!.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Where(v => v.Length > 0)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Take(MaxValues)
            .ToList();
        if (texts.Count == 0)
        {
            return Empty;
        }

        // Codes (the chips) first; what is left was typed by a person.
        var byCode = GetByCodes(directory, texts);
        var codes = byCode.Select(t => t.Code).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var chosen = new List<Territory>(byCode);
        var typed = new List<Territory>();
        var ambiguous = new List<TerritoryQuestion>();
        var unknown = new List<TerritoryQuestion>();
        foreach (var text in texts.Where(t => !codes.Contains(t)))
        {
            var candidates = Distinct(directory.ResolveCandidates(text));
            switch (candidates.Count)
            {
                case 1:
                    typed.Add(candidates[0]);
                    break;
                case > 1:
                    ambiguous.Add(new TerritoryQuestion(text, candidates));
                    break;
                default:
                    // Close names for a typo ("Gironnde"): the longest start of the text that names something.
                    IReadOnlyList<Territory> close = [];
                    var trimmed = text.Trim();
                    for (var n = trimmed.Length; trimmed.Length <= 100 && n >= 4 && close.Count == 0; n--)
                    {
                        close = directory.Search(trimmed[..n], 5);
                    }

                    unknown.Add(new TerritoryQuestion(text, close));
                    break;
            }
        }

        if (!multiple && typed.Count > 0)
        {
            chosen.Clear();
        }

        chosen.AddRange(typed);
        var distinct = chosen.DistinctBy(t => t.Code).ToList();
        return new TerritorySelection
        {
            Chosen = multiple ? distinct : [.. distinct.TakeLast(1)],
            Ambiguous = ambiguous,
            Unknown = unknown,
        };
    }

    /// <summary>The territories of these codes (any case), in the order given; unknown codes are left out.</summary>
    public static IReadOnlyList<Territory> GetByCodes(TerritoryDirectory directory, IEnumerable<string> codes) =>
        [.. codes.Select(c => directory.Get(c.Trim().ToUpperInvariant())).OfType<TerritoryInfo>()
            .DistinctBy(t => t.Code).Select(directory.Describe)];

    // One name for nested places (La Réunion the région and the département, Paris the département and the commune)
    // asks nothing: the largest, listed first, holds the others and matches them both ways.
    private static IReadOnlyList<Territory> Distinct(IReadOnlyList<Territory> candidates) =>
        candidates.Count > 1 && candidates.All(c => c.Lineage.Contains(candidates[0].Code, StringComparer.Ordinal))
            ? [candidates[0]]
            : candidates;

    /// <summary>"Commune, Seine-Saint-Denis": what a choice list shows beside the label.</summary>
    public static string Detail(Territory t) => t.Level switch
    {
        "pays" => "Pays",
        "region" => "Région",
        "departement" => "Département",
        "epci" => t.DepartementName is { } d ? "Intercommunalité, " + d : "Intercommunalité",
        "commune" => t.DepartementName is { } d ? "Commune, " + d : "Commune",
        _ => t.Level,
    };

    private static string Short(string text) => text.Length <= 60 ? text : text[..60] + "…";
}

/// <summary>What the shared territory field (Pages/Shared/_TerritoryField.cshtml) renders.</summary>
public sealed record TerritoryFieldModel
{
    /// <summary>The text input's id (its label points at it); the other elements' ids start with it.</summary>
    public required string Id { get; init; }

    /// <summary>The form name of every value: each chosen territory is one <c>name=code</c>.</summary>
    public required string Name { get; init; }

    public required string Label { get; init; }

    public string? Hint { get; init; }

    /// <summary>Several territories (chips), or one that a new choice replaces.</summary>
    public bool Multiple { get; init; } = true;

    public TerritorySelection Selection { get; init; } = TerritorySelection.Empty;

    /// <summary>The field's own error (e.g. "Choisissez au moins un territoire."), shown above it.</summary>
    public string? Error { get; init; }

    /// <summary>Extra ids for the input's aria-describedby (an error message rendered by the page).</summary>
    public string? DescribedBy { get; init; }

    public string ApiUrl { get; init; } = "/api/v1/territoires";
}
