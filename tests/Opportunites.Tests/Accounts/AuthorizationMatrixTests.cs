using System.Globalization;
using System.Net;
using Dapper;
using Opportunites.Tests.Infrastructure;
using Opportunites.Tests.Publishing;
using Opportunites.Web.Accounts;
using static Opportunites.Tests.Infrastructure.WebForms;

namespace Opportunites.Tests.Accounts;

/// <summary>
/// Every page and endpoint of the issuer space, moderation, import and export, for anonymous, issuer A, issuer B
/// and an admin, on offers of A's organisation: who may read, who may change, and what the others get.
/// </summary>
public sealed class AuthorizationMatrixTests
{
    private enum Outcome
    {
        /// <summary>200, or a redirect that is not to the login or access-denied page (a successful action).</summary>
        Ok,

        /// <summary>Redirected to /connexion.</summary>
        Login,

        /// <summary>Redirected to /acces-refuse (or 403).</summary>
        Denied,

        /// <summary>404: another organisation's offer does not exist for you.</summary>
        NotFound,
    }

    private sealed record Request(string Method, string Url, KeyValuePair<string, string>[] Fields);

    private AppFactory app = null!;

    [OneTimeSetUp]
    public void Start() => app = new AppFactory();

    [OneTimeTearDown]
    public async Task Stop() => await app.DisposeAsync();

    private static Outcome Classify(HttpResponseMessage r)
    {
        var location = r.Headers.Location?.ToString() ?? "";
        return r.StatusCode switch
        {
            HttpStatusCode.OK => Outcome.Ok,
            HttpStatusCode.NotFound => Outcome.NotFound,
            HttpStatusCode.Forbidden => Outcome.Denied,
            HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther when location.Contains("/connexion") => Outcome.Login,
            HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther when location.Contains("/acces-refuse") => Outcome.Denied,
            HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther => Outcome.Ok,
            _ => throw new AssertionException($"Réponse inattendue {(int)r.StatusCode}"),
        };
    }

    /// <summary>A's organisation (untrusted) with a draft, a pending and a published offer; fresh for each actor.</summary>
    private static async Task<(TestUser A, long Draft, long Pending, long Published, string DraftTitle)> SeedAsync()
    {
        var a = await TestUsers.CreateAsync(SharedDatabase.DataSource);
        var db = SharedDatabase.DataSource;
        var soon = DateOnly.FromDateTime(DateTime.UtcNow.AddDays(30));
        var draftTitle = TestData.Unique("Brouillon secret de A");
        var draft = await TestData.CreateOpportunityAsync(db, draftTitle, ["33"], deadline: soon, status: "draft", issuerId: a.IssuerId);
        var pending = await TestData.CreateOpportunityAsync(db, TestData.Unique("Offre en attente de A"), ["33"], deadline: soon, status: "pending", issuerId: a.IssuerId);
        var published = await TestData.CreateOpportunityAsync(db, TestData.Unique("Offre publiée de A"), ["33"], deadline: soon, issuerId: a.IssuerId);
        return (a, draft, pending, published, draftTitle);
    }

