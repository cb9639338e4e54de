using System.Net;
using Dapper;
using Opportunites.Tests.Infrastructure;
using Opportunites.Tests.Publishing;
using Opportunites.Web.Accounts;
using static Opportunites.Tests.Infrastructure.WebForms;

namespace Opportunites.Tests.Moderation;

public sealed class ModerationTests
{
    private AppFactory app = null!;

    [OneTimeSetUp]
    public void Start() => app = new AppFactory();

    [OneTimeTearDown]
    public async Task Stop() => await app.DisposeAsync();

    private async Task<(HttpClient Client, TestUser User, long Id, string Title)> PendingOfferAsync()
    {
        var (client, user) = await TestUsers.LoggedInAsync(app);
        var title = TestData.Unique("AAP à modérer");
        var r = await PostAsync(client, "/espace/offres/nouvelle", PostingTests.AapFields(title, InDays(15)));
        return (client, user, long.Parse(r.Headers.Location!.ToString().Split('/')[3], System.Globalization.CultureInfo.InvariantCulture), title);
    }

    private static async Task<string> StatusAsync(long id)
    {
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<string>("SELECT status FROM opportunities WHERE id = @id", new { id }) ?? "";
    }

    [Test]
    public async Task Publish_PendingOffer_OnBoardAndInAuditTrail()
    {
        var (issuer, _, id, title) = await PendingOfferAsync();
        var (admin, adminUser) = await TestUsers.LoggedInAsync(app, Policies.AdminRole);

        var queue = await GetTextAsync(admin, "/admin/moderation");
        Assert.That(queue, Does.Contain(title));
        var r = await PostAsync(admin, "/admin/moderation", [F("id", id.ToString(System.Globalization.CultureInfo.InvariantCulture))], postTo: "/admin/moderation?handler=Publier");

        Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(await StatusAsync(id), Is.EqualTo("published"));
        Assert.That(await BoardLookup.IsListedAsync(admin, title), Is.True);
        var journal = await GetTextAsync(admin, $"/admin/moderation/journal?offre={id}");
        Assert.That(journal, Does.Contain("Offre publiée").And.Contain(adminUser.Email));
        Assert.That(journal, Does.Contain("Offre créée"));
        issuer.Dispose();
        admin.Dispose();
    }

    [Test]
    public async Task Reject_WithReason_EmailedAndShownToIssuer()
    {
        var (issuer, issuerUser, id, title) = await PendingOfferAsync();
        var (admin, _) = await TestUsers.LoggedInAsync(app, Policies.AdminRole);
        var sid = id.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var noReason = await PostAsync(admin, "/admin/moderation", [F("id", sid), F("motif", " ")], postTo: "/admin/moderation?handler=Refuser");
        Assert.That(await TextAsync(noReason), Does.Contain("Indiquez le motif"));
        var r = await PostAsync(admin, "/admin/moderation", [F("id", sid), F("motif", "Date limite à préciser & lien cassé")], postTo: "/admin/moderation?handler=Refuser");

        Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(await StatusAsync(id), Is.EqualTo("draft"));
        var mail = (await OutboxReader.GetAsync(SharedDatabase.DataSource, issuerUser.Email, "moderation")).Single();
        Assert.That(mail.Subject, Does.Contain(title));
        Assert.That(mail.TextBody, Does.Contain("Date limite à préciser & lien cassé"));
        Assert.That(System.Net.WebUtility.HtmlDecode(mail.HtmlBody), Does.Contain("Date limite à préciser & lien cassé"));
        Assert.That(mail.HtmlBody, Does.Contain("&amp; lien cass"));
        Assert.That(await GetTextAsync(issuer, $"/espace/offres/{id}"), Does.Contain("Message de l'équipe de modération : Date limite à préciser & lien cassé"));
        Assert.That(await GetTextAsync(issuer, "/espace"), Does.Contain("Refusée ou retirée par l'équipe : Date limite à préciser & lien cassé"));
        issuer.Dispose();
        admin.Dispose();
    }

