using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Dapper;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Accounts;
using Opportunites.Web.Digests;
using static Opportunites.Tests.Infrastructure.WebForms;

namespace Opportunites.Tests.Publishing;

/// <summary>The issuer's form and preview pages (issue 21, items 2, 3, 6, 7, 8).</summary>
public sealed partial class IssuerSpaceTests
{
    private AppFactory app = null!;

    [OneTimeSetUp]
    public void Start() => app = new AppFactory();

    [OneTimeTearDown]
    public async Task Stop() => await app.DisposeAsync();

    private static long IdFrom(HttpResponseMessage r) => long.Parse(r.Headers.Location!.ToString().Split('/')[3], CultureInfo.InvariantCulture);

    private static string S(long id) => id.ToString(CultureInfo.InvariantCulture);

    private static async Task<T> ScalarAsync<T>(string sql, object args)
    {
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    /// <summary>Whether the board's results for that theme list the offer (the search box echoes the title: results only).</summary>
    private static async Task<bool> ListedAsync(HttpClient client, string title, string theme)
    {
        var html = await client.GetStringAsync($"/offres?theme={theme}&q={Uri.EscapeDataString(title)}");
        var start = html.IndexOf("<ol class=\"results\">", StringComparison.Ordinal);
        return start >= 0 && WebUtility.HtmlDecode(html[start..html.IndexOf("</ol>", start, StringComparison.Ordinal)]).Contains(title, StringComparison.Ordinal);
    }

    [GeneratedRegex("<div class=\"description\">\\s*(.*?)\\s*</div>", RegexOptions.Singleline)]
    private static partial Regex DescriptionDiv();

    [Test]
    public async Task Create_SeveralThemes_StoredShownAndOnTheBoardThemeFilter()
    {
        var (client, _) = await TestUsers.LoggedInAsync(app, trusted: true);
        var title = TestData.Unique("AAP tiers-lieux numériques jeunesse");
        var fields = PostingTests.AapFields(title, InDays(20));
        fields.Add(F("Input.Themes", "jeunesse"));
        fields.Add(F("Input.Themes", "numerique"));

        var form = await GetTextAsync(client, "/espace/offres/nouvelle");
        var r = await PostAsync(client, "/espace/offres/nouvelle", fields);

        Assert.That(form, Does.Contain("name=\"Input.Themes\" value=\"numerique\""));
        var id = IdFrom(r);
        var themes = await ScalarAsync<string[]>("SELECT array_agg(theme_code ORDER BY theme_code) FROM opportunity_themes WHERE opportunity_id = @id", new { id });
        Assert.That(themes, Is.EqualTo(new[] { "jeunesse", "numerique" }));
        Assert.That(await GetTextAsync(client, $"/espace/offres/{id}"), Does.Contain("Thèmes : Jeunesse, Numérique"));
        Assert.That(await ListedAsync(client, title, "numerique"), Is.True);
        Assert.That(await ListedAsync(client, title, "sport"), Is.False);
        client.Dispose();
    }

    [Test]
    public async Task Edit_PublishedOfferOfNonTrustedOrganisation_StaysPublicWhileTheChangeWaits()
    {
        var (client, user) = await TestUsers.LoggedInAsync(app);
        var title = TestData.Unique("AAP déjà publié");
        var id = await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, title, ["33"], deadline: DateOnly.FromDateTime(DateTime.UtcNow.AddDays(30)),
            issuerId: user.IssuerId);
        await using (var conn = await SharedDatabase.DataSource.OpenConnectionAsync())
        {
            await conn.ExecuteAsync("UPDATE opportunities SET beneficiaries = 'associations' WHERE id = @id", new { id });
        }

        var editor = await GetTextAsync(client, $"/espace/offres/{id}/modifier");
        var r = await PostAsync(client, $"/espace/offres/{id}/modifier", PostingTests.AapFields(title + " (corrigé)", InDays(40)));

        Assert.That(editor, Does.Contain("la version actuelle reste visible sur le site"));
        Assert.That(editor, Does.Contain("Soumettre les modifications à validation").And.Not.Contain("Enregistrer le brouillon"));
        Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(await ScalarAsync<string>("SELECT status FROM opportunities WHERE id = @id", new { id }), Is.EqualTo("published"));
        Assert.That(await BoardLookup.IsListedAsync(client, title), Is.True);
        var detail = await client.GetAsync(OfferLinks.DetailPath(id, title));
        Assert.That(detail.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var preview = await GetTextAsync(client, $"/espace/offres/{id}");
        Assert.That(preview, Does.Contain("Modifications enregistrées : elles seront en ligne après validation"));
        Assert.That(preview, Does.Contain("Modification en attente de validation").And.Contain(title + " (corrigé)"));

        var (admin, _) = await TestUsers.LoggedInAsync(app, Policies.AdminRole);
        var approved = await PostAsync(admin, "/admin/moderation", [F("id", S(id))], postTo: "/admin/moderation?handler=AccepterModification");
        Assert.That(approved.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(await GetTextAsync(admin, "/admin/moderation"), Does.Contain($"Modifications de « {title} (corrigé) » publiées"));
        Assert.That(await BoardLookup.IsListedAsync(client, title + " (corrigé)"), Is.True);
        var mail = (await OutboxReader.GetAsync(SharedDatabase.DataSource, user.Email, "moderation")).Single();
        Assert.That(mail.Subject, Is.EqualTo($"Vos modifications sont en ligne : {title} (corrigé)"));
        client.Dispose();
        admin.Dispose();
    }

    [Test]
    public async Task Preview_ListsAndLineBreaks_RenderedAsOnThePublicPage()
    {
        var (client, _) = await TestUsers.LoggedInAsync(app, trusted: true);
        var title = TestData.Unique("AAP description riche");
        var fields = PostingTests.AapFields(title, InDays(20));
        fields.RemoveAll(f => f.Key == "Input.Description");
        fields.Add(F("Input.Description", "Première ligne\r\nDeuxième ligne\r\n\r\nPublics :\r\n- jeunes\r\n- familles"));
        var id = IdFrom(await PostAsync(client, "/espace/offres/nouvelle", fields));

        var preview = await client.GetStringAsync($"/espace/offres/{id}");
        var publicPage = await client.GetStringAsync(OfferLinks.DetailPath(id, title));

        var mine = DescriptionDiv().Match(preview).Groups[1].Value;
        Assert.That(mine, Does.Contain("<li>jeunes</li>").And.Contain("<br"));
        Assert.That(mine, Is.EqualTo(DescriptionDiv().Match(publicPage).Groups[1].Value));
        client.Dispose();
    }

    [Test]
    public async Task Draft_SubmitDeleteAndDuplicate_DoWhatTheySay()
    {
        var (client, user) = await TestUsers.LoggedInAsync(app);
        var title = TestData.Unique("Poste d'animateur");
        // A job draft without contract type: saved (item 8), then refused at submission until completed.
        var draft = await PostAsync(client, "/espace/offres/nouvelle",
            [F("Input.Kind", "emploi"), F("Input.Title", title), F("Input.Territories", "33"), F("Action", "brouillon")]);
        var id = IdFrom(draft);
        var page = await GetTextAsync(client, $"/espace/offres/{id}");
        Assert.That(page, Does.Contain("Brouillon enregistré").And.Contain("Soumettre à validation").And.Contain("Supprimer le brouillon"));

        var refused = await TextAsync(await PostAsync(client, $"/espace/offres/{id}", [], postTo: $"/espace/offres/{id}?handler=Soumettre"));
        Assert.That(refused, Does.Contain("Complétez l'offre avant de la soumettre").And.Contain("Choisissez le type de contrat."));

        var copy = await PostAsync(client, $"/espace/offres/{id}", [], postTo: $"/espace/offres/{id}?handler=Dupliquer");
        var copyId = long.Parse(copy.Headers.Location!.ToString().Split('/')[3], CultureInfo.InvariantCulture);
        Assert.That(await ScalarAsync<string>("SELECT title FROM opportunities WHERE id = @copyId", new { copyId }), Is.EqualTo("Copie de " + title));

        var deleted = await PostAsync(client, $"/espace/offres/{copyId}", [], postTo: $"/espace/offres/{copyId}?handler=Supprimer");
        Assert.That(deleted.Headers.Location!.ToString(), Is.EqualTo("/espace"));
        Assert.That(await GetTextAsync(client, "/espace"), Does.Contain($"Brouillon « Copie de {title} » supprimé."));
        Assert.That(await ScalarAsync<int>("SELECT count(*)::int FROM opportunities WHERE id = @copyId", new { copyId }), Is.Zero);

        var completed = PostingTests.AapFields(title, InDays(10));
        completed.RemoveAll(f => f.Key is "Input.Kind" or "Input.Beneficiaries" or "Action");
        completed.AddRange([F("Input.Kind", "emploi"), F("Input.ContractType", "cdd"), F("Action", "brouillon")]);
        var saved = await PostAsync(client, $"/espace/offres/{id}/modifier", completed);
        Assert.That(await GetTextAsync(client, saved.Headers.Location!.ToString()), Does.Contain("Modifications enregistrées"));
        var submitted = await PostAsync(client, $"/espace/offres/{id}", [], postTo: $"/espace/offres/{id}?handler=Soumettre");
        Assert.That(submitted.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(await ScalarAsync<string>("SELECT status FROM opportunities WHERE id = @id", new { id }), Is.EqualTo("pending"));
        Assert.That(await ScalarAsync<int>("SELECT count(*)::int FROM opportunities WHERE issuer_id = @IssuerId", user), Is.EqualTo(1));
        client.Dispose();
    }

    [Test]
    public async Task Close_AsksForConfirmationWithoutScriptThenSaysItIsDone()
    {
        var (client, _) = await TestUsers.LoggedInAsync(app, trusted: true);
        var title = TestData.Unique("AAP à clore");
        var id = IdFrom(await PostAsync(client, "/espace/offres/nouvelle", PostingTests.AapFields(title, InDays(10))));

        var page = await client.GetStringAsync($"/espace/offres/{id}");
        // The closing button sits inside a <details> that must be opened first: no single click closes the offer.
        var details = Regex.Match(page, "<details class=\"confirm\">\\s*<summary[^>]*>Clore maintenant</summary>(.*?)</details>", RegexOptions.Singleline);
        Assert.That(details.Success, Is.True);
        Assert.That(details.Groups[1].Value, Does.Contain("handler=Clore"));
        Assert.That(Regex.Matches(page, "handler=Clore").Count, Is.EqualTo(1));

        var closed = await PostAsync(client, $"/espace/offres/{id}", [], postTo: $"/espace/offres/{id}?handler=Clore");
        Assert.That(await GetTextAsync(client, closed.Headers.Location!.ToString()), Does.Contain("Offre close : elle n'apparaît plus"));
        Assert.That(await BoardLookup.IsListedAsync(client, title), Is.False);
        client.Dispose();
    }

    [Test]
    public async Task Form_RequiredMarksOptionalTimeAndPublierForTrusted()
    {
        var (trusted, _) = await TestUsers.LoggedInAsync(app, trusted: true);
        var (other, _) = await TestUsers.LoggedInAsync(app);

        var trustedForm = await GetTextAsync(trusted, "/espace/offres/nouvelle");
        var otherForm = await GetTextAsync(other, "/espace/offres/nouvelle");

        Assert.That(trustedForm, Does.Contain(">Publier</button>"));
        Assert.That(otherForm, Does.Contain(">Soumettre à validation</button>").And.Not.Contain(">Publier</button>"));
        Assert.That(trustedForm, Does.Contain("Les champs marqués <span class=\"required\">*</span> sont obligatoires"));
        Assert.That(Regex.IsMatch(trustedForm, "Titre <span class=\"required\" aria-hidden=\"true\">\\*</span>"), Is.True);
        Assert.That(trustedForm, Does.Contain("name=\"Input.DeadlineTime\""));

        var title = TestData.Unique("AAP clôture à midi");
        var fields = PostingTests.AapFields(title, InDays(10));
        fields.Add(F("Input.DeadlineTime", "12h00"));
        var id = IdFrom(await PostAsync(trusted, "/espace/offres/nouvelle", fields));
        Assert.That(await ScalarAsync<TimeSpan>("SELECT deadline_time FROM opportunities WHERE id = @id", new { id }), Is.EqualTo(TimeSpan.FromHours(12)));
        Assert.That(await GetTextAsync(trusted, OfferLinks.DetailPath(id, title)), Does.Contain("à 12h00"));
        trusted.Dispose();
        other.Dispose();
    }

    [Test]
    public async Task Publier_SendsEachVisitorWhereTheyCanPublish()
    {
        var anonymous = CreateClient(app);
        var (issuer, _) = await TestUsers.LoggedInAsync(app);

        var landing = await anonymous.GetAsync("/publier");
        var forIssuer = await issuer.GetAsync("/publier");

        Assert.That(landing.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var text = await TextAsync(landing);
        Assert.That(text, Does.Contain("href=\"/inscription\"").And.Contain("href=\"/connexion?retour=%2Fpublier\""));
        Assert.That(forIssuer.Headers.Location!.ToString(), Is.EqualTo("/espace/offres/nouvelle"));
        // After signing in from the landing page, an issuer comes back to /publier and on to the form.
        var user = await TestUsers.CreateAsync(SharedDatabase.DataSource);
        var login = await PostAsync(anonymous, "/connexion?retour=%2Fpublier", [F("Email", user.Email), F("Password", user.Password)]);
        Assert.That(login.Headers.Location!.ToString(), Is.EqualTo("/publier"));
        Assert.That((await anonymous.GetAsync("/publier")).Headers.Location!.ToString(), Is.EqualTo("/espace/offres/nouvelle"));
        anonymous.Dispose();
        issuer.Dispose();
    }
}
