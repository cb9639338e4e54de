using System.Globalization;
using System.Text;
using System.Xml;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Shared;

namespace Opportunites.Web.Board;

/// <summary>RSS 2.0 of a search: one item per offer, links absolute, text escaped by the XML writer.</summary>
public static class RssFeed
{
    public static byte[] Write(IReadOnlyList<OpportunityListItem> items, string baseUrl, string listUrl, string title,
        DateTimeOffset now)
    {
        using var stream = new MemoryStream();
        var settings = new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = true };
        using (var w = XmlWriter.Create(stream, settings))
        {
            w.WriteStartDocument();
            w.WriteStartElement("rss");
            w.WriteAttributeString("version", "2.0");
            w.WriteAttributeString("xmlns", "atom", null, "http://www.w3.org/2005/Atom");
            w.WriteStartElement("channel");
            w.WriteElementString("title", title);
            w.WriteElementString("link", baseUrl + listUrl);
            w.WriteElementString("description", "Offres d'emploi, appels à projets et appels à manifestation d'intérêt.");
            w.WriteElementString("language", "fr-FR");
            w.WriteElementString("lastBuildDate", now.ToUniversalTime().ToString("r", CultureInfo.InvariantCulture));
            w.WriteStartElement("atom", "link", "http://www.w3.org/2005/Atom");
            w.WriteAttributeString("href", baseUrl + listUrl.Replace("/offres", "/offres/flux.rss", StringComparison.Ordinal));
            w.WriteAttributeString("rel", "self");
            w.WriteAttributeString("type", "application/rss+xml");
            w.WriteEndElement();
            foreach (var o in items)
            {
                w.WriteStartElement("item");
                w.WriteElementString("title", $"[{Kinds.Label(o.Kind)}] {o.Title}");
                w.WriteElementString("link", baseUrl + o.Path);
                w.WriteStartElement("guid");
                w.WriteAttributeString("isPermaLink", "false");
                w.WriteString($"{baseUrl}/offres/{o.Id}");
                w.WriteEndElement();
                w.WriteElementString("category", Kinds.LongLabel(o.Kind));
                if (o.PublishedAt is { } published)
                {
                    w.WriteElementString("pubDate", DateTime.SpecifyKind(published, DateTimeKind.Utc).ToString("r", CultureInfo.InvariantCulture));
                }

                var place = o.WorkTerritoryLabel is { } work ? $" — Lieu de travail : {work}" : "";
                var summary = $"{o.IssuerName} — {string.Join(", ", o.TerritoryLabels)}{place} — {Deadlines.Until(o.DeadlineDate, o.DeadlineTime)}";
                w.WriteElementString("description", summary + "\n\n" + Excerpt(o.Description, 500));
                w.WriteEndElement();
            }

            w.WriteEndElement();
            w.WriteEndElement();
            w.WriteEndDocument();
        }

        return stream.ToArray();
    }

    internal static string Excerpt(string text, int max)
    {
        if (text.Length <= max)
        {
            return text;
        }

        var cut = text.LastIndexOf(' ', max);
        return text[..(cut > 0 ? cut : max)] + "…";
    }
}

/// <summary>
/// iCalendar (RFC 5545) of deadlines: one event per offer that has one, stable UID per offer, CRLF line ends,
/// text escaped (\\ \; \, \n) and lines folded at 75 octets without splitting a UTF-8 character.
/// </summary>
public static class IcsCalendar
{
    private const string ParisTimeZone = """
        BEGIN:VTIMEZONE
        TZID:Europe/Paris
        BEGIN:DAYLIGHT
        TZOFFSETFROM:+0100
        TZOFFSETTO:+0200
        TZNAME:CEST
        DTSTART:19700329T020000
        RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
        END:DAYLIGHT
        BEGIN:STANDARD
        TZOFFSETFROM:+0200
        TZOFFSETTO:+0100
        TZNAME:CET
        DTSTART:19701025T030000
        RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
        END:STANDARD
        END:VTIMEZONE
        """;

    public sealed record Event(long Id, string Kind, string Title, string IssuerName, IReadOnlyList<string> TerritoryNames,
        DateOnly Deadline, TimeOnly? DeadlineTime, DateTime UpdatedAt, string Url);

    public static Event? From(OpportunityListItem o, string baseUrl) =>
        o.DeadlineDate is { } d
            ? new Event(o.Id, o.Kind, o.Title, o.IssuerName, o.TerritoryLabels, d, o.DeadlineTime, o.UpdatedAt, baseUrl + o.Path)
            : null;

    public static Event? From(OpportunityDetail o, string baseUrl) =>
        o.DeadlineDate is { } d
            ? new Event(o.Id, o.Kind, o.Title, o.IssuerName, o.TerritoryLabels, d, o.DeadlineTime, o.UpdatedAt, baseUrl + o.Path)
            : null;

