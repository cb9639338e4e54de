using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Opportunites.Web.Mail;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Shared;
using Opportunites.Web.Subscriptions;

namespace Opportunites.Web.Digests;

/// <summary>
/// A digest body shared by every subscriber with the same preferences; personal links are placeholders, and so is the
/// link to the board search of the group's preferences (<see cref="BoardUrl"/>): groups whose offers are the same
/// (neighbouring communes without offers of their own) render the same bytes, stored once. Each offer's lines are a
/// <see cref="MailFragment"/>, shared by every body listing it, with a marker line in its place in the body. The bodies
/// are kept as UTF-8, what the outbox stores and the message is encoded from (<see cref="Text"/> and <see cref="Html"/>
/// put the fragments in place and decode them, for the previews).
/// </summary>
public sealed record RenderedDigest(string Subject, byte[] TextUtf8, byte[] HtmlUtf8, IReadOnlyList<MailFragment> Fragments,
    int NewCount, int ClosingCount, string BoardUrl)
{
    public const string ManagePlaceholder = "{{lien-gerer}}";
    public const string UnsubscribePlaceholder = "{{lien-desinscription}}";
    public const string BoardPlaceholder = "{{lien-selection}}";

    /// <summary>The placeholders of every digest body, in the order of each email's values.</summary>
    public static readonly string[] Placeholders = [ManagePlaceholder, UnsubscribePlaceholder, BoardPlaceholder];

    public string Text => MailFragment.Expand(TextUtf8, Fragments, html: false);

    public string Html => MailFragment.Expand(HtmlUtf8, Fragments, html: true);

    /// <summary>The body's identity: equal bytes, equal id, whichever groups rendered them (SHA-256, 128 bits kept).</summary>
    public Guid ContentId()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(Subject + "\n"));
        hash.AppendData(TextUtf8);
        hash.AppendData("\n"u8);
        hash.AppendData(HtmlUtf8);
        Span<byte> id = stackalloc byte[16];
        foreach (var fragment in Fragments)
        {
            fragment.Id.TryWriteBytes(id);
            hash.AppendData(id);
        }

        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        return new Guid(digest[..16]);
    }

    /// <summary>One email's values of <see cref="Placeholders"/>, plain for the text part and escaped for the HTML one.</summary>
    public (string[] Texts, string[] Htmls) Values(string manageUrl, string unsubscribeUrl) =>
        ([manageUrl, unsubscribeUrl, BoardUrl], [MailHtml.Encode(manageUrl), MailHtml.Encode(unsubscribeUrl), _boardUrlHtml]);

    // Shared by the group's emails: escaped once.
    private readonly string _boardUrlHtml = MailHtml.Encode(BoardUrl);

    /// <summary>The same body for another group, with that group's board link. Not <c>with</c>: it would copy
    /// <see cref="_boardUrlHtml"/>, escaped from the first group's link.</summary>
    public RenderedDigest ForBoard(string boardUrl) => new(Subject, TextUtf8, HtmlUtf8, Fragments, NewCount, ClosingCount, boardUrl);

    public (string Text, string Html) Personalize(string manageUrl, string unsubscribeUrl)
    {
        var (texts, htmls) = Values(manageUrl, unsubscribeUrl);
        return (Outbox.Personalise(Text, Placeholders, texts, 0), Outbox.Personalise(Html, Placeholders, htmls, 0));
    }
}

/// <summary>French html + text digest from one model, grouped by kind.</summary>
public static class DigestRenderer
{
    public static RenderedDigest Render(DigestPreferences prefs, DateOnly periodStart, IReadOnlyList<DigestItem> newItems,
        IReadOnlyList<DigestItem> closingItems, int newTotal, int closingTotal, AlertSettings settings)
    {
        // A run renders one body per preference group (~15,000 at 100,000 subscribers): the builders are kept from one
        // body to the next (per thread; rendering does not await) and each body is encoded straight into one UTF-8
        // array. New builders and a string per body were two thirds of a digest run's allocations (dotnet-trace).
        var text = t_text ?? new StringBuilder();
        var html = t_html ?? new StringBuilder();
        t_text = t_html = null;
        try
        {
            return Render(text, html, prefs, periodStart, newItems, closingItems, newTotal, closingTotal, settings);
        }
        finally
        {
            // A body far larger than a digest's (items per section are capped) is not worth keeping a buffer for.
            if (text.Capacity <= MaxKeptCapacity && html.Capacity <= MaxKeptCapacity)
            {
                t_text = text.Clear();
                t_html = html.Clear();
            }
        }
    }

