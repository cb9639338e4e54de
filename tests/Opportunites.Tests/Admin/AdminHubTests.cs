using System.Net;
using System.Text.RegularExpressions;
using Dapper;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Accounts;
using Opportunites.Web.Mail;
using static Opportunites.Tests.Infrastructure.WebForms;

namespace Opportunites.Tests.Admin;

/// <summary>Issue 21, items 9 and 11: the admin hub and menu, accent-insensitive admin searches, mail by address.</summary>
public sealed partial class AdminHubTests
{
    private AppFactory app = null!;

    [OneTimeSetUp]
    public void Start() => app = new AppFactory();

    [OneTimeTearDown]
    public async Task Stop() => await app.DisposeAsync();

    [GeneratedRegex("<main[^>]*>(.*)</main>", RegexOptions.Singleline)]
    private static partial Regex MainElement();

    [GeneratedRegex("<nav aria-label=\"Navigation principale\">(.*?)</nav>", RegexOptions.Singleline)]
    private static partial Regex Menu();

    [GeneratedRegex("href=\"(/admin[^\"]*)\"")]
    private static partial Regex AdminLink();

    [Test]
    public async Task Hub_Admin_LinksEveryAdminPageAndEachOpens()
    {
        var (admin, _) = await TestUsers.LoggedInAsync(app, Policies.AdminRole);

        var hub = await admin.GetAsync("/admin");
        var main = MainElement().Match(await hub.Content.ReadAsStringAsync()).Groups[1].Value;
        var links = AdminLink().Matches(main).Select(m => m.Groups[1].Value).ToList();

        Assert.That(hub.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(links, Is.SupersetOf(new[]
        {
            "/admin/moderation", "/admin/moderation/organisations", "/admin/moderation/journal", "/admin/import",
            "/admin/export", "/admin/taches", "/admin/courriels", "/admin/alertes",
        }));
        foreach (var link in links)
        {
            var page = await admin.GetAsync(link);
            Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.OK), link);
        }