    public static byte[] Write(IEnumerable<Event> events, string name, string host)
    {
        var list = events.ToList();
        var lines = new List<string>
        {
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Opportunites//Offres//FR",
            "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH",
            "X-WR-CALNAME:" + Escape(name),
            "X-WR-TIMEZONE:Europe/Paris",
        };
        if (list.Any(e => e.DeadlineTime is not null))
        {
            lines.AddRange(ParisTimeZone.Split('\n'));
        }

        foreach (var e in list)
        {
            var stamp = DateTime.SpecifyKind(e.UpdatedAt, DateTimeKind.Utc).ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
            lines.Add("BEGIN:VEVENT");
            // Stable per offer: a calendar that refreshes the feed moves the event when the deadline changes.
            lines.Add($"UID:opportunite-{e.Id}@{host}");
            lines.Add("DTSTAMP:" + stamp);
            lines.Add("LAST-MODIFIED:" + stamp);
            if (e.DeadlineTime is { } t)
            {
                lines.Add($"DTSTART;TZID=Europe/Paris:{e.Deadline:yyyyMMdd}T{t:HHmmss}");
            }
            else
            {
                lines.Add($"DTSTART;VALUE=DATE:{e.Deadline:yyyyMMdd}");
                lines.Add($"DTEND;VALUE=DATE:{e.Deadline.AddDays(1):yyyyMMdd}");
            }

            lines.Add("SUMMARY:" + Escape($"Date limite : [{Kinds.Label(e.Kind)}] {e.Title}"));
            var description = $"{e.IssuerName}\n{string.Join(", ", e.TerritoryNames)}\n{Deadlines.Until(e.Deadline, e.DeadlineTime)}\n{e.Url}";
            lines.Add("DESCRIPTION:" + Escape(description));
            lines.Add("URL:" + e.Url);
            lines.Add("TRANSP:TRANSPARENT");
            lines.Add("END:VEVENT");
        }

        lines.Add("END:VCALENDAR");
        var sb = new StringBuilder();
        foreach (var line in lines)
        {
            Fold(sb, line.TrimEnd('\r'));
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>TEXT value escaping of RFC 5545 §3.3.11.</summary>
    public static string Escape(string text) => text
        .Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace(";", "\\;", StringComparison.Ordinal)
        .Replace(",", "\\,", StringComparison.Ordinal)
        .Replace("\r\n", "\\n", StringComparison.Ordinal)
        .Replace("\n", "\\n", StringComparison.Ordinal)
        .Replace("\r", "\\n", StringComparison.Ordinal);

    /// <summary>Writes one content line, folded so that no physical line exceeds 75 octets (§3.1).</summary>
    internal static void Fold(StringBuilder sb, string line)
    {
        var octets = 0;
        var limit = 75;
        foreach (var rune in line.EnumerateRunes())
        {
            var size = rune.Utf8SequenceLength;
            if (octets + size > limit)
            {
                sb.Append("\r\n ");
                // The leading space of a continuation line counts toward its 75 octets.
                octets = 1;
            }

            sb.Append(rune.ToString());
            octets += size;
        }

        sb.Append("\r\n");
    }
}

/// <summary>CSV for Excel in French: ';' separated, UTF-8 with BOM, CRLF, formulas neutralised.</summary>
public static class CsvExport
{
    public static byte[] Write(IReadOnlyList<OpportunityListItem> items, string baseUrl)
    {
        var sb = new StringBuilder();
        Row(sb, ["Identifiant", "Type", "Titre", "Émetteur", "Territoires", "Date limite", "Heure limite", "Publiée le", "Statut", "Lien", "Site de l'émetteur", "Lieu de travail"]);
        foreach (var o in items)
        {
            Row(sb,
            [
                o.Id.ToString(CultureInfo.InvariantCulture),
                Kinds.LongLabel(o.Kind),
                o.Title,
                o.IssuerName,
                string.Join(", ", o.TerritoryLabels),
                o.DeadlineDate is { } d ? ParisTime.FormatDate(d) : "",
                o.DeadlineTime is { } t ? t.ToString("HH':'mm", CultureInfo.InvariantCulture) : "",
                o.PublishedAt is { } p ? ParisTime.FormatDate(new DateTimeOffset(DateTime.SpecifyKind(p, DateTimeKind.Utc))) : "",
                Deadlines.IsClosed(o.Status, o.ClosesAt, DateTimeOffset.UtcNow) ? "Close" : "Ouverte",
                baseUrl + o.Path,
                o.Url ?? "",
                o.WorkTerritoryLabel ?? "",
            ]);
        }

        var bom = Encoding.UTF8.GetPreamble();
        var body = Encoding.UTF8.GetBytes(sb.ToString());
        return [.. bom, .. body];
    }

    private static void Row(StringBuilder sb, IReadOnlyList<string> fields)
    {
        for (var i = 0; i < fields.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(';');
            }

            sb.Append(Field(fields[i]));
        }

        sb.Append("\r\n");
    }

    internal static string Field(string value)
    {
        // A cell starting with = + - @ would run as a formula in a spreadsheet: make it text.
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }

        return value.IndexOfAny([';', '"', '\n', '\r']) >= 0
            ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : value;
    }
}
