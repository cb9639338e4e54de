using System.Globalization;
using System.Text;
using System.Xml;
using Ical.Net.CalendarComponents;
using Ical.Net.DataTypes;
using Ical.Net.Serialization;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Shared;
using Calendar = Ical.Net.Calendar;

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
/// iCalendar (RFC 5545) of deadlines, written by Ical.Net: one event per offer that has one, stable UID per offer,
/// Europe/Paris as a VTIMEZONE from the time-zone database when an event has an hour.
/// </summary>
public static class IcsCalendar
{
    private const string ParisZone = "Europe/Paris";

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
        var calendar = new Calendar { Method = "PUBLISH", ProductId = "-//Opportunites//Offres//FR", Scale = "GREGORIAN" };
        calendar.AddProperty("X-WR-CALNAME", name);
        calendar.AddProperty("X-WR-TIMEZONE", ParisZone);
        if (list.Where(e => e.DeadlineTime is not null).Select(e => (DateOnly?)e.Deadline).Min() is { } first)
        {
            calendar.AddTimeZone(VTimeZone.FromDateTimeZone(ParisZone, first.ToDateTime(TimeOnly.MinValue), includeHistoricalData: false));
        }

        foreach (var e in list)
        {
            var stamp = new CalDateTime(DateTime.SpecifyKind(e.UpdatedAt, DateTimeKind.Utc));
            var ev = new CalendarEvent
            {
                // Stable per offer: a calendar that refreshes the feed moves the event when the deadline changes.
                Uid = $"opportunite-{e.Id}@{host}",
                DtStamp = stamp,
                LastModified = stamp,
                Summary = $"Date limite : [{Kinds.Label(e.Kind)}] {e.Title}",
                Description = $"{e.IssuerName}\n{string.Join(", ", e.TerritoryNames)}\n{Deadlines.Until(e.Deadline, e.DeadlineTime)}\n{e.Url}",
                Url = new Uri(e.Url),
            };
            if (e.DeadlineTime is { } t)
            {
                ev.DtStart = new CalDateTime(e.Deadline, t, ParisZone);
            }
            else
            {
                ev.DtStart = new CalDateTime(e.Deadline);
                ev.DtEnd = new CalDateTime(e.Deadline.AddDays(1));
            }

            ev.AddProperty("TRANSP", "TRANSPARENT");
            calendar.Events.Add(ev);
        }

        // Ical.Net folds every 75 UTF-16 units and so splits a character outside the BMP (an emoji in a title) into two
        // lone surrogates, which UTF-8 turns into U+FFFD: its lines are unfolded and folded again by octets.
        var text = new CalendarSerializer().SerializeToString(calendar) ?? "";
        var sb = new StringBuilder(text.Length + text.Length / 60);
        foreach (var line in text.Replace("\r\n ", "", StringComparison.Ordinal).Split("\r\n", StringSplitOptions.RemoveEmptyEntries))
        {
            Fold(sb, line);
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }

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