        admin.Dispose();
    }

    [Test]
    public async Task Hub_Issuer_Refused()
    {
        var (issuer, _) = await TestUsers.LoggedInAsync(app);

        var response = await issuer.GetAsync("/admin");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(response.Headers.Location!.ToString(), Does.Contain("/acces-refuse"));
        issuer.Dispose();
    }

    [Test]
    public async Task Menu_AdminWithoutOrganisation_AdministrationNotIssuerSpace()
    {
        var (admin, _) = await TestUsers.LoggedInAsync(app, Policies.AdminRole);

        var menu = Menu().Match(await admin.GetStringAsync("/alertes")).Groups[1].Value;

        Assert.That(menu, Does.Contain("href=\"/admin\""));
        Assert.That(menu, Does.Not.Contain("href=\"/espace\""));
        Assert.That(menu, Does.Contain("href=\"/publier\""));
        admin.Dispose();
    }

    [Test]
    public async Task Menu_IssuerAndVisitor_PublishLinkNoAdministration()
    {
        var (issuer, _) = await TestUsers.LoggedInAsync(app);
        var visitor = CreateClient(app);

        var issuerMenu = Menu().Match(await issuer.GetStringAsync("/alertes")).Groups[1].Value;
        var visitorMenu = Menu().Match(await visitor.GetStringAsync("/alertes")).Groups[1].Value;

        Assert.That(issuerMenu, Does.Contain("href=\"/espace\"").And.Not.Contain("href=\"/admin\""));
        Assert.That(visitorMenu, Does.Contain("href=\"/publier\">Publier une offre<").And.Not.Contain("href=\"/admin\""));
        issuer.Dispose();
        visitor.Dispose();
    }

    [Test]
    public async Task ModerationSearch_WithoutAccents_FindsAccentedIssuerAndTitle()
    {
        var (admin, _) = await TestUsers.LoggedInAsync(app, Policies.AdminRole);
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var issuerId = await TestData.CreateIssuerAsync(SharedDatabase.DataSource, $"Ville de Bègles {suffix}", "collectivite");
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, $"Éducateur spécialisé {suffix}", ["33"], "emploi",
            issuerId: issuerId, status: "pending");

        var byIssuer = await GetTextAsync(admin, $"/admin/moderation?q=ville+de+begles+{suffix}");
        var byTitle = await GetTextAsync(admin, $"/admin/moderation?q=EDUCATEUR+specialise+{suffix}");
        var organisations = await GetTextAsync(admin, $"/admin/moderation/organisations?q=begles+{suffix}");

        Assert.That(byIssuer, Does.Contain("Résultats (1)"));
        Assert.That(byTitle, Does.Contain("Résultats (1)"));
        Assert.That(organisations, Does.Contain($"Ville de Bègles {suffix}"));
        admin.Dispose();
    }

    private static async Task<long> EnqueueAsync(string category, string to, string subject, string status, string? error = null)
    {
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        var id = (await Outbox.EnqueueAsync(conn, null, new OutgoingEmail(category, to, subject, "texte", "<p>html</p>")))!.Value;
        // As the delivery job leaves them (a private database is not needed: no delivery job runs on this one).
        await conn.ExecuteAsync("""
            UPDATE outbox SET status = @status, sent_at = CASE WHEN @status = 'sent' THEN now() END,
                              last_error = @error, attempts = CASE WHEN @status = 'queued' THEN 0 ELSE 1 END
            WHERE id = @id
            """, new { id, status, error });
        return id;
    }

    [Test]
    public async Task Courriels_SearchByAddress_ListsThatAddressMailInFrench()
    {
        var (admin, _) = await TestUsers.LoggedInAsync(app, Policies.AdminRole);
        var address = $"marie-{Guid.NewGuid():N}@association.example";
        await EnqueueAsync("alert_confirmation", address, "Confirmez votre alerte", "sent");
        await EnqueueAsync("reminder", address, "Rappel : J-7", "failed", "550 boîte pleine");
        await EnqueueAsync("digest", "autre-" + address, "Veille de quelqu'un d'autre", "sent");

        var html = await GetTextAsync(admin, "/admin/courriels?adresse=" + Uri.EscapeDataString(" " + address.ToUpperInvariant()));
        var table = html[html.IndexOf("id=\"recherche\"", StringComparison.Ordinal)..];
        table = table[..table.IndexOf("</table>", StringComparison.Ordinal)];

        Assert.That(html, Does.Contain("2 courriel(s) pour"));
        Assert.That(table, Does.Contain("Confirmation d'alerte").And.Contain("Envoyé le "));
        Assert.That(table, Does.Contain("Rappel de date limite").And.Contain("En échec").And.Contain("550 boîte pleine"));
        Assert.That(table, Does.Not.Contain("quelqu'un d'autre"));
        Assert.That(table, Does.Not.Contain("alert_confirmation"));
        admin.Dispose();
    }

    [Test]
    public async Task Courriels_UnknownAddressOrPartial_SaysSoInFrench()
    {
        var (admin, _) = await TestUsers.LoggedInAsync(app, Policies.AdminRole);

        var none = await GetTextAsync(admin, $"/admin/courriels?adresse=personne-{Guid.NewGuid():N}@example.org");
        var partial = await GetTextAsync(admin, "/admin/courriels?adresse=marie");

        Assert.That(none, Does.Contain("Aucun courriel pour personne-"));
        Assert.That(partial, Does.Contain("Saisissez une adresse complète"));
        admin.Dispose();
    }

    [Test]
    public async Task Courriels_FailedEmails_TypeInFrench()
    {
        var (admin, _) = await TestUsers.LoggedInAsync(app, Policies.AdminRole);
        var address = $"paul-{Guid.NewGuid():N}@example.org";
        await EnqueueAsync("verification", address, "Confirmez votre adresse", "failed", "refusé");

        var html = await GetTextAsync(admin, "/admin/courriels");
        var row = html[html.IndexOf(address, StringComparison.Ordinal)..];
        row = html[html.LastIndexOf("<tr>", html.IndexOf(address, StringComparison.Ordinal), StringComparison.Ordinal)..(html.IndexOf(address, StringComparison.Ordinal) + row.IndexOf("</tr>", StringComparison.Ordinal))];

        Assert.That(row, Does.Contain("Confirmation de compte"));
        Assert.That(row, Does.Not.Contain(">verification<"));
        admin.Dispose();
    }
}
