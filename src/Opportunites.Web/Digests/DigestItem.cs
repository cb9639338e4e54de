using System.Globalization;
using System.Text;

namespace Opportunites.Web.Digests;

/// <summary>One opportunity in a digest or reminder (a class: Dapper maps text[] to properties only).</summary>
public sealed class DigestItem
{
    public int Gid { get; init; }
    public long Id { get; init; }
    public string Kind { get; init; } = "";
    public string Title { get; init; } = "";
    public string IssuerName { get; init; } = "";
    public DateOnly? DeadlineDate { get; init; }
    public DateTime? ClosesAt { get; init; }
    public DateTime? PublishedAt { get; init; }
    public bool IsNew { get; init; }
    public string[] TerritoryNames { get; init; } = [];
}

public static class OfferLinks
{
    /// <summary>The public detail route: /offres/{id}-{slug}.</summary>
    public static string DetailPath(long id, string title) => $"/offres/{id}-{Slug(title)}";

    /// <summary>Lower-case ASCII words joined by hyphens ("Appel à projets Été 2026" → "appel-a-projets-ete-2026").</summary>
    public static string Slug(string text)
    {
        var decomposed = text.Normalize(NormalizationForm.FormD);
        var sb = new StringBuilder(decomposed.Length);
        var dash = false;
        foreach (var c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark)
            {
                continue;
            }

            var lower = char.ToLowerInvariant(c);
            if (lower is >= 'a' and <= 'z' or >= '0' and <= '9')
            {
                sb.Append(lower);
                dash = false;
            }
            else if (!dash && sb.Length > 0)
            {
                sb.Append('-');
                dash = true;
            }

            if (sb.Length >= 80)
            {
                break;
            }
        }

        return sb.ToString().Trim('-');
    }
}