    private const int MaxKeptCapacity = 1 << 20;

    [ThreadStatic]
    private static StringBuilder? t_text;

    [ThreadStatic]
    private static StringBuilder? t_html;

    private static RenderedDigest Render(StringBuilder text, StringBuilder html, DigestPreferences prefs, DateOnly periodStart,
        IReadOnlyList<DigestItem> newItems, IReadOnlyList<DigestItem> closingItems, int newTotal, int closingTotal, AlertSettings settings)
    {
        var subject = Subject(prefs.Frequency, periodStart, newTotal, closingTotal);
        var fragments = new List<MailFragment>(newItems.Count + closingItems.Count);
        // The document is written around the body in the same builder.
        MailHtml.DocumentStart(html, subject);
        var heading = prefs.Frequency == Frequencies.Daily
            ? $"Votre veille du {DayLabel(periodStart)}"
            : $"Votre veille de la semaine du {DayLabel(periodStart)}";
        text.Append(heading).Append("\n\n");
        html.Append("<h1 style=\"font-size:20px\">").Append(MailHtml.Encode(heading)).Append("</h1>\n");

        if (newItems.Count > 0)
        {
            var title = newTotal == 1 ? "Nouvelle opportunité" : "Nouvelles opportunités";
            Section(text, html, fragments, $"{title} ({newTotal})", newItems, newTotal, settings);
        }

        if (closingItems.Count > 0)
        {
            Section(text, html, fragments, $"Clôture imminente ({closingTotal})", closingItems, closingTotal, settings);
        }

        // The board link is a placeholder, as the personal links: each email carries its group's (RenderedDigest.BoardUrl).
        text.Append("Toutes les offres de votre sélection : ").Append(RenderedDigest.BoardPlaceholder).Append("\n\n");
        text.Append("Gérer mon alerte (territoires, types, thèmes, fréquence, pause) : ").Append(RenderedDigest.ManagePlaceholder).Append('\n');
        text.Append("Me désinscrire : ").Append(RenderedDigest.UnsubscribePlaceholder).Append('\n');
        text.Append("\nVous recevez ce message car vous vous êtes abonné à la veille d'Opportunités.\n");

        html.Append("<p><a href=\"").Append(RenderedDigest.BoardPlaceholder).Append("\">Toutes les offres de votre sélection</a></p>\n");
        html.Append("<hr>\n<p style=\"font-size:13px;color:#555\">Vous recevez ce message car vous vous êtes abonné à la veille d'Opportunités.<br>")
            .Append("<a href=\"").Append(RenderedDigest.ManagePlaceholder).Append("\">Gérer mon alerte</a> · ")
            .Append("<a href=\"").Append(RenderedDigest.UnsubscribePlaceholder).Append("\">Me désinscrire</a></p>\n");

        return new RenderedDigest(subject, ToUtf8(text), ToUtf8(MailHtml.DocumentEnd(html)), fragments, newTotal, closingTotal,
            settings.Url(BoardPath(prefs)));
    }

