using System.Net;
using Opportunites.Tests.Infrastructure;
using static Opportunites.Tests.Infrastructure.WebForms;

namespace Opportunites.Tests.Legal;

/// <summary>Issue 21, item 17: legal notice, privacy and contact pages, from settings, linked wherever an email is asked.</summary>
public sealed class LegalPagesTests
{
    private AppFactory app = null!;

    [OneTimeSetUp]
    public void Start() => app = new AppFactory(new Dictionary<string, string>
    {
        ["Legal:PublisherName"] = "Centre de ressources Essai",
        ["Legal:ContactEmail"] = "equipe@centre-essai.example",
        ["Legal:HostName"] = "Hébergeur Essai SAS",
        ["Legal:HostAddress"] = "1 rue de l'Hébergement, 33000 Bordeaux",
    });

    [OneTimeTearDown]
    public async Task Stop() => await app.DisposeAsync();

    [Test]
    public async Task MentionsLegales_Get_PublisherHostAndContactFromSettings()
    {
        var html = await GetTextAsync(CreateClient(app), "/mentions-legales");

        Assert.That(html, Does.Contain("Centre de ressources Essai"));
        Assert.That(html, Does.Contain("Hébergeur Essai SAS").And.Contain("1 rue de l'Hébergement, 33000 Bordeaux"));
        Assert.That(html, Does.Contain("mailto:equipe@centre-essai.example"));
    }

    [Test]
    public async Task Confidentialite_Get_WhatWhyHowLongAndRights()
    {
        var html = await GetTextAsync(CreateClient(app), "/confidentialite");

        Assert.That(html, Does.Contain("effacée automatiquement après 7 jours"));
        Assert.That(html, Does.Contain("preuve de votre consentement"));
        Assert.That(html, Does.Contain("id=\"alertes\"").And.Contain("id=\"rappels\"").And.Contain("id=\"comptes\""));
        Assert.That(html, Does.Contain("Vos droits et comment les exercer").And.Contain("mailto:equipe@centre-essai.example"));
        Assert.That(html, Does.Contain("gardés 30 jours"));
    }

    [Test]
    public async Task Contact_Get_AddressFromSettings()
    {
        var response = await CreateClient(app).GetAsync("/contact");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await TextAsync(response), Does.Contain("href=\"mailto:equipe@centre-essai.example\""));
    }

    [TestCase("/")]
    [TestCase("/offres")]
    [TestCase("/alertes")]
    public async Task Footer_AnyPage_LinksLegalPages(string path)
    {
        var html = await GetTextAsync(CreateClient(app), path);
        var footer = html[html.IndexOf("<footer", StringComparison.Ordinal)..];

        Assert.That(footer, Does.Contain("href=\"/mentions-legales\"").And.Contain("href=\"/confidentialite\"").And.Contain("href=\"/contact\""));
    }

    [Test]
    public async Task EmailForms_AlertsSignUpAndReminder_LinkPrivacyPage()
    {
        var client = CreateClient(app);
        var id = await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, TestData.Unique("AAP rappel"), ["33"],
            deadline: DateOnly.FromDateTime(DateTime.UtcNow.AddDays(40)));

        var alerts = await GetTextAsync(client, "/alertes");
        var signUp = await GetTextAsync(client, "/inscription");
        var offer = System.Net.WebUtility.HtmlDecode(await app.CreateClient().GetStringAsync($"/offres/{id}"));

        Assert.That(MainOf(alerts), Does.Contain("href=\"/confidentialite#alertes\""));
        Assert.That(MainOf(signUp), Does.Contain("href=\"/confidentialite#comptes\""));
        Assert.That(MainOf(offer), Does.Contain("href=\"/confidentialite#rappels\""));
    }

    private static string MainOf(string html) =>
        html[html.IndexOf("<main", StringComparison.Ordinal)..html.IndexOf("</main>", StringComparison.Ordinal)];
}
