using System.Net;
using System.Text.RegularExpressions;

namespace Opportunites.Tests.Infrastructure;

/// <summary>Drives Razor Pages forms over HTTP as a browser would: antiforgery token from the page, cookies kept by the client.</summary>
public static partial class WebForms
{
    /// <summary>A client that keeps cookies and shows redirects (303/302) instead of following them.</summary>
    public static HttpClient CreateClient(Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> app) =>
        app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    /// <summary>A date <paramref name="days"/> from today as the forms take it (JJ/MM/AAAA).</summary>
    public static string InDays(int days) =>
        DateTime.UtcNow.AddDays(days).ToString("dd/MM/yyyy", System.Globalization.CultureInfo.InvariantCulture);

    public static string GetAntiforgeryToken(string html)
    {
        var m = TokenRegex().Match(html);
        return m.Success ? WebUtility.HtmlDecode(m.Groups[1].Value) : throw new InvalidOperationException("Pas de jeton antiforgery dans la page.");
    }

    /// <summary>GETs <paramref name="formPage"/> for its token, then POSTs the fields to <paramref name="postTo"/> (default: the same page).</summary>
    public static async Task<HttpResponseMessage> PostAsync(HttpClient client, string formPage,
        IEnumerable<KeyValuePair<string, string>> fields, string? postTo = null)
    {
        var page = await client.GetAsync(formPage);
        var html = await page.Content.ReadAsStringAsync();
        if (page.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"GET {formPage} → {(int)page.StatusCode}");
        }

        return await PostWithTokenAsync(client, postTo ?? formPage, GetAntiforgeryToken(html), fields);
    }

    public static Task<HttpResponseMessage> PostWithTokenAsync(HttpClient client, string url, string token,
        IEnumerable<KeyValuePair<string, string>> fields) =>
        client.PostAsync(url, new FormUrlEncodedContent(fields.Append(new("__RequestVerificationToken", token))));

    /// <summary>The page as a reader sees it: HTML entities (&#x27; for ') decoded.</summary>
    public static async Task<string> TextAsync(HttpResponseMessage response) =>
        WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());

    public static async Task<string> GetTextAsync(HttpClient client, string url) =>
        WebUtility.HtmlDecode(await client.GetStringAsync(url));

    public static KeyValuePair<string, string> F(string name, string value) => new(name, value);

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenRegex();
}