    private static List<(string Name, Request Request)> Requests(long draft, long pending, long published, long issuerA)
    {
        string S(long v) => v.ToString(CultureInfo.InvariantCulture);
        var edit = PostingTests.AapFields("Titre modifié par un tiers", InDays(40), action: "brouillon").ToArray();
        return
        [
            ("espace", new("GET", "/espace", [])),
            ("nouvelle (page)", new("GET", "/espace/offres/nouvelle", [])),
            ("aperçu brouillon de A", new("GET", $"/espace/offres/{draft}", [])),
            ("modifier brouillon de A (page)", new("GET", $"/espace/offres/{draft}/modifier", [])),
            ("modifier brouillon de A", new("POST", $"/espace/offres/{draft}/modifier", edit)),
            ("dupliquer brouillon de A", new("POST", $"/espace/offres/{draft}?handler=Dupliquer", [])),
            ("clore offre publiée de A", new("POST", $"/espace/offres/{published}?handler=Clore", [])),
            ("rouvrir offre de A", new("POST", $"/espace/offres/{published}?handler=Rouvrir", [F("NouvelleDate", InDays(50))])),
            ("changer d'adresse (page)", new("GET", "/compte/email", [])),
            ("modération (page)", new("GET", "/admin/moderation", [])),
            ("publier offre en attente de A", new("POST", "/admin/moderation?handler=Publier", [F("id", S(pending))])),
            ("refuser offre en attente de A", new("POST", "/admin/moderation?handler=Refuser", [F("id", S(pending)), F("motif", "non")])),
            ("dépublier offre de A", new("POST", "/admin/moderation?handler=Depublier", [F("id", S(published)), F("motif", "non")])),
            ("organisations (page)", new("GET", "/admin/moderation/organisations", [])),
            ("faire confiance à A", new("POST", "/admin/moderation/organisations", [F("id", S(issuerA)), F("confiance", "true")])),
            ("journal", new("GET", "/admin/moderation/journal", [])),
            ("import (page)", new("GET", "/admin/import", [])),
            ("import aperçu", new("POST", "/admin/import?handler=Apercu", [F("Texte", "AAP / AMI\nX / AAP test - Jusqu'au 01/01/2030")])),
            ("import confirmer", new("POST", "/admin/import?handler=Confirmer", [F("Texte", "AAP / AMI\nX / AAP test " + Guid.NewGuid().ToString("N") + " - Jusqu'au 01/01/2030"), F("TerritoireParDefaut", "FR")])),
            ("export", new("GET", "/admin/export?du=01/01/2026&au=31/12/2026&territoire=33", [])),
        ];
    }

    private static readonly Dictionary<string, Outcome[]> Expected = new()
    {
        // anonymous, issuer A, issuer B, admin
        ["espace"] = [Outcome.Login, Outcome.Ok, Outcome.Ok, Outcome.Ok],
        ["nouvelle (page)"] = [Outcome.Login, Outcome.Ok, Outcome.Ok, Outcome.Denied],
        ["aperçu brouillon de A"] = [Outcome.Login, Outcome.Ok, Outcome.NotFound, Outcome.Ok],
        ["modifier brouillon de A (page)"] = [Outcome.Login, Outcome.Ok, Outcome.NotFound, Outcome.Ok],
        ["modifier brouillon de A"] = [Outcome.Login, Outcome.Ok, Outcome.NotFound, Outcome.Ok],
        ["dupliquer brouillon de A"] = [Outcome.Login, Outcome.Ok, Outcome.NotFound, Outcome.Ok],
        ["clore offre publiée de A"] = [Outcome.Login, Outcome.Ok, Outcome.NotFound, Outcome.Ok],
        // Runs after "clore": the offer is closed, so reopening is allowed for A and the admin.
        ["rouvrir offre de A"] = [Outcome.Login, Outcome.Ok, Outcome.NotFound, Outcome.Ok],
        ["changer d'adresse (page)"] = [Outcome.Login, Outcome.Ok, Outcome.Ok, Outcome.Ok],
        ["modération (page)"] = [Outcome.Login, Outcome.Denied, Outcome.Denied, Outcome.Ok],
        ["publier offre en attente de A"] = [Outcome.Login, Outcome.Denied, Outcome.Denied, Outcome.Ok],
        ["refuser offre en attente de A"] = [Outcome.Login, Outcome.Denied, Outcome.Denied, Outcome.Ok],
        ["dépublier offre de A"] = [Outcome.Login, Outcome.Denied, Outcome.Denied, Outcome.Ok],
        ["organisations (page)"] = [Outcome.Login, Outcome.Denied, Outcome.Denied, Outcome.Ok],
        ["faire confiance à A"] = [Outcome.Login, Outcome.Denied, Outcome.Denied, Outcome.Ok],
        ["journal"] = [Outcome.Login, Outcome.Denied, Outcome.Denied, Outcome.Ok],
        // A and B are not trusted organisations: import is for admins and trusted issuers.
        ["import (page)"] = [Outcome.Login, Outcome.Denied, Outcome.Denied, Outcome.Ok],
        ["import aperçu"] = [Outcome.Login, Outcome.Denied, Outcome.Denied, Outcome.Ok],
        ["import confirmer"] = [Outcome.Login, Outcome.Denied, Outcome.Denied, Outcome.Ok],
        ["export"] = [Outcome.Login, Outcome.Denied, Outcome.Denied, Outcome.Ok],
    };

