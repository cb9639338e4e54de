using System.Globalization;
using System.Net;
using Dapper;
using Opportunites.Tests.Infrastructure;
using Opportunites.Tests.Publishing;
using Opportunites.Web.Accounts;
using Opportunites.Web.Jobs;
using Opportunites.Web.Moderation;
using Opportunites.Web.Opportunities;
using static Opportunites.Tests.Infrastructure.WebForms;

namespace Opportunites.Tests.Moderation;

/// <summary>The moderation queue, its decisions and the admins' daily email (issue 21, items 6 and 10).</summary>
public sealed class ModerationQueueTests
{
    private AppFactory app = null!;

    [OneTimeSetUp]
    public void Start() => app = new AppFactory();

    [OneTimeTearDown]
    public async Task Stop() => await app.DisposeAsync();

    private static string S(long id) => id.ToString(CultureInfo.InvariantCulture);

    /// <summary>The queue entry of one offer: from its title to the next entry.</summary>
    private static string EntryOf(string page, string title)
    {
        var at = page.IndexOf(title, StringComparison.Ordinal);
        Assert.That(at, Is.GreaterThan(0), $"« {title} » absente de la file");
        var start = page.LastIndexOf("<li class=\"result\">", at, StringComparison.Ordinal);
        var end = page.IndexOf("<li class=\"result\">", at, StringComparison.Ordinal);
        return page[start..(end < 0 ? page.Length : end)];
    }

    [Test]
    public async Task Queue_ShowsKindTerritoryDeadlineWhyAndTheDiffOfAnEdit()
    {
        var (issuer, user) = await TestUsers.LoggedInAsync(app);
        var newTitle = TestData.Unique("Emploi tout neuf");
        var fields = PostingTests.AapFields(newTitle, "15/06/2031", territory: "Gironde");
        fields.Add(F("Input.DeadlineTime", "12:00"));
        await PostAsync(issuer, "/espace/offres/nouvelle", fields);
        var publishedTitle = TestData.Unique("AAP en ligne");
        var id = await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, publishedTitle, ["40"],
            deadline: new DateOnly(2031, 6, 20), issuerId: user.IssuerId);
        await using (var conn = await SharedDatabase.DataSource.OpenConnectionAsync())
        {
            await conn.ExecuteAsync("UPDATE opportunities SET beneficiaries = 'associations' WHERE id = @id", new { id });
        }

