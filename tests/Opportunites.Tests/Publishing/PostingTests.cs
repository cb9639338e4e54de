using System.Net;
using Dapper;
using Opportunites.Tests.Infrastructure;
using static Opportunites.Tests.Infrastructure.WebForms;

namespace Opportunites.Tests.Publishing;

public sealed class PostingTests
{
    private AppFactory app = null!;

    [OneTimeSetUp]
    public void Start() => app = new AppFactory();

    [OneTimeTearDown]
    public async Task Stop() => await app.DisposeAsync();

    public static List<KeyValuePair<string, string>> AapFields(string title, string deadline, string territory = "33", string action = "soumettre") =>
    [
        F("Input.Kind", "aap"), F("Input.Title", title), F("Input.Territories", territory), F("Input.Deadline", deadline),
        F("Input.Beneficiaries", "associations"), F("Input.Description", "Soutien aux projets."), F("Input.Url", "https://example.org/aap"),
        F("Action", action),
    ];

    private static async Task<(string Status, DateTime? PublishedAt, string[] Territories)> GetRowAsync(long id)
    {
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        return await conn.QuerySingleAsync<(string, DateTime?, string[])>(
            "SELECT status, published_at, territory_codes FROM opportunities WHERE id = @id", new { id });
    }

    private static long IdFrom(HttpResponseMessage r) => long.Parse(r.Headers.Location!.ToString().Split('/')[3], System.Globalization.CultureInfo.InvariantCulture);

    [Test]
    public async Task Create_EmptyForm_FrenchRequiredMessages()
    {
        var (client, _) = await TestUsers.LoggedInAsync(app);

        var response = await PostAsync(client, "/espace/offres/nouvelle", [F("Action", "soumettre")]);
        var html = await TextAsync(response);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(html, Does.Contain("Le titre est obligatoire."));
        Assert.That(html, Does.Contain("Choisissez le type d'offre"));
        Assert.That(html, Does.Contain("Choisissez au moins un territoire."));
        client.Dispose();
    }

    [Test]
    public async Task Create_BadValues_FrenchMessagesPerField()
    {
        var (client, _) = await TestUsers.LoggedInAsync(app);

        var aap = await TextAsync(await PostAsync(client, "/espace/offres/nouvelle",
        [
            F("Input.Kind", "aap"), F("Input.Title", new string('x', 301)), F("Input.Territories", "Atlantide"),
            F("Input.Deadline", "01/01/2020"), F("Input.Url", "ftp://example.org"), F("Input.Amount", "beaucoup"), F("Action", "soumettre"),
        ]));
        var job = await TextAsync(await PostAsync(client, "/espace/offres/nouvelle",
        [
            F("Input.Kind", "emploi"), F("Input.Title", "Ok"), F("Input.Territories", "33"), F("Input.Deadline", "31/02/2030"),
            F("Input.Url", "example.org"), F("Action", "soumettre"),
        ]));

        Assert.That(aap, Does.Contain("Le titre doit contenir entre 3 et 300 caractères."));
        Assert.That(aap, Does.Match("Aucun territoire ne (correspond à|s'appelle) « Atlantide »"));
        Assert.That(aap, Does.Contain("La date limite ne peut pas être dans le passé."));
        Assert.That(aap, Does.Contain("commençant par http:// ou https://"));
        Assert.That(aap, Does.Contain("Indiquez les bénéficiaires éligibles"));
        Assert.That(aap, Does.Contain("Le montant doit être un nombre positif"));
        Assert.That(job, Does.Contain("Le titre doit contenir entre 3 et 300 caractères."));
        Assert.That(job, Does.Contain("Cette date n'existe pas : « 31/02/2030 »."));
        Assert.That(job, Does.Contain("Choisissez le type de contrat."));
        Assert.That(job, Does.Contain("commençant par http:// ou https://"));
        client.Dispose();
    }

