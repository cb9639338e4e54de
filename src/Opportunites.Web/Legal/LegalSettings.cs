namespace Opportunites.Web.Legal;

/// <summary>
/// Who publishes and hosts the site and how to reach the team (section <c>Legal</c>): the legal notice, the privacy
/// page and every "contactez l'équipe" message read them from here. The defaults are placeholders for a deployment
/// to override (Legal__PublisherName, Legal__ContactEmail…).
/// </summary>
public sealed class LegalSettings
{
    public string PublisherName { get; set; } = "Centre de ressources politique de la ville";

    public string PublisherAddress { get; set; } = "Adresse postale à renseigner (Legal__PublisherAddress)";

    public string PublicationDirector { get; set; } = "La direction du centre de ressources";

    /// <summary>Address for questions, organisation requests and data rights (mailto on /contact).</summary>
    public string ContactEmail { get; set; } = "contact@opportunites.invalid";

    public string HostName { get; set; } = "Hébergeur à renseigner (Legal__HostName)";

    public string HostAddress { get; set; } = "Adresse de l'hébergeur à renseigner (Legal__HostAddress)";
}

public static class LegalExtensions
{
    /// <summary>Legal notice, privacy and contact pages: their settings, bound once.</summary>
    public static void AddLegalPages(this WebApplicationBuilder builder) =>
        builder.Services.AddOptions<LegalSettings>().BindConfiguration("Legal");
}
