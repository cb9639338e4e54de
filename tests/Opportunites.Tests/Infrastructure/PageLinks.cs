using System.Net;
using System.Text.RegularExpressions;

namespace Opportunites.Tests.Infrastructure;

/// <summary>A link as a reader sees it: its target (entities decoded) and its visible text.</summary>
public sealed record PageLink(string Href, string Text);

/// <summary>
/// The links of a rendered page or of an email's HTML body, read from the markup the app wrote, so that tests follow
/// what a visitor would click instead of rebuilding the expected address by hand.
/// </summary>
public static partial class PageLinks
{
    public static IReadOnlyList<PageLink> All(string html) =>
        Anchor().Matches(html)
            .Select(m => new PageLink(WebUtility.HtmlDecode(m.Groups["href"].Value),
                WebUtility.HtmlDecode(Tags().Replace(m.Groups["text"].Value, "")).Trim()))
            .ToList();

    /// <summary>The one link whose visible text is <paramref name="text"/>; fails the test when there is none or several.</summary>
    public static string Named(string html, string text)
    {
        var links = All(html).Where(l => l.Text == text).Select(l => l.Href).Distinct().ToList();
        Assert.That(links, Has.Count.EqualTo(1), $"un lien « {text} » attendu");
        return links[0];
    }

    /// <summary>Path and query of an absolute link of the app (emails, feeds), to GET it on the test server.</summary>
    public static string Local(string href) =>
        // Not Uri.TryCreate(…, Absolute): on Unix it reads "/offres?…" as a file path.
        href.StartsWith("http", StringComparison.Ordinal) ? new Uri(href).PathAndQuery : href;

    [GeneratedRegex("""<a\s[^>]*?href="(?<href>[^"]*)"[^>]*>(?<text>.*?)</a>""", RegexOptions.Singleline)]
    private static partial Regex Anchor();

    [GeneratedRegex("<[^>]+>")]
    private static partial Regex Tags();
}
