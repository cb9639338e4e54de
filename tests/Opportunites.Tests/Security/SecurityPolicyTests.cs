using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Opportunites.Tests.Browser;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Accounts;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Shared;
using Opportunites.Web.Subscriptions;
using static Opportunites.Tests.Infrastructure.WebForms;

namespace Opportunites.Tests.Security;

/// <summary>Headers on every kind of answer, antiforgery on every form, no full email address in the logs, no secret in settings.</summary>
public sealed partial class SecurityPolicyTests
{
    private AppFactory factory = null!;
    private Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> app = null!;
    private readonly LogCapture logs = new();

    [OneTimeSetUp]
    public void Start()
    {
        factory = new AppFactory();
        app = logs.Attach(factory);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await app.DisposeAsync();
        await factory.DisposeAsync();
    }

    [Test]
    public async Task EveryKindOfAnswer_CarriesSecurityHeaders()
    {
        var id = await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, TestData.Unique("Offre des en-têtes"), ["33"],
            deadline: DateOnly.FromDateTime(DateTime.UtcNow).AddDays(20));
        using var client = CreateClient(app);
        string[] urls =
        [
            "/", "/offres", $"/offres/{id}", "/offres?type=inconnu", "/alertes", "/connexion", "/inscription",
            "/page-inexistante", "/espace", "/css/site.css", "/healthz", "/openapi/v1.json",
            "/api/v1/opportunites", "/api/v1/opportunites/999999999", "/api/v1/opportunites?page=x", "/api/v1/inexistant",
            "/api/v1/territoires?q=gir", "/offres/flux.rss", "/offres/agenda.ics", "/offres/export.csv", $"/offres/{id}/agenda.ics",
        ];

