using Microsoft.Extensions.Options;

namespace Opportunites.Web.Mail;

/// <summary>The <c>Site</c> settings section.</summary>
public sealed class SiteSettings
{
    /// <summary>Public address of the site, e.g. https://opportunites.example.org (Site__BaseUrl).</summary>
    public string BaseUrl { get; set; } = "http://127.0.0.1:5080";
}

/// <summary>Absolute links for emails, which are read outside the site: built from Site:BaseUrl.</summary>
public sealed class SiteLinks(IOptions<SiteSettings> settings)
{
    public string Absolute(string path) =>
        settings.Value.BaseUrl.TrimEnd('/') + "/" + path.TrimStart('/');

    /// <summary>The public page of an opportunity.</summary>
    public string Opportunity(long id) => Absolute($"/offres/{id}");
}