    /// <summary>The builder's text as UTF-8, in an array of exactly its size (a pair of characters split between two
    /// chunks is encoded whole: the encoder keeps state from one chunk to the next).</summary>
    internal static byte[] ToUtf8(StringBuilder sb)
    {
        var encoder = Encoding.UTF8.GetEncoder();
        var rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(sb.Length));
        try
        {
            var written = 0;
            foreach (var chunk in sb.GetChunks())
            {
                written += encoder.GetBytes(chunk.Span, rented.AsSpan(written), flush: false);
            }

            written += encoder.GetBytes([], rented.AsSpan(written), flush: true);
            return rented.AsSpan(0, written).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>"5 nouvelles opportunités, 2 clôtures proches — semaine du 23 novembre".</summary>
    public static string Subject(string frequency, DateOnly periodStart, int newCount, int closingCount)
    {
        var parts = new List<string>();
        if (newCount > 0)
        {
            parts.Add(newCount == 1 ? "1 nouvelle opportunité" : $"{newCount} nouvelles opportunités");
        }

        if (closingCount > 0)
        {
            parts.Add(closingCount == 1 ? "1 clôture proche" : $"{closingCount} clôtures proches");
        }

        var when = frequency == Frequencies.Daily ? DayLabel(periodStart) : "semaine du " + DayLabel(periodStart);
        return $"{string.Join(", ", parts)} — {when}";
    }

    /// <summary>The board with the subscriber's filters: /offres?territoire=33&amp;type=aap&amp;theme=culture.</summary>
    public static string BoardPath(DigestPreferences prefs)
    {
        var query = prefs.TerritoryCodes.Select(t => "territoire=" + Uri.EscapeDataString(t)).ToList();
        if (prefs.Kinds.Count < Kinds.All.Count)
        {
            query.AddRange(prefs.Kinds.Select(k => "type=" + Uri.EscapeDataString(k)));
        }

        query.AddRange(prefs.Themes.Select(t => "theme=" + Uri.EscapeDataString(t)));
        // The board shows what the digest holds: without the wider offers when the subscriber left them out.
        if (!prefs.IncludeWider)
        {
            query.Add("portee=local");
        }

        return "/offres?" + string.Join("&", query);
    }

    public static string DeadlineLabel(DigestItem item) =>
        item.DeadlineDate is { } d ? "Jusqu'au " + ParisTime.FormatDate(d) : "Sans date limite";

    private static string DayLabel(DateOnly day) => day.ToString("d MMMM", ParisTime.French);

    private static void Section(StringBuilder text, StringBuilder html, List<MailFragment> fragments, string title,
        IReadOnlyList<DigestItem> items, int total, AlertSettings settings)
    {
        text.Append("== ").Append(title).Append(" ==\n\n");
        html.Append("<h2 style=\"font-size:18px\">").Append(MailHtml.Encode(title)).Append("</h2>\n");
        foreach (var kind in Kinds.All)
        {
            var ofKind = items.Where(i => i.Kind == kind).ToList();
            if (ofKind.Count == 0)
            {
                continue;
            }

            var kindTitle = KindHeading(kind);
            text.Append(kindTitle).Append('\n');
            html.Append("<h3 style=\"font-size:16px\">").Append(MailHtml.Encode(kindTitle)).Append("</h3>\n<ul>\n");
            foreach (var i in ofKind)
            {
                var lines = i.Lines is { } l && ReferenceEquals(l.Settings, settings) ? l : i.Lines = ItemLines(i, settings);
                text.Append(MailFragment.Marker);
                html.Append(MailFragment.Marker);
                fragments.Add(lines.Fragment);
            }

            html.Append("</ul>\n");
        }

        if (total > items.Count)
        {
            var more = total - items.Count;
            text.Append($"… et {more} autre(s) : ").Append(RenderedDigest.BoardPlaceholder).Append("\n\n");
            html.Append("<p><a href=\"").Append(RenderedDigest.BoardPlaceholder).Append($"\">… et {more} autre(s) sur le site</a></p>\n");
        }
    }

    private static DigestItemLines ItemLines(DigestItem i, AlertSettings settings)
    {
        var url = settings.Url(OfferLinks.DetailPath(i.Id, i.Title));
        var territory = string.Join(", ", i.TerritoryLabels);
        var text = new StringBuilder()
            .Append("- ").Append(i.Title).Append('\n')
            .Append("  ").Append(i.IssuerName).Append(" · ").Append(territory).Append(" · ").Append(DeadlineLabel(i)).Append('\n')
            .Append("  ").Append(url).Append("\n\n");
        var html = new StringBuilder()
            .Append("<li style=\"margin-bottom:10px\"><a href=\"").Append(MailHtml.Encode(url)).Append("\"><strong>")
            .Append(MailHtml.Encode(i.Title)).Append("</strong></a><br>")
            .Append(MailHtml.Encode(i.IssuerName)).Append(" · ").Append(MailHtml.Encode(territory)).Append(" · ")
            .Append(MailHtml.Encode(DeadlineLabel(i))).Append("</li>\n");
        return new DigestItemLines(settings, MailFragment.Of(text.ToString(), html.ToString()));
    }

    private static string KindHeading(string kind) => kind switch
    {
        Kinds.Emploi => "Offres d'emploi",
        Kinds.Aap => "Appels à projets",
        Kinds.Ami => "Appels à manifestation d'intérêt",
        _ => kind,
    };
}
