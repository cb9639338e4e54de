using System.Text.RegularExpressions;
using Opportunites.Web.Publishing;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Import;

/// <summary>
/// The deadline at the end of a newsletter line, in the forms people type: 09/06/2027, 9/6/2027, 09.06.2027,
/// 2027-06-09 (ISO), "9 juin 2027", "1er juin 2027", "09 juil. 2027", with or without "Jusqu'au", "avant le",
/// "date limite :", and in brackets. Whatever looks like a date there leaves the title, even when it is not a real
/// date (then the line is in error, the title stays clean).
/// </summary>
public static partial class DeadlineText
{
    private static readonly Dictionary<string, int> Months = new()
    {
        ["janvier"] = 1,
        ["janv"] = 1,
        ["fevrier"] = 2,
        ["fevr"] = 2,
        ["fev"] = 2,
        ["mars"] = 3,
        ["avril"] = 4,
        ["avr"] = 4,
        ["mai"] = 5,
        ["juin"] = 6,
        ["juillet"] = 7,
        ["juil"] = 7,
        ["aout"] = 8,
        ["septembre"] = 9,
        ["sept"] = 9,
        ["octobre"] = 10,
        ["oct"] = 10,
        ["novembre"] = 11,
        ["nov"] = 11,
        ["decembre"] = 12,
        ["dec"] = 12,
    };

    /// <summary>The outcome of reading the end of a line.</summary>
    /// <param name="Title">The text before the date (the whole text when no date was found).</param>
    /// <param name="DateText">The date as written, null when none was found.</param>
    /// <param name="Date">The date, null when none was found or it does not exist.</param>
    /// <param name="Error">Why a date-like text was not read (French), null otherwise.</param>
    public sealed record Split(string Title, string? DateText, DateOnly? Date, string? Error);

    public static Split Read(string text)
    {
        var m = Trailer().Match(text);
        if (!m.Success)
        {
            return new Split(text.Trim(), null, null, null);
        }

        var title = m.Groups["title"].Value.Trim().TrimEnd('-', '–', '—', ',', ':', '(').Trim();
        var dateText = m.Groups["date"].Value.Trim();
        var (date, error) = Parse(m);
        return new Split(title, dateText, date, error);
    }

    private static (DateOnly? Date, string? Error) Parse(Match m)
    {
        int day, month, year;
        if (m.Groups["iy"].Success)
        {
            (year, month, day) = (Int(m, "iy"), Int(m, "im"), Int(m, "id"));
        }
        else if (m.Groups["ny"].Success)
        {
            (day, month, year) = (Int(m, "nd"), Int(m, "nm"), Int(m, "ny"));
        }
        else
        {
            // The pattern only lets month names through: every one of them, folded, is a key.
            month = Months[TerritoryDirectory.Fold(m.Groups["mname"].Value).Trim()];

            day = Int(m, "md");
            if (!m.Groups["my"].Success)
            {
                return (null, $"Date limite sans année : « {m.Groups["date"].Value.Trim()} » (écrivez par exemple 9 juin 2027).");
            }

            year = Int(m, "my");
        }

        if (month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(Math.Clamp(year, 1, 9999), Math.Clamp(month, 1, 12)))
        {
            return (null, $"Date limite invalide : « {m.Groups["date"].Value.Trim()} » (cette date n'existe pas).");
        }

        return (new DateOnly(year, month, day), null);
    }

    private static int Int(Match m, string group) =>
        int.Parse(m.Groups[group].Value, System.Globalization.CultureInfo.InvariantCulture);

    // Separator: " - ", ", ", " : ", "(" or just a space before "Jusqu'au"/"avant le"/"date limite"; the date: numeric
    // day first (/ . -), ISO, or a day and a French month name (accented or not, abbreviated or not; "6 mois" is no
    // date), year optional only to say it is missing. Anchored at the end of the line: a date inside a title ("Plan 2026-2030") stays.
    [GeneratedRegex("""
        ^(?<title>.+?)
        (?:\s*[-–—,:]\s*(?:\(\s*)?|\s*\(\s*|\s+(?=(?:jusqu|avant|au\s+plus|date\s+limite|limite|cl[oô]ture)))
        (?:(?:jusqu['’]\s?(?:au|à)|avant\s+le|au\s+plus\s+tard\s+le|date\s+limite|limite|cl[oô]ture(?:\s+le)?)\s*:?\s*)?
        (?<date>
            (?<nd>\d{1,2})[/.\-](?<nm>\d{1,2})[/.\-](?<ny>\d{4})
          | (?<iy>\d{4})-(?<im>\d{1,2})-(?<id>\d{1,2})
          | (?<md>\d{1,2})(?:er)?\s+(?<mname>janv(?:ier|\.)?|f[ée]v(?:rier|r?\.)?|mars|avr(?:il|\.)?|mai|juin|juil(?:let|\.)?|ao[uû]t|sept(?:embre|\.)?|oct(?:obre|\.)?|nov(?:embre|\.)?|d[ée]c(?:embre|\.)?)(?:\s+(?<my>\d{4}))?
        )
        \s*\)?\s*\.?$
        """, RegexOptions.IgnoreCase | RegexOptions.IgnorePatternWhitespace)]
    private static partial Regex Trailer();
}
