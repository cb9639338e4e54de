using System.Globalization;

namespace Opportunites.Web.Shared;

/// <summary>Users are in France: every date they read or type is Europe/Paris, written JJ/MM/AAAA.</summary>
public static class ParisTime
{
    public static readonly TimeZoneInfo Zone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
    public static readonly CultureInfo French = CultureInfo.GetCultureInfo("fr-FR");

    public static DateTime ToParis(DateTimeOffset instant) => TimeZoneInfo.ConvertTime(instant, Zone).DateTime;

    public static DateOnly Today(TimeProvider clock) => DateOnly.FromDateTime(ToParis(clock.GetUtcNow()));

    public static string FormatDate(DateOnly date) => date.ToString("dd/MM/yyyy", CultureInfo.InvariantCulture);

    public static string FormatDate(DateTimeOffset instant) => ToParis(instant).ToString("dd/MM/yyyy", CultureInfo.InvariantCulture);

    public static string FormatDateTime(DateTimeOffset instant) => ToParis(instant).ToString("dd/MM/yyyy 'à' HH'h'mm", CultureInfo.InvariantCulture);

    /// <summary>Parses JJ/MM/AAAA (also J/M/AAAA) as typed by French users.</summary>
    public static bool TryParseDate(string? text, out DateOnly date) =>
        DateOnly.TryParseExact(text?.Trim(), ["dd/MM/yyyy", "d/M/yyyy", "yyyy-MM-dd"], CultureInfo.InvariantCulture,
            DateTimeStyles.None, out date);
}