    [Test]
    public async Task Create_NewOrganisation_WaitsInPending()
    {
        var (client, _) = await TestUsers.LoggedInAsync(app);
        var title = TestData.Unique("AAP jardins partagés");

        var response = await PostAsync(client, "/espace/offres/nouvelle", AapFields(title, InDays(20), territory: "Gironde"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        var row = await GetRowAsync(IdFrom(response));
        Assert.That(row.Status, Is.EqualTo("pending"));
        Assert.That(row.PublishedAt, Is.Null);
        Assert.That(row.Territories, Is.EqualTo(new[] { "33" }));
        var space = await GetTextAsync(client, "/espace");
        Assert.That(space, Does.Contain(title));
        Assert.That(space, Does.Contain("En attente de validation (1)"));
        Assert.That(await BoardLookup.IsListedAsync(client, title), Is.False);
        client.Dispose();
    }

    [Test]
    public async Task Create_TrustedOrganisation_PublishedAtOnce()
    {
        var (client, _) = await TestUsers.LoggedInAsync(app, trusted: true);
        var title = TestData.Unique("AAP vacances apprenantes");

        var response = await PostAsync(client, "/espace/offres/nouvelle", AapFields(title, InDays(1)));

        var row = await GetRowAsync(IdFrom(response));
        Assert.That(row.Status, Is.EqualTo("published"));
        Assert.That(row.PublishedAt, Is.Not.Null);
        Assert.That(await BoardLookup.IsListedAsync(client, title), Is.True);
        client.Dispose();
    }

    [Test]
    public async Task Create_JobWithContractAsDraft_ListedAsBrouillon()
    {
        var (client, _) = await TestUsers.LoggedInAsync(app, trusted: true);
        var title = TestData.Unique("Chargé(e) de mission emploi");

        var response = await PostAsync(client, "/espace/offres/nouvelle",
        [
            F("Input.Kind", "emploi"), F("Input.Title", title), F("Input.Territories", "R75"), F("Input.Territories", "79"),
            F("Input.ContractType", "cdd"), F("Action", "brouillon"),
        ]);

        var row = await GetRowAsync(IdFrom(response));
        Assert.That(row.Status, Is.EqualTo("draft"));
        Assert.That(row.Territories, Is.EqualTo(new[] { "79", "R75" }));
        var preview = await GetTextAsync(client, response.Headers.Location!.ToString());
        Assert.That(preview, Does.Contain("Statut : <strong>Brouillon</strong>"));
        Assert.That(preview, Does.Contain("Contrat : CDD"));
        Assert.That(await BoardLookup.IsListedAsync(client, title), Is.False);
        client.Dispose();
    }

    [Test]
    public async Task Create_SimilarTitleSameDeadline_WarnsThenSavesOnConfirmation()
    {
        var (client, user) = await TestUsers.LoggedInAsync(app);
        var deadline = InDays(30);
        var title = TestData.Unique("Appel à projets quartiers d'été");
        await PostAsync(client, "/espace/offres/nouvelle", AapFields(title, deadline));

        var warned = await PostAsync(client, "/espace/offres/nouvelle", AapFields(title + " 2026", deadline));
        var html = await TextAsync(warned);
        var otherDeadline = await PostAsync(client, "/espace/offres/nouvelle", AapFields(title + " 2026", InDays(31)));
        var confirmed = await PostAsync(client, "/espace/offres/nouvelle", [.. AapFields(title + " 2026", deadline), F("ConfirmDuplicate", "true")]);

        Assert.That(warned.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(html, Does.Contain("Doublon probable"));
        Assert.That(html, Does.Contain(title));
        Assert.That(otherDeadline.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(confirmed.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM opportunities WHERE issuer_id = @IssuerId", new { user.IssuerId }), Is.EqualTo(3));
        client.Dispose();
    }

    [Test]
    public async Task CloseThenReopen_NewDeadline_PublishedAgain()
    {
        var (client, _) = await TestUsers.LoggedInAsync(app, trusted: true);
        var title = TestData.Unique("AAP à clore");
        var created = await PostAsync(client, "/espace/offres/nouvelle", AapFields(title, InDays(10)));
        var url = created.Headers.Location!.ToString();
        var id = IdFrom(created);

        var closed = await PostAsync(client, url, [], postTo: url + "?handler=Clore");
        Assert.That(closed.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That((await GetRowAsync(id)).Status, Is.EqualTo("closed"));
        Assert.That(await GetTextAsync(client, "/espace"), Does.Contain("Close (1)"));

        var past = await PostAsync(client, url, [F("NouvelleDate", "01/01/2020")], postTo: url + "?handler=Rouvrir");
        Assert.That(await TextAsync(past), Does.Contain("La date limite ne peut pas être dans le passé."));
        var reopened = await PostAsync(client, url, [F("NouvelleDate", InDays(40))], postTo: url + "?handler=Rouvrir");
        Assert.That(reopened.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That((await GetRowAsync(id)).Status, Is.EqualTo("published"));
        Assert.That(await GetTextAsync(client, url), Does.Contain("Jusqu'au " + InDays(40)));
        client.Dispose();
    }

    [Test]
    public async Task Expired_ShownAsExpireeAndReopenable()
    {
        var (client, user) = await TestUsers.LoggedInAsync(app, trusted: true);
        var title = TestData.Unique("AAP échu");
        var id = await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, title, ["33"], deadline: new DateOnly(2024, 5, 1), issuerId: user.IssuerId);

        var space = await GetTextAsync(client, "/espace");
        Assert.That(space, Does.Contain("Expirée (1)"));
        var reopened = await PostAsync(client, $"/espace/offres/{id}", [F("NouvelleDate", InDays(5))], postTo: $"/espace/offres/{id}?handler=Rouvrir");
        Assert.That(reopened.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(await BoardLookup.IsListedAsync(client, title), Is.True);
        client.Dispose();
    }

    [Test]
    public async Task Duplicate_CopiesAsDraftAndOpensEditor()
    {
        var (client, user) = await TestUsers.LoggedInAsync(app, trusted: true);
        var title = TestData.Unique("Offre à dupliquer");
        var created = await PostAsync(client, "/espace/offres/nouvelle", AapFields(title, InDays(10)));
        var url = created.Headers.Location!.ToString();

        var copy = await PostAsync(client, url, [], postTo: url + "?handler=Dupliquer");

        Assert.That(copy.Headers.Location!.ToString(), Does.Match(@"^/espace/offres/\d+/modifier$"));
        var editor = await GetTextAsync(client, copy.Headers.Location!.ToString());
        Assert.That(editor, Does.Contain(title));
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        var statuses = await conn.QueryAsync<string>("SELECT status FROM opportunities WHERE issuer_id = @IssuerId ORDER BY id", new { user.IssuerId });
        Assert.That(statuses, Is.EqualTo(new[] { "published", "draft" }));
        client.Dispose();
    }

    [Test]
    public async Task Edit_OwnOffer_SavesChanges()
    {
        var (client, _) = await TestUsers.LoggedInAsync(app, trusted: true);
        var title = TestData.Unique("Offre à modifier");
        var created = await PostAsync(client, "/espace/offres/nouvelle", AapFields(title, InDays(10)));
        var id = IdFrom(created);

        var edited = await PostAsync(client, $"/espace/offres/{id}/modifier", AapFields(title + " (modifiée)", InDays(12), territory: "Deux-Sèvres"));

        Assert.That(edited.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        var preview = await GetTextAsync(client, $"/espace/offres/{id}");
        Assert.That(preview, Does.Contain(title + " (modifiée)"));
        Assert.That(preview, Does.Contain("Deux-Sèvres"));
        client.Dispose();
    }
}
