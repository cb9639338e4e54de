using System.Globalization;
using System.Net;
using Dapper;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Accounts;
using static Opportunites.Tests.Infrastructure.WebForms;

namespace Opportunites.Tests.Accounts;

/// <summary>Joining an organisation that already exists, and merging two (issue 21, item 5).</summary>
public sealed class OrganisationClaimTests
{
    private AppFactory app = null!;

    [OneTimeSetUp]
    public void Start() => app = new AppFactory();

    [OneTimeTearDown]
    public async Task Stop() => await app.DisposeAsync();

    private static string NewEmail() => $"rattachement-{Guid.NewGuid():N}@example.org";

    private static async Task<T> ScalarAsync<T>(string sql, object args)
    {
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    [Test]
    public async Task SignUp_ImportedOrganisationSpelledWithoutAccents_AsksToJoinAndAdminApproves()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        // As an imported newsletter line leaves it: an organisation with offers and no account.
        var issuerId = await TestData.CreateIssuerAsync(SharedDatabase.DataSource, $"Ville de Bègles {suffix}", "collectivite");
        var email = NewEmail();
        using var visitor = CreateClient(app);
        KeyValuePair<string, string>[] fields =
            [F("Email", email), F("Password", TestUsers.Password), F("OrganisationName", $"VILLE DE BEGLES {suffix}"), F("OrganisationType", "collectivite"), F("territoire", "33")];

        var first = await TextAsync(await PostAsync(visitor, "/inscription", fields));
        Assert.That(first, Does.Contain($"« Ville de Bègles {suffix} » est déjà inscrite").And.Contain("name=\"JoinExisting\""));
        Assert.That(await ScalarAsync<int>("SELECT count(*)::int FROM users WHERE lower(email) = lower(@email)", new { email }), Is.Zero);

        var asked = await PostAsync(visitor, "/inscription", [.. fields, F("JoinExisting", "true")]);
        Assert.That(asked.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(await ScalarAsync<int>("SELECT count(*)::int FROM issuers WHERE id <> @issuerId AND lower(immutable_unaccent(name)) = lower(immutable_unaccent(@n))",
            new { issuerId, n = $"Ville de Begles {suffix}" }), Is.Zero);
        await visitor.GetAsync(await OutboxReader.GetLatestLinkAsync(SharedDatabase.DataSource, email, "verification"));
        var login = await PostAsync(visitor, "/connexion", [F("Email", email), F("Password", TestUsers.Password)]);
        Assert.That(login.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(await GetTextAsync(visitor, "/espace"), Does.Contain($"publier au nom de <strong>Ville de Bègles {suffix}</strong> attend la validation"));
        Assert.That((await visitor.GetAsync("/publier")).Headers.Location!.ToString(), Is.EqualTo("/espace"));

        var (admin, _) = await TestUsers.LoggedInAsync(app, Policies.AdminRole);
        var queue = await GetTextAsync(admin, "/admin/moderation");
        Assert.That(queue, Does.Contain(email).And.Contain("Accepter le rattachement"));
        var claimId = await ScalarAsync<long>("SELECT c.id FROM issuer_claims c JOIN users u ON u.id = c.user_id WHERE lower(u.email) = lower(@email)", new { email });
        var approved = await PostAsync(admin, "/admin/moderation", [F("demande", claimId.ToString(CultureInfo.InvariantCulture))], postTo: "/admin/moderation?handler=Rattacher");

        Assert.That(approved.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(await GetTextAsync(admin, "/admin/moderation"), Does.Contain($"{email} est rattaché(e) à « Ville de Bègles {suffix} »"));
        Assert.That(await ScalarAsync<long?>("SELECT issuer_id FROM users WHERE lower(email) = lower(@email)", new { email }), Is.EqualTo(issuerId));
        Assert.That((await OutboxReader.GetAsync(SharedDatabase.DataSource, email, "claim")).Single().Subject, Does.Contain($"Ville de Bègles {suffix}"));
        // The account's cookie predates the change: signing in again opens the organisation's space.
        var again = CreateClient(app);
        await PostAsync(again, "/connexion", [F("Email", email), F("Password", TestUsers.Password)]);
        Assert.That((await again.GetAsync("/publier")).Headers.Location!.ToString(), Is.EqualTo("/espace/offres/nouvelle"));
        again.Dispose();
        admin.Dispose();
    }

    [Test]
    public async Task Refuse_Claim_AccountCanCreateItsOwnOrganisation()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var issuerId = await TestData.CreateIssuerAsync(SharedDatabase.DataSource, $"Mission locale {suffix}");
        var email = NewEmail();
        using var visitor = CreateClient(app);
        await PostAsync(visitor, "/inscription",
            [F("Email", email), F("Password", TestUsers.Password), F("OrganisationName", $"mission locale {suffix}"), F("JoinExisting", "true")]);
        await visitor.GetAsync(await OutboxReader.GetLatestLinkAsync(SharedDatabase.DataSource, email, "verification"));
        var (admin, _) = await TestUsers.LoggedInAsync(app, Policies.AdminRole);
        var claimId = await ScalarAsync<long>("SELECT c.id FROM issuer_claims c JOIN users u ON u.id = c.user_id WHERE lower(u.email) = lower(@email)", new { email });

        await PostAsync(admin, "/admin/moderation", [F("demande", claimId.ToString(CultureInfo.InvariantCulture))], postTo: "/admin/moderation?handler=RefuserRattachement");

        await PostAsync(visitor, "/connexion", [F("Email", email), F("Password", TestUsers.Password)]);
        Assert.That(await GetTextAsync(visitor, "/espace"), Does.Contain("n'a pas accepté votre demande"));
        var created = await PostAsync(visitor, "/espace", [F("organisation", $"Antenne jeunesse {suffix}"), F("type", "association")], postTo: "/espace?handler=Creer");
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(await GetTextAsync(visitor, "/espace"), Does.Contain($"Organisation : <strong>Antenne jeunesse {suffix}</strong>"));
        Assert.That(await ScalarAsync<long?>("SELECT issuer_id FROM users WHERE lower(email) = lower(@email)", new { email }), Is.Not.EqualTo(issuerId).And.Not.Null);
        admin.Dispose();
    }

    [Test]
    public async Task Merge_AccentVariants_OffersAccountsAndAuditKept()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        // Two spellings that already coexist (before this rule, or typed by two imports).
        var keep = await conn.ExecuteScalarAsync<long>("INSERT INTO issuers (name) VALUES (@n) RETURNING id", new { n = $"Ville de Bègles {suffix}" });
        var drop = await conn.ExecuteScalarAsync<long>("INSERT INTO issuers (name) VALUES (@n) RETURNING id", new { n = $"Ville de Begles {suffix}" });
        var offerTitle = TestData.Unique("AAP de l'ancienne fiche");
        var offer = await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, offerTitle, ["33"], issuerId: drop);
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, TestData.Unique("AAP 1"), ["33"], issuerId: keep);
        await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, TestData.Unique("AAP 2"), ["33"], issuerId: keep);
        var member = await TestUsers.CreateAsync(SharedDatabase.DataSource, issuerId: drop);
        await conn.ExecuteAsync("INSERT INTO audit_log (action, subject_type, subject_id, details) VALUES ('issuer.trusted', 'issuer', @drop, 'avant')", new { drop });
        var (admin, _) = await TestUsers.LoggedInAsync(app, Policies.AdminRole);

        var page = await GetTextAsync(admin, "/admin/moderation/organisations");
        Assert.That(page, Does.Contain($"Fusionner dans « Ville de Bègles {suffix} »"));
        var merged = await PostAsync(admin, "/admin/moderation/organisations",
            [F("source", drop.ToString(CultureInfo.InvariantCulture)), F("cible", keep.ToString(CultureInfo.InvariantCulture))],
            postTo: "/admin/moderation/organisations?handler=Fusionner");

        Assert.That(merged.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(await GetTextAsync(admin, "/admin/moderation/organisations"),
            Does.Contain($"« Ville de Begles {suffix} » fusionnée dans « Ville de Bègles {suffix} » : 1 offre(s), 1 compte(s) déplacés."));
        Assert.That(await conn.ExecuteScalarAsync<long>("SELECT issuer_id FROM opportunities WHERE id = @offer", new { offer }), Is.EqualTo(keep));
        Assert.That(await conn.ExecuteScalarAsync<string>("SELECT issuer_name FROM opportunities WHERE id = @offer", new { offer }), Is.EqualTo($"Ville de Bègles {suffix}"));
        Assert.That(await conn.ExecuteScalarAsync<long>("SELECT issuer_id FROM users WHERE id = @Id", member), Is.EqualTo(keep));
        Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*)::int FROM issuers WHERE id = @drop", new { drop }), Is.Zero);
        Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*)::int FROM audit_log WHERE subject_type = 'issuer' AND subject_id = @drop", new { drop }), Is.EqualTo(2));
        // An import naming the old spelling now lands on the kept organisation.
        Assert.That(await Opportunites.Web.Opportunities.OpportunityStore.GetOrCreateIssuerIdAsync(conn, $"ville de begles {suffix}"), Is.EqualTo(keep));
        admin.Dispose();
    }
}