    [Test]
    public async Task Trust_Organisation_NextOfferPublishedAtOnce()
    {
        var (issuer, issuerUser, _, _) = await PendingOfferAsync();
        var (admin, _) = await TestUsers.LoggedInAsync(app, Policies.AdminRole);

        var r = await PostAsync(admin, "/admin/moderation/organisations",
            [F("id", issuerUser.IssuerId!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)), F("confiance", "true")]);
        Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        var title = TestData.Unique("AAP après confiance");
        var created = await PostAsync(issuer, "/espace/offres/nouvelle", PostingTests.AapFields(title, InDays(15)));
        var id = long.Parse(created.Headers.Location!.ToString().Split('/')[3], System.Globalization.CultureInfo.InvariantCulture);

        Assert.That(await StatusAsync(id), Is.EqualTo("published"));
        Assert.That(await GetTextAsync(admin, "/admin/moderation/journal"), Does.Contain("Organisation de confiance").And.Contain(issuerUser.IssuerName!));
        issuer.Dispose();
        admin.Dispose();
    }

    [Test]
    public async Task Admin_EditAndUnpublishAnyOffer()
    {
        var (issuer, issuerUser) = await TestUsers.LoggedInAsync(app, trusted: true);
        var title = TestData.Unique("AAP publié par l'émetteur");
        var created = await PostAsync(issuer, "/espace/offres/nouvelle", PostingTests.AapFields(title, InDays(15)));
        var id = long.Parse(created.Headers.Location!.ToString().Split('/')[3], System.Globalization.CultureInfo.InvariantCulture);
        var (admin, _) = await TestUsers.LoggedInAsync(app, Policies.AdminRole);

        var edited = await PostAsync(admin, $"/espace/offres/{id}/modifier", PostingTests.AapFields(title + " corrigé", InDays(16)));
        Assert.That(edited.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(await BoardLookup.IsListedAsync(admin, title + " corrigé"), Is.True);
        var unpublished = await PostAsync(admin, "/admin/moderation",
            [F("id", id.ToString(System.Globalization.CultureInfo.InvariantCulture)), F("motif", "Offre pourvue")], postTo: "/admin/moderation?handler=Depublier");

        Assert.That(unpublished.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(await StatusAsync(id), Is.EqualTo("draft"));
        Assert.That(await BoardLookup.IsListedAsync(admin, title), Is.False);
        Assert.That((await OutboxReader.GetAsync(SharedDatabase.DataSource, issuerUser.Email, "moderation")).Single().TextBody, Does.Contain("Offre pourvue"));
        Assert.That(await GetTextAsync(admin, $"/admin/moderation/journal?offre={id}"), Does.Contain("Offre dépubliée").And.Contain("Offre modifiée"));
        issuer.Dispose();
        admin.Dispose();
    }

    [Test]
    public async Task AdminCreate_OneTimeLink_SetsPasswordThenLogsIn()
    {
        var email = $"admin-{Guid.NewGuid():N}@example.org";
        var accounts = app.Services.GetService(typeof(AccountService)) as AccountService;

        var link = await accounts!.CreateAdminAsync(email);
        Assert.That(link, Does.StartWith("http://127.0.0.1:5080/reinitialisation?jeton="));
        using var client = CreateClient(app);
        var path = new Uri(link).PathAndQuery;
        const string password = "administrer-le-centre-2026";
        var set = await PostAsync(client, path, [F("jeton", path.Split("jeton=")[1]), F("Password", password), F("Confirmation", password)]);
        Assert.That(set.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));

        var login = await PostAsync(client, "/connexion", [F("Email", email), F("Password", password)]);
        Assert.That(login.Headers.Location!.ToString(), Is.EqualTo("/admin/moderation"));
        Assert.That((await client.GetAsync("/admin/moderation")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await GetTextAsync(client, path), Does.Contain("plus valable"));
    }
}
