using System.Net;

namespace Opportunites.Tests.Infrastructure;

/// <summary>Whether the public board lists an offer, looked up the way a visitor would: by searching its title.</summary>
public static class BoardLookup
{
    /// <remarks>
    /// Searched rather than read off the first page, which other tests' offers can fill; read from the results list
    /// only, because the search box echoes the text searched for.
    /// </remarks>
    public static async Task<bool> IsListedAsync(HttpClient client, string title, string path = "/offres")
    {
        var html = await client.GetStringAsync(path + "?q=" + Uri.EscapeDataString(title));
        var start = html.IndexOf("<ol class=\"results\">", StringComparison.Ordinal);
        if (start < 0)
        {
            return false;
        }

        var end = html.IndexOf("</ol>", start, StringComparison.Ordinal);
        return WebUtility.HtmlDecode(html[start..end]).Contains(title, StringComparison.Ordinal);
    }
}
