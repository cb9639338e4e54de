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
            b.UseSetting("Jobs:Schedules:deliver", "0 0 3 1 1 ? 2099");
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
    public async Task GetJobs_Admin_ShowsEachJobWithScheduleAndNextRun()
    {
        var client = Client();
        await SignInAsync(client, "admin");

        var html = await client.GetStringAsync("/admin/taches");

        Assert.That(html, Does.Contain("Expiration des offres et relances de renouvellement"));
        Assert.That(html, Does.Contain("<code>0 0/15 * * * ?</code>"));
        Assert.That(html, Does.Contain("Envoi des courriels en attente"));
        Assert.That(html, Does.Contain("Lancer maintenant"));
        // Jobs:Schedules:deliver given by this fixture replaced the default schedule.
        Assert.That(html, Does.Contain("<code>0 0 3 1 1 ? 2099</code>"));
        // Next run of the expiry job: a Paris date and time, not "—".
        Assert.That(html, Does.Match(@"<code>0 0/15 \* \* \* \?</code></td>\s*<td>\d{2}/\d{2}/\d{4} \d{2}:\d{2}:00</td>"));
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
            id = (await Outbox.EnqueueAsync(conn, null, new OutgoingEmail("verification", to, "Sujet <b>", "t", "<p>h</p>")))!.Value;
            await conn.ExecuteAsync("UPDATE outbox SET status = 'failed', attempts = 8, last_error = 'SMTP 550 boîte inconnue' WHERE id = @id", new { id });
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
            var id = (await Outbox.EnqueueAsync(conn, null, new OutgoingEmail("verification", to, "Sujet <i>", "t", "<p>h</p>")))!.Value;
            // As the delivery job leaves a row after a 451: still queued, attempts counted, next try later.
            await conn.ExecuteAsync("""
                UPDATE outbox SET attempts = 3, last_error = 'SMTP 451 4.3.0 Essayez plus tard', next_attempt_at = now() + interval '1 hour'
                WHERE id = @id
                """, new { id });
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
    public async Task Healthz_ReportsSchedulerAndOutboxBacklog()
    {
        await using (var conn = await _db.DataSource.OpenConnectionAsync())
        {
            await Outbox.EnqueueAsync(conn, null, new OutgoingEmail("verification", $"sante-{Guid.NewGuid():N}@example.org", "S", "t", "h"));
        }

        // The scheduler starts once the host has started (Quartz waits for ApplicationStarted): until then the node says
        // so with a 503, which is what a load balancer should see. Run first, this test used to meet that moment.
        var client = Client();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        var response = await client.GetAsync("/healthz?details");
        while (response.StatusCode != HttpStatusCode.OK && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            response = await client.GetAsync("/healthz?details");
        }

        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), json.RootElement.ToString());
        var checks = json.RootElement.GetProperty("checks");
        Assert.That(checks.GetProperty("scheduler").GetProperty("status").GetString(), Is.EqualTo("Healthy"));
        Assert.That(checks.GetProperty("scheduler").GetProperty("data").GetProperty("noeud_actif").GetBoolean(), Is.True);
        Assert.That(checks.GetProperty("outbox").GetProperty("data").GetProperty("a_envoyer").GetInt64(), Is.GreaterThanOrEqualTo(1));
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
