using Markdig;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Opportunites.Web.Board;

/// <summary>
/// Descriptions are written by issuers: Markdown with raw HTML disabled (typed tags come out as text), and links
/// limited to http(s), mailto and tel so that "javascript:" never reaches a page.
/// </summary>
public static class MarkdownRenderer
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder()
        .DisableHtml()
        .UseAutoLinks()
        .UseSoftlineBreakAsHardlineBreak()
        .Build();

    public static string ToHtml(string markdown)
    {
        var document = Markdown.Parse(markdown, Pipeline);
        foreach (var link in document.Descendants<LinkInline>())
        {
            if (!IsSafe(link.Url))
            {
                link.Url = "#";
            }

            // Issuer-provided images would load third-party content on our page: show them as links.
            link.IsImage = false;
        }

        foreach (var link in document.Descendants<AutolinkInline>())
        {
            if (!IsSafe(link.Url))
            {
                link.Url = "#";
            }
        }

        return document.ToHtml(Pipeline);
    }

    private static bool IsSafe(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return true;
        }

        var u = url.Trim();
        return u.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
            || u.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
            || u.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase)
            || u.StartsWith("tel:", StringComparison.OrdinalIgnoreCase)
            || u.StartsWith('#')
            || (u.StartsWith('/') && !u.StartsWith("//", StringComparison.Ordinal));
    }
}
