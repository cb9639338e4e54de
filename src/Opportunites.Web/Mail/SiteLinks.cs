using Microsoft.Extensions.Options;

namespace Opportunites.Web.Mail;

/// <summary>The <c>Site</c> settings section.</summary>
public sealed class SiteSettings
{
    /// <summary>Public address of the site, e.g. https://opportunites.example.org (Site__BaseUrl).</summary>
    public string BaseUrl { get; set; } = "http://127.0.0.1:5080";
}

/// <summary>
/// Absolute links for what is read outside the site (emails, feeds, API answers, JSON-LD): built from Site:BaseUrl,
/// never from the request's Host header, which the client chooses.
/// </summary>
public sealed class SiteLinks(IOptions<SiteSettings> settings)
{
    /// <summary>Site:BaseUrl without its trailing slash.</summary>
    public string BaseUrl => settings.Value.BaseUrl.TrimEnd('/');

    public string Absolute(string path) => BaseUrl + "/" + path.TrimStart('/');

    /// <summary>The public page of an opportunity.</summary>
    public string Opportunity(long id) => Absolute($"/offres/{id}");
}
