using Opportunites.Web.Board;

namespace Opportunites.Web.Shared;

/// <summary>A typed text that did not resolve to one territory: the places it may mean, or close names.</summary>
public sealed record TerritoryQuestion(string Text, IReadOnlyList<TerritoryCandidate> Candidates);

/// <summary>
/// What the values of a territory field (codes from chosen chips, or text typed without JavaScript) resolve to:
/// the territories chosen, the texts that name several places (a choice to make) and the texts that name none.
/// </summary>
public sealed class TerritorySelection
{
    public const int MaxValues = 60;

    public static readonly TerritorySelection Empty = new();

    public IReadOnlyList<TerritoryCandidate> Chosen { get; init; } = [];
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
    public static async Task<TerritorySelection> ResolveAsync(TerritoryDirectory directory, IEnumerable<string?> values,
        bool multiple = true, CancellationToken ct = default)
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

        // Codes (the chips) in one round trip; what is left was typed by a person.
        var byCode = await directory.GetCandidatesByCodesAsync(texts, ct);
        var codes = byCode.Select(t => t.Code).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var chosen = new List<TerritoryCandidate>(byCode);
        var typed = new List<TerritoryCandidate>();
        var ambiguous = new List<TerritoryQuestion>();
        var unknown = new List<TerritoryQuestion>();
        foreach (var text in texts.Where(t => !codes.Contains(t)))
        {
            var candidates = await directory.ResolveCandidatesAsync(text, ct);
            switch (candidates.Count)
            {
                case 1:
                    typed.Add(candidates[0]);
                    break;
                case > 1:
                    ambiguous.Add(new TerritoryQuestion(text, candidates));
                    break;
                default:
                    var close = text.Length > 100 ? [] : await directory.SearchAsync(text, 5, ct);
                    var suggestions = await directory.GetCandidatesByCodesAsync(close.Select(t => t.Code), ct);
                    unknown.Add(new TerritoryQuestion(text, suggestions));
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
