using System.Globalization;
using Cronos;
using Opportunites.Web.Shared;

namespace Opportunites.Web.Jobs;

/// <summary>
/// Cron schedules as Hangfire reads them (Cronos, the library it uses: 6 fields with seconds first, or 5), in Europe/Paris:
/// the occurrence a run belongs to, and the schedule in French words for the admin page.
/// </summary>
public static class JobSchedules
{
    public static bool TryParse(string cron, out CronExpression expression)
    {
        var fields = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        expression = null!;
        return fields is 5 or 6 &&
               CronExpression.TryParse(cron, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard, out expression!);
    }

    public static CronExpression Parse(string cron) =>
        TryParse(cron, out var e) ? e : throw new FormatException($"Expression cron invalide : {cron}");

    /// <summary>
    /// The occurrence a scheduled run belongs to: the latest one at or before <paramref name="triggeredAt"/>, the instant
    /// Hangfire's scheduler created the run (its "Time" parameter). That parameter is the scheduler's poll instant, not
    /// the occurrence (unless misfires are Strict, which would also replay every occurrence missed while all nodes were
    /// down — wrong for the delivery sweep): the scheduler only creates a run once an occurrence has come, and never two
    /// runs between two occurrences, so the latest occurrence is the one. Null when the schedule never fires.
    /// </summary>
    public static DateTimeOffset? OccurrenceAt(string cron, DateTimeOffset triggeredAt) =>
        Parse(cron).GetPreviousOccurrence(triggeredAt.ToUniversalTime(), ParisTime.Zone, inclusive: true);

    public static DateTimeOffset? NextAfter(string cron, DateTimeOffset instant) =>
        Parse(cron).GetNextOccurrence(instant.ToUniversalTime(), ParisTime.Zone);

    private static readonly string[] Days = ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"];

    /// <summary>"chaque lundi à 7 h", "toutes les 15 minutes", "jamais"...; the cron itself when it is not a common form.</summary>
    public static string Describe(string cron)
    {
        if (!TryParse(cron, out var expression))
        {
            return $"expression invalide « {cron} »";
        }

        if (expression.GetNextOccurrence(DateTime.UtcNow) is null)
        {
            return "jamais";
        }

        var f = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        if (f.Count == 5)
        {
            f.Insert(0, "0");
        }

        var (sec, min, hour, dom, month, dow) = (f[0], f[1], f[2], f[3], f[4], f[5]);
        static bool Any(string x) => x is "*" or "?";
        var describe = (Any(dom), Any(month), Any(dow)) switch
        {
            (true, true, true) => Frequency(sec, min, hour),
            _ => null,
        };
        if (describe is not null)
        {
            return describe;
        }

        if (!Any(month) || Clock(sec, min, hour) is not { } at)
        {
            return $"selon l'expression cron « {cron} »";
        }

        if (Any(dom) && Weekdays(dow) is { } days)
        {
            return $"{days} à {at}";
        }

        if (Any(dow) && int.TryParse(dom, NumberStyles.None, CultureInfo.InvariantCulture, out var d))
        {
            return $"le {(d == 1 ? "1er" : d.ToString(CultureInfo.InvariantCulture))} de chaque mois à {at}";
        }

        return $"selon l'expression cron « {cron} »";
    }

    private static string? Frequency(string sec, string min, string hour)
    {
        if (Clock(sec, min, hour) is { } at)
        {
            return $"chaque jour à {at}";
        }

        return (sec, min, hour) switch
        {
            ("*", "*", "*") => "chaque seconde",
            (_, "*", "*") when Step(sec) is { } n => n == 1 ? "chaque seconde" : $"toutes les {n} secondes",
            ("0", "*", "*") => "chaque minute",
            ("0", _, "*") when Step(min) is { } n => n == 1 ? "chaque minute" : $"toutes les {n} minutes",
            ("0", "0", "*") => "chaque heure",
            ("0", "0", _) when Step(hour) is { } n => n == 1 ? "chaque heure" : $"toutes les {n} heures",
            ("0", _, "*") when Number(min) is { } m => $"chaque heure à la minute {m}",
            _ => null,
        };
    }

    /// <summary>"0/15" or "*/15" → 15.</summary>
    private static int? Step(string field)
    {
        var parts = field.Split('/');
        return parts.Length == 2 && parts[0] is "0" or "*" && Number(parts[1]) is { } n and > 0 ? n : null;
    }

    private static int? Number(string field) =>
        int.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;

    /// <summary>"7 h", "7 h 30"; null unless the time is one fixed instant of the day (seconds 0).</summary>
    private static string? Clock(string sec, string min, string hour) =>
        sec == "0" && Number(min) is { } m && Number(hour) is { } h && h < 24 && m < 60
            ? m == 0 ? $"{h} h" : $"{h} h {m:00}"
            : null;

    private static readonly Dictionary<string, int> DayNumbers = new(StringComparer.OrdinalIgnoreCase)
    {
        ["SUN"] = 0,
        ["MON"] = 1,
        ["TUE"] = 2,
        ["WED"] = 3,
        ["THU"] = 4,
        ["FRI"] = 5,
        ["SAT"] = 6,
        ["0"] = 0,
        ["1"] = 1,
        ["2"] = 2,
        ["3"] = 3,
        ["4"] = 4,
        ["5"] = 5,
        ["6"] = 6,
        ["7"] = 0,
    };

    /// <summary>"chaque lundi", "chaque lundi et jeudi", "du lundi au vendredi".</summary>
    private static string? Weekdays(string dow)
    {
        var range = dow.Split('-');
        if (range.Length == 2 && DayNumbers.TryGetValue(range[0], out var from) && DayNumbers.TryGetValue(range[1], out var to))
        {
            return $"du {Days[from]} au {Days[to]}";
        }

        var list = dow.Split(',');
        if (list.Any(d => !DayNumbers.ContainsKey(d)))
        {
            return null;
        }

        var names = list.Select(d => Days[DayNumbers[d]]).ToList();
        return "chaque " + (names.Count == 1 ? names[0] : string.Join(", ", names[..^1]) + " et " + names[^1]);
    }
}
