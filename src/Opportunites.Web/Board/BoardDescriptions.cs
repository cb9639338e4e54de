using Opportunites.Web.Opportunities;

namespace Opportunites.Web.Board;

/// <summary>A search in words, for page titles, feed names and calendar names.</summary>
public static class BoardDescriptions
{
    public static string Describe(BoardFilter f)
    {
        var parts = new List<string>();
        parts.Add(f.Kinds.Count > 0 ? string.Join(", ", f.Kinds.Select(Kinds.Label)) : "toutes les offres");
        if (f.Territories.Count > 0)
        {
            parts.Add(string.Join(", ", f.Territories.Select(t => t.Name)));
        }

        if (f.Query is { } q)
        {
            parts.Add($"« {q} »");
        }

        if (f.ClosingWithinDays is { } d)
        {
            parts.Add($"clôture dans {d} jours");
        }

        if (f.DeadlineBy is { } by)
        {
            parts.Add($"date limite au plus tard le {Shared.ParisTime.FormatDate(by)}");
        }

        if (f.IncludeClosed)
        {
            parts.Add("archives comprises");
        }

        return string.Join(" · ", parts);
    }

    /// <summary>
    /// The window title of a board page, what a screen reader announces first and what a tab or bookmark shows:
    /// "Emplois en Gironde — page 2", "Appels à projets à Bègles", "Offres ouvertes · Gironde, Landes".
    /// </summary>
    public static string Title(BoardFilter f)
    {
        var what = f.Kinds.Count switch
        {
            0 => f.IncludeClosed ? "Offres, archives comprises" : "Offres ouvertes",
            _ => Capitalize(JoinFrench(f.Kinds.Select(PluralLabel).ToList())),
        };
        var parts = new List<string> { what };
        if (f.Territories.Count == 1 && f.Territories[0].In is { Length: > 0 } where)
        {
            parts[0] = $"{what} {where}";
        }
        else if (f.Territories.Count > 0)
        {
            parts.Add(string.Join(", ", f.Territories.Select(t => t.Name)));
        }

        if (f.Query is { } q)
        {
            parts.Add($"« {q} »");
        }

        if (f.IncludeClosed && f.Kinds.Count > 0)
        {
            parts.Add("archives comprises");
        }

        var title = string.Join(" · ", parts);
        return f.Page > 1 ? $"{title} — page {f.Page}" : title;
    }

    private static string PluralLabel(string kind) => kind switch
    {
        Kinds.Emploi => "emplois",
        Kinds.Aap => "appels à projets",
        Kinds.Ami => "appels à manifestation d'intérêt",
        _ => kind,
    };

    private static string JoinFrench(IReadOnlyList<string> items) =>
        items.Count <= 1 ? string.Join("", items) : string.Join(", ", items.Take(items.Count - 1)) + " et " + items[^1];

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
}
