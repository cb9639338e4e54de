using System.Globalization;
using System.Text;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Shared;

namespace Opportunites.Web.Board;

/// <summary>URL slugs from French titles: "Appel à projets Numérique" → "appel-a-projets-numerique".</summary>
public static class Slugs
{
    public static string From(string title)
    {
        var sb = new StringBuilder(title.Length);
        var dash = false;
        foreach (var ch in title.Normalize(NormalizationForm.FormD))
        {
            if (CharUnicodeInfo.GetUnicodeCategory(ch) == UnicodeCategory.NonSpacingMark)
            {
                continue;
            }

            var c = ch switch { 'œ' or 'Œ' => "oe", 'æ' or 'Æ' => "ae", _ => null };
            if (c is not null)
            {
                sb.Append(c);
                dash = false;
            }
            else if (char.IsAsciiLetterOrDigit(ch))
            {
                sb.Append(char.ToLowerInvariant(ch));
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

        var slug = sb.ToString().Trim('-');
        return slug.Length == 0 ? "offre" : slug;
    }
}

/// <summary>How a deadline reads to a French user, in Paris time: "Jusqu'au 02/06/2025", "J-3", "Aujourd'hui".</summary>
public static class Deadlines
{
    /// <summary>Badge shown when the deadline is within this many days.</summary>
    public const int BadgeDays = 30;

    /// <summary>Within this many days a deadline is urgent: its badge is red; further away it is a plain reminder.</summary>
    public const int UrgentDays = 7;

    /// <summary>The badge's CSS class: red ("badge-urgent") from 7 days before the deadline, neutral before.</summary>
    public static string BadgeClass(DateOnly? deadline, DateOnly today) =>
        deadline is { } d && DaysLeft(d, today) is >= 0 and <= UrgentDays ? "badge badge-urgent" : "badge";

    /// <summary>Whole days from today (Paris) to the deadline date; negative once past.</summary>
    public static int DaysLeft(DateOnly deadline, DateOnly today) => deadline.DayNumber - today.DayNumber;

    /// <summary>"Aujourd'hui" on the day, "J-n" up to 30 days before; null otherwise or once closed.</summary>
    public static string? Badge(DateOnly? deadline, DateOnly today, bool closed)
    {
        if (closed || deadline is not { } d)
        {
            return null;
        }

        var days = DaysLeft(d, today);
        return days switch
        {
            0 => "Aujourd'hui",
            > 0 and <= BadgeDays => $"J-{days}",
            _ => null,
        };
    }

    /// <summary>"Jusqu'au 02/06/2025" (with "à 12h00" when a time is set), or "Sans date limite".</summary>
    public static string Until(DateOnly? deadline, TimeOnly? time = null)
    {
        if (deadline is not { } d)
        {
            return "Sans date limite";
        }

        var text = $"Jusqu'au {ParisTime.FormatDate(d)}";
        return time is { } t ? $"{text} à {t:HH'h'mm}" : text;
    }

    /// <summary>Detail-page countdown: "Clôture aujourd'hui", "Clôture demain", "Plus que 12 jours".</summary>
    public static string? Countdown(DateOnly? deadline, DateOnly today, bool closed)
    {
        if (closed || deadline is not { } d)
        {
            return null;
        }

        return DaysLeft(d, today) switch
        {
            0 => "Clôture aujourd'hui",
            1 => "Clôture demain (J-1)",
            var n and > 1 => $"Plus que {n} jours (J-{n})",
            _ => null,
        };
    }

    /// <summary>Closed when no longer published or past its closing instant (the closes_at rule of the schema).</summary>
    public static bool IsClosed(string status, DateTime? closesAt, DateTimeOffset now) =>
        status != Statuses.Published || (closesAt is { } c && c <= now.UtcDateTime);

    /// <summary>The day it closed: the issuer's closing day, or the deadline.</summary>
    public static string ClosedOn(string status, DateTime? closesAt, DateTime? closedAt, DateTime updatedAt)
    {
        var instant = status == Statuses.Closed && closedAt is { } c ? c
            : closesAt ?? closedAt ?? updatedAt;
        return ParisTime.FormatDate(new DateTimeOffset(DateTime.SpecifyKind(instant, DateTimeKind.Utc)));
    }
}
