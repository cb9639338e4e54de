using Opportunites.Web.Opportunities;

namespace Opportunites.Web.Subscriptions;

public static class Frequencies
{
    public const string Weekly = "weekly";
    public const string Daily = "daily";

    public static bool IsValid(string? f) => f is Weekly or Daily;

    public static string Label(string f) => f == Daily ? "Quotidienne" : "Hebdomadaire";
}

/// <summary>What a digest holds: territories (any level), kinds, themes (none = all), frequency, and whether the offers
/// of the territories containing them (région, France) come too (<see cref="IncludeWider"/>, the board's "portee").</summary>
public sealed record DigestPreferences(
    IReadOnlyList<string> TerritoryCodes,
    IReadOnlyList<string> Kinds,
    IReadOnlyList<string> Themes,
    string Frequency,
    bool IncludeWider = true)
{
    /// <summary>Sorted, distinct, trimmed: equal preferences become equal arrays (one rendered body per set).</summary>
    public static DigestPreferences Canonical(IEnumerable<string>? territories, IEnumerable<string>? kinds,
        IEnumerable<string>? themes, string? frequency, bool includeWider = true) =>
        new(Clean(territories, upper: true),
            Clean(kinds, upper: false) is { Count: > 0 } k ? k : Opportunities.Kinds.All.Order(StringComparer.Ordinal).ToList(),
            Clean(themes, upper: false),
            Frequencies.IsValid(frequency) ? frequency! : Frequencies.Weekly,
            includeWider);

    private static List<string> Clean(IEnumerable<string>? values, bool upper) =>
        (values ?? [])
            .Where(v => !string.IsNullOrWhiteSpace(v))
            .Select(v => upper ? v.Trim().ToUpperInvariant() : v.Trim().ToLowerInvariant())
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>Whether a message of <see cref="Validate"/> is about the territories (shown beside that field).</summary>
    public static bool IsTerritoryError(string message) => message.Contains("territoire", StringComparison.Ordinal);

    /// <returns>French error messages; empty when valid against the known territories and themes.</returns>
    public IReadOnlyList<string> Validate(ISet<string> knownTerritories, ISet<string> knownThemes)
    {
        var errors = new List<string>();
        if (TerritoryCodes.Count == 0)
        {
            errors.Add("Choisissez au moins un territoire.");
        }
        else if (TerritoryCodes.Count > 50)
        {
            errors.Add("Choisissez au plus 50 territoires.");
        }
        else if (TerritoryCodes.Any(t => !knownTerritories.Contains(t)))
        {
            errors.Add("Un des territoires choisis est inconnu.");
        }

        if (Kinds.Any(k => !Opportunities.Kinds.IsValid(k)))
        {
            errors.Add("Un des types d'offre choisis est inconnu.");
        }

        if (Themes.Count > 30 || Themes.Any(t => !knownThemes.Contains(t)))
        {
            errors.Add("Un des thèmes choisis est inconnu.");
        }

        return errors;
    }
}
