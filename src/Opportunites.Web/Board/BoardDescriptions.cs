using Opportunites.Web.Opportunities;

namespace Opportunites.Web.Board;

/// <summary>A search in words, for page titles, feed names and calendar names.</summary>
public static class BoardDescriptions
{
    public static string Describe(BoardFilter f)
    {
        var parts = new List<string>();
        parts.Add(f.Kinds.Count > 0 ? string.Join(", ", f.Kinds.Select(Kinds.Label)) : "toutes les offres");
        if (f.Territory is { } t)
        {
            parts.Add(t.Name);
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
}
