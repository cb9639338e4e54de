using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Mail;

namespace Opportunites.Tests.Admin;

/// <summary>/admin/taches, /admin/courriels and /healthz, on a database of this fixture's own.</summary>
public sealed partial class AdminJobsPagesTests
{
    private PrivateDatabase _db = null!;
    private WebApplicationFactory<Program> _app = null!;
    private string _pickup = "";

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _db = await PrivateDatabase.CreateAsync();
        _pickup = Path.Combine(Path.GetTempPath(), "admin-mail-" + Guid.NewGuid().ToString("N")[..8]);
        _app = new AppFactory(_db.ConnectionString).WithWebHostBuilder(b =>
        {
            // This node runs the scheduler (the shared AppFactory turns it off): "Lancer maintenant" must really run.
            b.UseSetting("Jobs:Enabled", "true");
            b.UseSetting("Jobs:Schedules:deliver", "0 0 0 31 2 ?");
            b.UseSetting("Mail:PickupDirectory", _pickup);
        });
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _app.DisposeAsync();
        await _db.DisposeAsync();
        if (Directory.Exists(_pickup))
        {
            Directory.Delete(_pickup, recursive: true);
        }
    }

    // Through the real login form, with a user of this fixture's database (the session is checked against it).
    private async Task SignInAsync(HttpClient client, string role, string? email = null) =>
        await TestUsers.LoginAsync(client, await TestUsers.CreateAsync(_db.DataSource, role, email: email));

    private HttpClient Client() => _app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();

    [TestCase("/admin/taches")]
    [TestCase("/admin/courriels")]
    public async Task Get_Anonymous_RedirectsToLogin(string path)
    {
        var response = await Client().GetAsync(path);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(response.Headers.Location!.ToString(), Does.Contain("/connexion"));
    }

    [Test]
    public async Task Get_IssuerNotAdmin_IsRefused()
    {
        var client = Client();
        await SignInAsync(client, "issuer");

        var response = await client.GetAsync("/admin/taches");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(response.Headers.Location!.ToString(), Does.Contain("/acces-refuse"));
    }

    [Test]
    public async Task GetJobs_Admin_ShowsEachJobWithScheduleInWordsAndNextRun()
    {
        var client = Client();
        await SignInAsync(client, "admin");

        var html = await client.GetStringAsync("/admin/taches");

        Assert.That(html, Does.Contain("Expiration des offres et relances de renouvellement"));
        Assert.That(html, Does.Contain("<span class=\"schedule\">toutes les 15 minutes</span> <small>(<code>0 0/15 * * * ?</code>)</small>"));
        Assert.That(html, Does.Contain("<span class=\"schedule\">chaque lundi à 7 h</span>"));
        Assert.That(html, Does.Contain("Envoi des courriels en attente"));
        Assert.That(html, Does.Contain("Lancer maintenant"));
        Assert.That(html, Does.Contain("href=\"/admin/hangfire\""));
        // Jobs:Schedules:deliver given by this fixture replaced the default schedule.
        Assert.That(html, Does.Contain("<span class=\"schedule\">jamais</span> <small>(<code>0 0 0 31 2 ?</code>)</small>"));
        // Next run of the expiry job, from Hangfire's storage: a Paris date and time on a quarter hour, not "—".
        var expiry = html[html.IndexOf("id=\"tache-expire\"", StringComparison.Ordinal)..];
        Assert.That(expiry, Does.Match(@"<dd class=""next-run"">\d{2}/\d{2}/\d{4} \d{2}:(00|15|30|45):00</dd>"));
    }

    [Test]
    public async Task GetJobs_ManyDeliveryRuns_WeeklyDigestRunStillShownWithAccentedCounters()
    {
        await using (var conn = await _db.DataSource.OpenConnectionAsync())
        {
            // A week of delivery runs after the last weekly digest, up to now (the last ones newer than this fixture's own):
            // the digest's run must stay on the page.
            await conn.ExecuteAsync("""
                INSERT INTO job_runs (job_name, scheduled_at, trigger_kind, node, started_at, finished_at, duration_ms, outcome, counts)
                VALUES ('veille-hebdomadaire', '2026-11-23 06:00:00+00', 'schedule', 'noeud-test', '2026-11-23 06:00:01+00',
                        '2026-11-23 06:00:09+00', 8000, 'succeeded', '{"en_file": 1234, "deja_servies": 2}');
                INSERT INTO job_runs (job_name, scheduled_at, trigger_kind, node, started_at, finished_at, duration_ms, outcome, counts)
                SELECT 'deliver', t, 'event', 'noeud-test', t, t + interval '1 second', 1000, 'succeeded', '{"envoyes": 1, "echecs": 0}'
                FROM generate_series(now() - interval '7 days', now() + interval '1 minute', interval '1 minute') AS t;
                """);
        }

        var client = Client();
        await SignInAsync(client, "admin");
        var html = WebUtility.HtmlDecode(await client.GetStringAsync("/admin/taches"));

        var digest = html[html.IndexOf("id=\"tache-veille-hebdomadaire\"", StringComparison.Ordinal)..];
        digest = digest[..digest.IndexOf("</section>", StringComparison.Ordinal)];
        Assert.That(digest, Does.Contain("23/11/2026 07:00:01"), "the digest's run, in Paris time, under its own job");
        Assert.That(digest, Does.Contain("mis en file : 1\u202f234, déjà servies : 2"));
        var delivery = html[html.IndexOf("id=\"tache-deliver\"", StringComparison.Ordinal)..];
        delivery = delivery[..delivery.IndexOf("</section>", StringComparison.Ordinal)];
        Assert.That(Regex.Matches(delivery, "<td class=\"run-counts\">").Count, Is.LessThanOrEqualTo(5));
        Assert.That(delivery, Does.Contain("échecs : 0, envoyés : 1"));
        Assert.That(delivery, Does.Contain("Courriels mis en file"));
    }

    [Test]
    public async Task Dashboard_Anonymous_RedirectsToLogin()
    {
        var response = await Client().GetAsync("/admin/hangfire");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(response.Headers.Location!.ToString(), Does.Contain("/connexion"));
    }

    [Test]
    public async Task Dashboard_IssuerNotAdmin_IsRefused()
    {
        var client = Client();
        await SignInAsync(client, "issuer");

        var response = await client.GetAsync("/admin/hangfire");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(response.Headers.Location!.ToString(), Does.Contain("/acces-refuse"));
        var refused = await client.GetAsync(response.Headers.Location);
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }

    [Test]
    public async Task Dashboard_Admin_InFrenchWithInlineStylesAllowedOnlyThere()
    {
        var client = Client();
        await SignInAsync(client, "admin");

        var response = await client.GetAsync("/admin/hangfire/recurring");
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        var jobsPage = await client.GetAsync("/admin/taches");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(html, Does.Contain("Tâches récurrentes"), "Hangfire's French translation");
        Assert.That(html, Does.Contain("veille-hebdomadaire"));
        Assert.That(response.Headers.GetValues("Content-Security-Policy").Single(), Does.Contain("style-src 'self' 'unsafe-inline'")
            .And.Contain("script-src 'self';"));
        Assert.That(jobsPage.Headers.GetValues("Content-Security-Policy").Single(), Does.Not.Contain("unsafe-inline"));
    }

    [Test]
    public async Task Dashboard_PostWithoutAntiforgeryToken_IsRejectedAndTriggersNothing()
    {
        var client = Client();
        await SignInAsync(client, "admin");
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        const string count = "SELECT count(*) FROM hangfire.job WHERE invocationdata::text LIKE '%purge%'";
        var before = await conn.ExecuteScalarAsync<long>(count);

        var response = await client.PostAsync("/admin/hangfire/recurring/trigger",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["jobs[]"] = "purge" }));

        Assert.That((int)response.StatusCode, Is.AnyOf(400, 403));
        Assert.That(await conn.ExecuteScalarAsync<long>(count), Is.EqualTo(before));
    }

    [Test]
    public async Task PostRun_Admin_RunsJobOnceAndAuditsWhoAskedForIt()
    {
        var client = Client();
        var admin = $"admin-{Guid.NewGuid():N}@example.org";
        await SignInAsync(client, "admin", admin);
        var page = await client.GetStringAsync("/admin/taches");
        var token = AntiforgeryToken().Match(page).Groups[1].Value;

        var response = await client.PostAsync("/admin/taches?handler=Run", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["job"] = "expire",
            ["__RequestVerificationToken"] = token,
        }));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        var run = await WaitForManualRunAsync(admin);
        Assert.That(run, Is.Not.Null, "the manual run did not happen within 20 s");
        Assert.That(run!.Value.Outcome, Is.EqualTo("succeeded"));
        var after = await client.GetStringAsync("/admin/taches");
        Assert.That(after, Does.Contain($"Manuelle ({admin})"));
    }

    [Test]
    public async Task PostRun_WithoutAntiforgeryToken_IsRejected()
    {
        var client = Client();
        await SignInAsync(client, "admin");

        var response = await client.PostAsync("/admin/taches?handler=Run",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["job"] = "expire" }));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    [Test]
    public async Task Outbox_FailedEmail_ListedWithErrorAndRetryQueuesItAgain()
    {
        var to = $"echec-{Guid.NewGuid():N}@example.org";
        long id;
        await using (var conn = await _db.DataSource.OpenConnectionAsync())
        {
            // One transaction: this node runs the delivery sweep, which must never see the row still queued.
            await using var tx = await conn.BeginTransactionAsync();
            id = (await Outbox.EnqueueAsync(conn, tx, new OutgoingEmail("verification", to, "Sujet <b>", "t", "<p>h</p>")))!.Value;
            await conn.ExecuteAsync("UPDATE outbox SET status = 'failed', attempts = 8, last_error = 'SMTP 550 boîte inconnue' WHERE id = @id", new { id }, tx);
            await tx.CommitAsync();
        }

        var client = Client();
        await SignInAsync(client, "admin");
        var page = await client.GetStringAsync("/admin/courriels");
        var token = AntiforgeryToken().Match(page).Groups[1].Value;
        var response = await client.PostAsync("/admin/courriels?handler=Retry", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["id"] = id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["__RequestVerificationToken"] = token,
        }));

        Assert.That(page, Does.Contain(to));
        Assert.That(page, Does.Contain("SMTP 550 boîte inconnue"));
        Assert.That(page, Does.Contain("Sujet &lt;b&gt;"), "user text is escaped");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        await using var check = await _db.DataSource.OpenConnectionAsync();
        var state = await check.QuerySingleAsync<(string Status, int Attempts)>("SELECT status, attempts FROM outbox WHERE id = @id", new { id });
        Assert.That(state, Is.EqualTo(("queued", 0)));
    }

    [Test]
    public async Task Outbox_EmailBeingRetried_ListedWithAttemptsAndLastError()
    {
        var to = $"reprise-{Guid.NewGuid():N}@example.org";
        await using (var conn = await _db.DataSource.OpenConnectionAsync())
        {
            // One transaction: this node runs the delivery sweep, which must never see the row due now.
            await using var tx = await conn.BeginTransactionAsync();
            var id = (await Outbox.EnqueueAsync(conn, tx, new OutgoingEmail("verification", to, "Sujet <i>", "t", "<p>h</p>")))!.Value;
            // As the delivery job leaves a row after a 451: still queued, attempts counted, next try later.
            await conn.ExecuteAsync("""
                UPDATE outbox SET attempts = 3, last_error = 'SMTP 451 4.3.0 Essayez plus tard', next_attempt_at = now() + interval '1 hour'
                WHERE id = @id
                """, new { id }, tx);
            await tx.CommitAsync();
        }

        var client = Client();
        await SignInAsync(client, "admin");
        var page = WebUtility.HtmlDecode(await client.GetStringAsync("/admin/courriels"));

        var reprises = page[page.IndexOf("Courriels en reprise", StringComparison.Ordinal)..page.IndexOf("Courriels en échec", StringComparison.Ordinal)];
        Assert.That(reprises, Does.Contain(to));
        Assert.That(reprises, Does.Match("<td class=\"tentatives\"[^>]*>3</td>"));
        Assert.That(reprises, Does.Contain("SMTP 451 4.3.0 Essayez plus tard"));
        Assert.That(await client.GetStringAsync("/admin/courriels"), Does.Contain("Sujet &lt;i&gt;"), "user text is escaped");
    }

    [Test]
    public async Task Healthz_ReportsHangfireServersAndOutboxBacklog()
    {
        await using (var conn = await _db.DataSource.OpenConnectionAsync())
        {
            // Deferred (as after a 451): still in the backlog, not sent by this node meanwhile.
            await using var tx = await conn.BeginTransactionAsync();
            var id = await Outbox.EnqueueAsync(conn, tx, new OutgoingEmail("verification", $"sante-{Guid.NewGuid():N}@example.org", "S", "t", "h"));
            await conn.ExecuteAsync("UPDATE outbox SET next_attempt_at = now() + interval '1 hour' WHERE id = @id", new { id }, tx);
            await tx.CommitAsync();
        }

        // The Hangfire server announces itself once the host has started: until then the node says so (degraded).
        var client = Client();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        async Task<string> ReadAsync() => await (await client.GetAsync("/healthz?details")).Content.ReadAsStringAsync();
        var body = await ReadAsync();
        while (!body.StartsWith("{\"status\":\"Healthy\"", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            body = await ReadAsync();
        }

        using var json = JsonDocument.Parse(body);
        var checks = json.RootElement.GetProperty("checks");
        Assert.That(checks.GetProperty("jobs").GetProperty("status").GetString(), Is.EqualTo("Healthy"), body);
        Assert.That(checks.GetProperty("jobs").GetProperty("data").GetProperty("serveurs_hangfire").GetInt32(), Is.GreaterThanOrEqualTo(1));
        Assert.That(checks.GetProperty("outbox").GetProperty("data").GetProperty("en_attente").GetInt64(), Is.GreaterThanOrEqualTo(1));
    }

    private async Task<(string Outcome, string Node)?> WaitForManualRunAsync(string admin)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            await using var conn = await _db.DataSource.OpenConnectionAsync();
            var row = await conn.QuerySingleOrDefaultAsync<(string Outcome, string Node)?>(
                "SELECT outcome, node FROM job_runs WHERE trigger_kind = 'manual' AND requested_by = @admin AND outcome <> 'running'",
                new { admin });
            if (row is not null)
            {
                return row;
            }

            await Task.Delay(200);
        }

        return null;
    }
}