        await PostAsync(issuer, $"/espace/offres/{id}/modifier", PostingTests.AapFields(publishedTitle, "30/06/2031", territory: "40"));
        var reopenedTitle = TestData.Unique("AAP rouvert");
        var reopened = await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, reopenedTitle, ["33"],
            deadline: DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-3)), issuerId: user.IssuerId, publishedAt: DateTimeOffset.UtcNow.AddDays(-40));
        await PostAsync(issuer, $"/espace/offres/{reopened}", [F("NouvelleDate", InDays(20))], postTo: $"/espace/offres/{reopened}?handler=Rouvrir");
        var (admin, _) = await TestUsers.LoggedInAsync(app, Policies.AdminRole);

        var page = await GetTextAsync(admin, "/admin/moderation");

        var fresh = EntryOf(page, newTitle);
        Assert.That(fresh, Does.Contain("Appel à projets").And.Contain("Nouvelle").And.Contain("Gironde").And.Contain("15/06/2031 à 12h00"));
        var edited = EntryOf(page, publishedTitle);
        Assert.That(edited, Does.Contain("Modifiée après publication").And.Contain("Publier les modifications"));
        Assert.That(edited, Does.Contain("<del>20/06/2031</del>").And.Contain("<ins>30/06/2031</ins>"));
        Assert.That(edited, Does.Contain("<th scope=\"row\">Date limite</th>").And.Not.Contain("<th scope=\"row\">Titre</th>"));
        Assert.That(EntryOf(page, reopenedTitle), Does.Contain("Rouverte"));
        issuer.Dispose();
        admin.Dispose();
    }

    [Test]
    public async Task Decisions_RefuseLooksDifferentAndConfirmationsNameTheOffer()
    {
        var (issuer, user) = await TestUsers.LoggedInAsync(app);
        var a = TestData.Unique("AAP à publier");
        var b = TestData.Unique("AAP à refuser");
        var idA = long.Parse((await PostAsync(issuer, "/espace/offres/nouvelle", PostingTests.AapFields(a, InDays(20)))).Headers.Location!.ToString().Split('/')[3], CultureInfo.InvariantCulture);
        var idB = long.Parse((await PostAsync(issuer, "/espace/offres/nouvelle", PostingTests.AapFields(b, InDays(20)))).Headers.Location!.ToString().Split('/')[3], CultureInfo.InvariantCulture);
        var (admin, _) = await TestUsers.LoggedInAsync(app, Policies.AdminRole);

        var entry = EntryOf(await client(admin), a);
        Assert.That(entry, Does.Contain("<button type=\"submit\">Publier</button>"));
        Assert.That(entry, Does.Contain("<button type=\"submit\" class=\"danger\">Refuser l'offre</button>"));

        await PostAsync(admin, "/admin/moderation", [F("id", S(idA))], postTo: "/admin/moderation?handler=Publier");
        Assert.That(await GetTextAsync(admin, "/admin/moderation"), Does.Contain($"Offre « {a} » publiée"));
        await PostAsync(admin, "/admin/moderation", [F("id", S(idB)), F("motif", "Hors périmètre")], postTo: "/admin/moderation?handler=Refuser");
        Assert.That(await GetTextAsync(admin, "/admin/moderation"), Does.Contain($"Offre « {b} » refusée"));
        var published = (await OutboxReader.GetAsync(SharedDatabase.DataSource, user.Email, "moderation")).Single(m => m.Subject.Contains(a, StringComparison.Ordinal));
        Assert.That(published.Subject, Is.EqualTo($"Votre offre est publiée : {a}"));
        Assert.That(published.TextBody, Does.Contain($"/offres/{idA}-"));
        issuer.Dispose();
        admin.Dispose();

        static Task<string> client(HttpClient c) => GetTextAsync(c, "/admin/moderation");
    }

    [Test]
    public async Task RejectRevision_PublishedVersionStaysAndIssuerIsTold()
    {
        var (issuer, user) = await TestUsers.LoggedInAsync(app);
        var title = TestData.Unique("AAP stable");
        var id = await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, title, ["33"], deadline: DateOnly.FromDateTime(DateTime.UtcNow.AddDays(30)), issuerId: user.IssuerId);
        await PostAsync(issuer, $"/espace/offres/{id}/modifier", PostingTests.AapFields(title + " bis", InDays(30)));
        var (admin, _) = await TestUsers.LoggedInAsync(app, Policies.AdminRole);

        var r = await PostAsync(admin, "/admin/moderation", [F("id", S(id)), F("motif", "Titre trompeur")], postTo: "/admin/moderation?handler=RefuserModification");

        Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(await BoardLookup.IsListedAsync(admin, title), Is.True);
        Assert.That(await GetTextAsync(issuer, $"/espace/offres/{id}/modifier"), Does.Contain($"value=\"{title}\""));
        var mail = (await OutboxReader.GetAsync(SharedDatabase.DataSource, user.Email, "moderation")).Single();
        Assert.That(mail.TextBody, Does.Contain("Titre trompeur").And.Contain("La version déjà publiée reste en ligne"));
        issuer.Dispose();
        admin.Dispose();
    }

    [Test]
    public async Task QueueEmail_SomethingWaits_OneEmailPerAdminPerDayAndNoneWhenEmpty()
    {
        await using var db = await PrivateDatabase.CreateAsync("opportunites_modq");
        var admin = await TestUsers.CreateAsync(db.DataSource, Policies.AdminRole);
        var job = new ModerationQueueJob(db.DataSource, new AccountSettings(), TimeProvider.System);
        var context = new JobRunContext(ModerationQueueJob.Name, DateTimeOffset.UtcNow, "cli", null);

        var empty = await job.RunAsync(context, CancellationToken.None);
        Assert.That(empty["courriels"], Is.Zero);

        var title = TestData.Unique("AAP qui attend");
        await TestData.CreateOpportunityAsync(db.DataSource, title, ["33"], status: Statuses.Pending);
        var first = await job.RunAsync(context, CancellationToken.None);
        var second = await job.RunAsync(context, CancellationToken.None);

        Assert.That(first["courriels"], Is.EqualTo(1));
        Assert.That(second["courriels"], Is.Zero);
        var mail = (await OutboxReader.GetAsync(db.DataSource, admin.Email, "moderation_queue")).Single();
        Assert.That(mail.Subject, Is.EqualTo("1 élément attend la modération"));
        Assert.That(mail.TextBody, Does.Contain(title).And.Contain("/admin/moderation"));
    }
}
