using System.Net;
using Dapper;
using Opportunites.Tests.Infrastructure;
using static Opportunites.Tests.Infrastructure.WebForms;

namespace Opportunites.Tests.Accounts;

public sealed class AccountLifeCycleTests
{
    private AppFactory app = null!;

    [OneTimeSetUp]
    public void Start() => app = new AppFactory();

    [OneTimeTearDown]
    public async Task Stop() => await app.DisposeAsync();

    private static string NewEmail() => $"vie-{Guid.NewGuid():N}@example.org";

    private static KeyValuePair<string, string>[] SignUpFields(string email, string password = TestUsers.Password, string? org = null) =>
        [F("Email", email), F("Password", password), F("OrganisationName", org ?? TestData.Unique("Association du quartier")),
         F("OrganisationType", "association"), F("territoire", "33")];

    [Test]
    public async Task SignUp_VerifyLoginResetLogin_WholeLifeCycleWorks()
    {
        var email = NewEmail();
        using var client = CreateClient(app);

        var signUp = await PostAsync(client, "/inscription", SignUpFields(email));
        Assert.That(signUp.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        var sent = await GetTextAsync(client, signUp.Headers.Location!.ToString());
        Assert.That(sent, Does.Contain("un courriel vient de lui être envoyé"));

        // Not verified yet: login refused with an explanation.
        var early = await PostAsync(client, "/connexion", [F("Email", email), F("Password", TestUsers.Password)]);
        Assert.That(await TextAsync(early), Does.Contain("Confirmez d'abord votre adresse"));

        var verifyLink = await OutboxReader.GetLatestLinkAsync(SharedDatabase.DataSource, email, "verification");
        var verified = await client.GetAsync(verifyLink);
        Assert.That(verified.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(verified.Headers.Location!.ToString(), Is.EqualTo("/connexion?info=verifie"));
        // Single use: the same link a second time is refused.
        Assert.That(await GetTextAsync(client, verifyLink), Does.Contain("plus valable"));

        var login = await PostAsync(client, "/connexion", [F("Email", email.ToUpperInvariant()), F("Password", TestUsers.Password)]);
        Assert.That(login.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(login.Headers.Location!.ToString(), Is.EqualTo("/espace"));
        var space = await client.GetAsync("/espace");
        Assert.That(space.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await TextAsync(space), Does.Contain("Mon espace émetteur"));

        // Reset the password from a fresh, anonymous client.
        using var other = CreateClient(app);
        var forgot = await PostAsync(other, "/mot-de-passe-oublie", [F("Email", email)]);
        Assert.That(await TextAsync(forgot), Does.Contain("Si un compte existe pour cette adresse"));
        var resetLink = await OutboxReader.GetLatestLinkAsync(SharedDatabase.DataSource, email, "reset");
        const string newPassword = "un-tout-nouveau-mot-de-passe";
        var reset = await PostAsync(other, resetLink, [F("jeton", resetLink.Split("jeton=")[1]), F("Password", newPassword), F("Confirmation", newPassword)]);
        Assert.That(reset.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(reset.Headers.Location!.ToString(), Is.EqualTo("/connexion?info=reinitialise"));

        // The old session ends with the old password; the old password no longer works, the new one does.
        var oldSession = await client.GetAsync("/espace");
        Assert.That(oldSession.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        var oldPassword = await PostAsync(other, "/connexion", [F("Email", email), F("Password", TestUsers.Password)]);
        Assert.That(await TextAsync(oldPassword), Does.Contain("Adresse email ou mot de passe incorrect"));
        var newLogin = await PostAsync(other, "/connexion", [F("Email", email), F("Password", newPassword)]);
        Assert.That(newLogin.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));

        // The reset link is single use.
        var again = await GetTextAsync(client, resetLink);
        Assert.That(again, Does.Contain("plus valable"));
    }

    [Test]
    public async Task SignUp_KnownAndUnknownEmail_SameAnswerAndOwnerIsTold()
    {
        var existing = await TestUsers.CreateAsync(SharedDatabase.DataSource);
        using var client = CreateClient(app);

        var known = await PostAsync(client, "/inscription", SignUpFields(existing.Email));
        var unknown = await PostAsync(client, "/inscription", SignUpFields(NewEmail()));

        Assert.That(known.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(known.Headers.Location, Is.EqualTo(unknown.Headers.Location));
        var mails = await OutboxReader.GetAsync(SharedDatabase.DataSource, existing.Email);
        Assert.That(mails.Select(m => m.Category), Is.EqualTo(new[] { "account_exists" }));
    }

    [Test]
    public async Task ForgotPassword_KnownAndUnknownEmail_SamePage()
    {
        var existing = await TestUsers.CreateAsync(SharedDatabase.DataSource);
        var unknownEmail = NewEmail();
        using var client = CreateClient(app);

        var known = await TextAsync(await PostAsync(client, "/mot-de-passe-oublie", [F("Email", existing.Email)]));
        var unknown = await TextAsync(await PostAsync(client, "/mot-de-passe-oublie", [F("Email", unknownEmail)]));

        Assert.That(StripToken(known), Is.EqualTo(StripToken(unknown)));
        Assert.That(await OutboxReader.GetAsync(SharedDatabase.DataSource, existing.Email, "reset"), Has.Count.EqualTo(1));
        Assert.That(await OutboxReader.GetAsync(SharedDatabase.DataSource, unknownEmail), Is.Empty);
    }

    private static string StripToken(string html) =>
        System.Text.RegularExpressions.Regex.Replace(html, "value=\"CfDJ8[^\"]*\"", "");

    [Test]
    public async Task ResetLink_OlderThanOneHour_IsRefused()
    {
        var user = await TestUsers.CreateAsync(SharedDatabase.DataSource);
        using var client = CreateClient(app);
        await PostAsync(client, "/mot-de-passe-oublie", [F("Email", user.Email)]);
        var link = await OutboxReader.GetLatestLinkAsync(SharedDatabase.DataSource, user.Email, "reset");
        await using (var conn = await SharedDatabase.DataSource.OpenConnectionAsync())
        {
            // The link was made an hour ago: the expiry stored with it is 1 h after creation.
            await conn.ExecuteAsync("""
                UPDATE account_tokens SET expires_at = now() - interval '1 second', created_at = now() - interval '1 hour'
                WHERE user_id = @Id AND purpose = 'reset'
                """, new { user.Id });
        }

        var response = await PostAsync(client, "/mot-de-passe-oublie",
            [F("jeton", link.Split("jeton=")[1]), F("Password", "trop-tard-pour-changer"), F("Confirmation", "trop-tard-pour-changer")], postTo: link);

        Assert.That(await TextAsync(response), Does.Contain("plus valable"));
        Assert.That(await GetTextAsync(client, link), Does.Contain("plus valable"));
    }

    [Test]
    public async Task ResetToken_StoredOnlyAsHash_ExpiresAfterOneHour()
    {
        var user = await TestUsers.CreateAsync(SharedDatabase.DataSource);
        using var client = CreateClient(app);
        await PostAsync(client, "/mot-de-passe-oublie", [F("Email", user.Email)]);
        var token = (await OutboxReader.GetLatestLinkAsync(SharedDatabase.DataSource, user.Email, "reset")).Split("jeton=")[1];

        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        var row = await conn.QuerySingleAsync<(string Hash, double Minutes)>(
            "SELECT token_hash, extract(epoch FROM expires_at - created_at) / 60 FROM account_tokens WHERE user_id = @Id AND purpose = 'reset'",
            new { user.Id });
        Assert.That(row.Hash, Is.Not.EqualTo(token).And.EqualTo(Opportunites.Web.Accounts.Tokens.Hash(token)));
        Assert.That(row.Minutes, Is.EqualTo(60).Within(0.1));
    }

    [Test]
    public async Task SignUp_InvalidFields_FrenchMessages()
    {
        using var client = CreateClient(app);

        var response = await PostAsync(client, "/inscription",
            [F("Email", "pas-une-adresse"), F("Password", "court"), F("OrganisationName", ""), F("OrganisationType", "")]);
        var html = await TextAsync(response);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(html, Does.Contain("L'adresse email n'est pas valide"));
        Assert.That(html, Does.Contain("au moins 12 caractères"));
        Assert.That(html, Does.Contain("Le nom de l'organisation est obligatoire"));
        Assert.That(html, Does.Contain("Choisissez le type d'organisation"));
    }

    [Test]
    public async Task SignUp_CommonPassword_Refused()
    {
        using var client = CreateClient(app);

        var response = await PostAsync(client, "/inscription", SignUpFields(NewEmail(), password: "azertyuiop123"));

        Assert.That(await TextAsync(response), Does.Contain("trop courant"));
    }

    [Test]
    public async Task EmailChange_ConfirmedFromNewAddress_LoginUsesNewAddress()
    {
        var (client, user) = await TestUsers.LoggedInAsync(app);
        var newEmail = NewEmail();

        var wrong = await PostAsync(client, "/compte/email", [F("NewEmail", newEmail), F("CurrentPassword", "mauvais-mot-de-passe")]);
        Assert.That(await TextAsync(wrong), Does.Contain("Mot de passe actuel incorrect"));
        var response = await PostAsync(client, "/compte/email", [F("NewEmail", newEmail), F("CurrentPassword", user.Password)]);
        Assert.That(await TextAsync(response), Does.Contain("Un lien de confirmation a été envoyé"));
        // Until confirmed, the old address still logs in.
        using (var before = CreateClient(app))
        {
            await TestUsers.LoginAsync(before, user);
        }

        var link = await OutboxReader.GetLatestLinkAsync(SharedDatabase.DataSource, newEmail, "email_change");
        var confirmed = await client.GetAsync(link);

        Assert.That(confirmed.Headers.Location!.ToString(), Is.EqualTo("/connexion?info=email"));
        using var after = CreateClient(app);
        await TestUsers.LoginAsync(after, user with { Email = newEmail });
        Assert.ThrowsAsync<InvalidOperationException>(() => TestUsers.LoginAsync(CreateClient(app), user));
        client.Dispose();
    }

    [Test]
    public async Task Logout_Post_EndsSession()
    {
        var (client, _) = await TestUsers.LoggedInAsync(app);

        var response = await PostAsync(client, "/deconnexion", []);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        var space = await client.GetAsync("/espace");
        Assert.That(space.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(space.Headers.Location!.ToString(), Does.Contain("/connexion"));
        client.Dispose();
    }

    [Test]
    public void PasswordRules_ShortCommonAndGood_AsExpected()
    {
        Assert.That(Opportunites.Web.Accounts.PasswordRules.Check("abc"), Does.Contain("12 caractères"));
        Assert.That(Opportunites.Web.Accounts.PasswordRules.Check("Password1234"), Does.Contain("trop courant"));
        Assert.That(Opportunites.Web.Accounts.PasswordRules.Check("aaaaaaaaaaaaaaaa"), Does.Contain("trop courant"));
        Assert.That(Opportunites.Web.Accounts.PasswordRules.Check("cheval-agrafe-pile"), Is.Null);
    }
}