    [TestCase(0, TestName = "Matrix_Anonymous_RedirectedToLoginEverywhere")]
    [TestCase(1, TestName = "Matrix_IssuerA_ManagesOwnOffersOnly")]
    [TestCase(2, TestName = "Matrix_IssuerB_NeverReadsNorChangesAsOffers")]
    [TestCase(3, TestName = "Matrix_Admin_ReachesEverything")]
    public async Task Matrix(int actor)
    {
        var (a, draft, pending, published, draftTitle) = await SeedAsync();
        using var client = CreateClient(app);
        string token;
        switch (actor)
        {
            case 0:
                token = GetAntiforgeryToken(await client.GetStringAsync("/connexion"));
                break;
            case 1:
                await TestUsers.LoginAsync(client, a);
                token = GetAntiforgeryToken(await client.GetStringAsync("/espace/offres/nouvelle"));
                break;
            case 2:
                await TestUsers.LoginAsync(client, await TestUsers.CreateAsync(SharedDatabase.DataSource));
                token = GetAntiforgeryToken(await client.GetStringAsync("/espace/offres/nouvelle"));
                break;
            default:
                await TestUsers.LoginAsync(client, await TestUsers.CreateAsync(SharedDatabase.DataSource, Policies.AdminRole));
                token = GetAntiforgeryToken(await client.GetStringAsync("/admin/moderation"));
                break;
        }

        var before = await SnapshotAsync(a.IssuerId!.Value);
        var failures = new List<string>();
        foreach (var (name, request) in Requests(draft, pending, published, a.IssuerId!.Value))
        {
            var response = request.Method == "GET"
                ? await client.GetAsync(request.Url)
                : await PostWithTokenAsync(client, request.Url, token, request.Fields);
            var outcome = Classify(response);
            if (outcome != Expected[name][actor])
            {
                failures.Add($"{request.Method} {request.Url} ({name}) : {outcome}, attendu {Expected[name][actor]}");
            }

            if (actor == 2 && request.Method == "GET" && response.StatusCode == HttpStatusCode.OK)
            {
                Assert.That(await response.Content.ReadAsStringAsync(), Does.Not.Contain(draftTitle), $"{name} montre le brouillon de A à B");
            }
        }

        Assert.That(failures, Is.Empty);
        if (actor is 0 or 2)
        {
            // Nothing of A's changed, and no copy of A's offers was made for B.
            Assert.That(await SnapshotAsync(a.IssuerId!.Value), Is.EqualTo(before));
        }
    }

    private static async Task<string> SnapshotAsync(long issuerId)
    {
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        var rows = await conn.QueryAsync<string>("""
            SELECT o.id || '|' || o.title || '|' || o.status || '|' || coalesce(o.deadline_date::text, '') || '|' || i.trusted
            FROM opportunities o JOIN issuers i ON i.id = o.issuer_id WHERE o.issuer_id = @issuerId ORDER BY o.id
            """, new { issuerId });
        return string.Join("\n", rows);
    }

    [Test]
    public async Task IssuerB_ListAndPreviewOfOwnSpace_NeverShowsAsDraft()
    {
        var (_, draft, _, _, draftTitle) = await SeedAsync();
        var (b, _) = await TestUsers.LoggedInAsync(app);

        Assert.That(await b.GetStringAsync("/espace"), Does.Not.Contain(draftTitle));
        Assert.That(await b.GetStringAsync("/"), Does.Not.Contain(draftTitle));
        // Guessing the ids around A's draft gives nothing either.
        for (var id = draft - 2; id <= draft + 2; id++)
        {
            var r = await b.GetAsync($"/espace/offres/{id}");
            Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.NotFound).Or.EqualTo(HttpStatusCode.OK));
            Assert.That(await r.Content.ReadAsStringAsync(), Does.Not.Contain(draftTitle));
        }

        b.Dispose();
    }

    [Test]
    public async Task Post_WithoutAntiforgeryToken_Refused()
    {
        var (client, user) = await TestUsers.LoggedInAsync(app);

        var response = await client.PostAsync("/espace/offres/nouvelle",
            new FormUrlEncodedContent(PostingTests.AapFields(TestData.Unique("Sans jeton"), InDays(5))));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM opportunities WHERE issuer_id = @IssuerId", new { user.IssuerId }), Is.Zero);
        client.Dispose();
    }
}