        foreach (var url in urls)
        {
            var response = await client.GetAsync(url);
            var what = $"{url} ({(int)response.StatusCode})";
            Assert.That(response.Headers.TryGetValues("Content-Security-Policy", out var csp), Is.True, what);
            Assert.That(string.Join(";", csp!), Does.Contain("frame-ancestors 'none'").And.Contain("default-src 'self'"), what);
            Assert.That(response.Headers.GetValues("X-Content-Type-Options"), Does.Contain("nosniff"), what);
            Assert.That(response.Headers.GetValues("Referrer-Policy"), Does.Contain("strict-origin-when-cross-origin"), what);
        }
    }

    [GeneratedRegex("<form\\b[^>]*\\bmethod=\"post\"[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex PostForm();

    [GeneratedRegex("\\baction=\"([^\"]*)\"")]
    private static partial Regex Action();

    /// <summary>
    /// Every POST form found on the pages (anonymous, issuer and admin), posted with its cookies but without the
    /// token: 400. The RFC 8058 one-click unsubscribe is the one exception (tested in AlertPagesTests).
    /// </summary>
    [Test]
    public async Task EveryPostForm_WithoutAntiforgeryToken_400()
    {
        var db = SharedDatabase.DataSource;
        var (issuer, issuerUser) = await TestUsers.LoggedInAsync(app, trusted: true);
        var (admin, _) = await TestUsers.LoggedInAsync(app, Policies.AdminRole);
        var deadline = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(20);
        var own = await TestData.CreateOpportunityAsync(db, TestData.Unique("Offre du formulaire"), ["33"], deadline: deadline, issuerId: issuerUser.IssuerId);
        var closed = await TestData.CreateOpportunityAsync(db, TestData.Unique("Offre close du formulaire"), ["33"], deadline: deadline,
            issuerId: issuerUser.IssuerId, status: Statuses.Closed);
        await TestData.CreateOpportunityAsync(db, TestData.Unique("Offre en attente"), ["33"], deadline: deadline, status: Statuses.Pending);
        var email = $"formulaires-{Guid.NewGuid():N}@example.org";
        await app.Services.GetRequiredService<SubscriptionService>()
            .SubscribeAsync(email, DigestPreferences.Canonical(["33"], null, null, "weekly"), "192.0.2.1");
        await using var conn = await db.OpenConnectionAsync();
        var subscriberId = await conn.ExecuteScalarAsync<long>("SELECT id FROM subscribers WHERE email = @email", new { email });
        await conn.ExecuteAsync("INSERT INTO deadline_reminders (subscriber_id, opportunity_id, created_at) VALUES (@subscriberId, @own, now())",
            new { subscriberId, own });
        var tokens = app.Services.GetRequiredService<AlertTokens>();
        var manage = "/alertes/gerer?jeton=" + Uri.EscapeDataString(tokens.Create(TokenPurpose.Manage, subscriberId));
        var confirm = "/alertes/confirmer?jeton=" + Uri.EscapeDataString(tokens.Create(TokenPurpose.Confirm, subscriberId, TimeSpan.FromDays(1)));
        var anonymous = CreateClient(app);

        (HttpClient Client, string Page)[] pages =
        [
            (anonymous, "/inscription"), (anonymous, "/connexion"), (anonymous, "/mot-de-passe-oublie"),
            (anonymous, "/alertes"), (anonymous, manage),
            (anonymous, confirm), (anonymous, $"/alertes/rappel?offre={own}"),
            (issuer, "/espace/offres/nouvelle"), (issuer, $"/espace/offres/{own}"), (issuer, $"/espace/offres/{own}/modifier"),
            (issuer, $"/espace/offres/{closed}"), (issuer, "/compte/email"), (issuer, "/deconnexion"),
            (admin, "/admin/moderation"), (admin, "/admin/moderation/organisations"), (admin, "/admin/import"),
        ];

        // An invalid reset link shows no form, but its POST handler exists all the same.
        var direct = await anonymous.PostAsync("/reinitialisation?jeton=x", new FormUrlEncodedContent([new("Password", "x")]));
        Assert.That(direct.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), "POST /reinitialisation sans jeton");
        var posted = new List<string> { "/reinitialisation?jeton=x" };
        foreach (var (client, page) in pages)
        {
            var response = await client.GetAsync(page);
            if (response.StatusCode == HttpStatusCode.MovedPermanently)
            {
                response = await client.GetAsync(response.Headers.Location);
            }

            var html = await response.Content.ReadAsStringAsync();
            var forms = PostForm().Matches(html).Select(m => Action().Match(m.Value) is { Success: true } a ? WebUtility.HtmlDecode(a.Groups[1].Value) : page)
                .Where(action => !action.StartsWith("/alertes/desinscription", StringComparison.Ordinal))
                .Distinct().ToList();
            Assert.That(forms, Is.Not.Empty, $"aucun formulaire POST sur {page}");
            foreach (var action in forms)
            {
                var post = await client.PostAsync(action, new FormUrlEncodedContent([new("x", "1")]));
                Assert.That(post.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), $"POST {action} (formulaire de {page}) sans jeton");
                posted.Add(action);
            }
        }

        TestContext.Progress.WriteLine($"Antiforgery : {posted.Count} formulaires refusés sans jeton : {string.Join(", ", posted)}");
        Assert.That(posted, Has.Some.Contains("handler=Publier").And.Some.Contains("handler=RemoveReminder").And.Some.Contains("/deconnexion"));
    }

    [Test]
    public async Task SignUpSubscribeAndLoginFailures_Logs_NeverHoldAFullEmailAddress()
    {
        var email = $"journal.personne-{Guid.NewGuid():N}@example.org";
        var existing = await TestUsers.CreateAsync(SharedDatabase.DataSource);
        using var client = CreateClient(app);
        var before = logs.Lines.Count;

        await PostAsync(client, "/inscription", [F("Email", email), F("Password", TestUsers.Password),
            F("OrganisationName", TestData.Unique("Association du journal")), F("OrganisationType", "association"), F("territoire", "33")]);
        await PostAsync(client, "/inscription", [F("Email", existing.Email), F("Password", "court")]);
        await PostAsync(client, "/connexion", [F("Email", email), F("Password", "pas-le-bon-mot-de-passe")]);
        await PostAsync(client, "/connexion", [F("Email", existing.Email), F("Password", "pas-le-bon-mot-de-passe")]);
        await PostAsync(client, "/mot-de-passe-oublie", [F("Email", existing.Email)]);
        await PostAsync(client, "/alertes", [F("Email", email), F("territoire", "33"), F("Kinds", "aap"), F("Frequency", "weekly")]);
        await PostAsync(client, $"/alertes/rappel?offre=1", [F("OpportunityId", "1"), F("Email", email)], postTo: "/alertes/rappel");

        var written = logs.Lines.Skip(before).ToList();
        Assert.That(written, Has.Some.Contains("j***@example.org"), "the failures and sign-up are logged, masked");
        foreach (var address in new[] { email, existing.Email })
        {
            Assert.That(written, Has.None.Contains(address).IgnoreCase);
            Assert.That(written, Has.None.Contains(address.Split('@')[0]).IgnoreCase);
        }
    }

    [TestCase("jeanne.dupont@example.org", "j***@example.org")]
    [TestCase("  A@b.fr ", "A***@b.fr")]
    [TestCase("pas-une-adresse", "***")]
    [TestCase("@example.org", "***")]
    [TestCase(null, "***")]
    public void MaskEmail_Address_KeepsFirstLetterAndDomain(string? email, string expected) =>
        Assert.That(LogMasking.MaskEmail(email), Is.EqualTo(expected));

    /// <summary>Passwords and keys come from the environment (e.g. ConnectionStrings__Default, Smtp__Password), never from committed files.</summary>
    [Test]
    public void CommittedSettings_HoldNoPasswordOrSecret()
    {
        var files = Directory.EnumerateFiles(RepositoryRoot.Path, "appsettings*.json", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();
        Assert.That(files, Is.Not.Empty);
        foreach (var file in files)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
            foreach (var (path, value) in Leaves(doc.RootElement, ""))
            {
                var key = path.ToLowerInvariant();
                if (key.Contains("password") || key.Contains("secret") || key.Contains("apikey") || key.EndsWith(":token", StringComparison.Ordinal))
                {
                    Assert.That(value, Is.Empty, $"{file} : {path} doit venir de l'environnement");
                }

                Assert.That(value, Does.Not.Match("(?i)(password|pwd)\\s*="), $"{file} : {path} contient un mot de passe");
            }
        }
    }

    private static IEnumerable<(string Path, string Value)> Leaves(JsonElement e, string path) => e.ValueKind switch
    {
        JsonValueKind.Object => e.EnumerateObject().SelectMany(p => Leaves(p.Value, path.Length == 0 ? p.Name : path + ":" + p.Name)),
        JsonValueKind.Array => e.EnumerateArray().SelectMany((x, i) => Leaves(x, $"{path}:{i}")),
        _ => [(path, e.ToString())],
    };
}
