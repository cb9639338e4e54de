using Opportunites.Web.Mail;
using Opportunites.Web.Subscriptions;

namespace Opportunites.Web.Digests;

/// <summary>One opportunity in a digest or reminder (a class: Dapper maps text[] to properties only).</summary>
public sealed class DigestItem
{
    public long Id { get; init; }
    public string Kind { get; init; } = "";
    public string Title { get; init; } = "";
    public string IssuerName { get; init; } = "";
    public DateOnly? DeadlineDate { get; init; }
    public DateTime? ClosesAt { get; init; }
    public DateTime? PublishedAt { get; init; }
    public bool IsNew { get; init; }
    public string[] TerritoryLabels { get; init; } = [];

    /// <summary>This item's lines as DigestRenderer last wrote them (an item shared by many groups' digests is written
    /// once per run: its link's slug and the HTML escaping were most of a digest run's rendering time).</summary>
    internal DigestItemLines? Lines { get; set; }
}

/// <summary>An item's text and HTML lines, for the settings (site address) they were written with.</summary>
internal sealed record DigestItemLines(AlertSettings Settings, MailFragment Fragment);

public static class OfferLinks
{
    /// <summary>
    /// The public detail route: /offres/{id}-{slug}, with the board's own slug rule (Board.Slugs), so that a link
    /// from an email is the canonical address and not a redirect to it.
    /// </summary>
    public static string DetailPath(long id, string title) => $"/offres/{id}-{Board.Slugs.From(title)}";
}
