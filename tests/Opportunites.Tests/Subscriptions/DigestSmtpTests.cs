using System.Globalization;
using System.Net;
using Dapper;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Accounts;
using Opportunites.Web.Board;
using Opportunites.Web.Digests;
using Opportunites.Web.Jobs;
using Opportunites.Web.Mail;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Shared;
using Opportunites.Web.Subscriptions;
using static Opportunites.Tests.Subscriptions.AlertTestKit;

namespace Opportunites.Tests.Subscriptions;

/// <summary>
/// Digests and reminders end to end over real SMTP: the app delivers its outbox to an aiosmtpd process, and the tests
/// read what that server received (parsed by Python's email package) and follow the links in it, as a subscriber would.
/// One database of this fixture's own: the weekly job and the delivery act on every row.
/// </summary>
public sealed class DigestSmtpTests
{
    private const string BaseUrl = "http://localhost";
    private const string From = "veille@opportunites.test";

    // Every job of the app, never scheduled (31 February): this node's scheduler runs (so that "Lancer maintenant" on the jobs page
    // is really taken and run), but nothing runs on its own behind the tests' backs. Checked in the setup.
    private const string Never = "0 0 0 31 2 ?";
    private static readonly string[] Jobs =
    [
        WeeklyDigestJob.Name, DailyDigestJob.Name, DeadlineReminderJob.Name, DeliveryJob.Name, ExpiryJob.Name, PurgeJob.Name,
        Opportunites.Web.Moderation.ModerationQueueJob.Name,
    ];

    private PrivateDatabase _db = null!;
    private SmtpServer _smtp = null!;
    private WebApplicationFactory<Program> _app = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _db = await PrivateDatabase.CreateAsync("opportunites_smtpe2e");
        _smtp = await SmtpServer.StartAsync();
        _app = new AppFactory(_db.ConnectionString, new Dictionary<string, string>
        {
            ["Smtp:Host"] = _smtp.Host,
            ["Smtp:Port"] = _smtp.Port.ToString(CultureInfo.InvariantCulture),
            ["Smtp:From"] = From,
            ["Smtp:FromName"] = "Opportunités",
            ["Smtp:TimeoutSeconds"] = "10",
            ["Site:BaseUrl"] = BaseUrl,
            ["Alertes:FormPermitLimit"] = "1000",
        }).WithWebHostBuilder(b =>
        {
            b.UseSetting("Jobs:Enabled", "true");
            foreach (var job in Jobs)
            {
                b.UseSetting($"Jobs:Schedules:{job}", Never);
            }
        });

        var registered = _app.Services.GetRequiredService<JobsRegistry>().All.Select(j => j.Name);
        Assert.That(registered.Except(Jobs), Is.Empty, "un job ajouté à l'app doit être déclaré « jamais » ici");
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _app.DisposeAsync();
        await _smtp.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Test]
    public async Task WeeklyDigest_SubscribedByFormAndRunFromJobsPage_ArrivesOnceOverSmtpAndOneClickStopsIt()
    {
        var email = UniqueEmail("veille-smtp");
        var neighbour = UniqueEmail("voisin-smtp");
        using var browser = WebForms.CreateClient(_app);
        using var neighbourBrowser = WebForms.CreateClient(_app);

        var confirmation = await SubscribeThroughFormAsync(browser, email, "33");
        await SubscribeThroughFormAsync(neighbourBrowser, neighbour, "33");

        Assert.Multiple(() =>
        {
            Assert.That(confirmation.Header("Subject"), Is.EqualTo("Confirmez votre alerte Opportunités"));
            Assert.That(confirmation.Text, Does.Contain("Gironde"));
            Assert.That(confirmation.HtmlLinks, Does.Contain(confirmation.Link("/alertes/confirmer")));
        });

        // Published ten minutes ago: a digest's window ends two minutes before its run (Alertes:PublicationSettleDelay).
        var published = DateTimeOffset.UtcNow.AddMinutes(-10);
        var deadline = ParisDay(DateTimeOffset.UtcNow).AddDays(60);
        var issuer = await TestData.CreateIssuerAsync(_db.DataSource, TestData.Unique("Fondation Élan Solidarité"));
        var gironde = TestData.Unique("Appel à projets « Numérique solidaire » — été, œuvres & jeunesse");
        var region = TestData.Unique("Appel à projets régional Nouvelle-Aquitaine");
        var elsewhere = TestData.Unique("Appel à projets Île-de-France");
        var girondeId = await TestData.CreateOpportunityAsync(_db.DataSource, gironde, ["33"], Kinds.Aap, deadline,
            issuerId: issuer, publishedAt: published);
        await TestData.CreateOpportunityAsync(_db.DataSource, region, ["R75"], Kinds.Aap, deadline, publishedAt: published);
        await TestData.CreateOpportunityAsync(_db.DataSource, elsewhere, ["R11"], Kinds.Aap, deadline, publishedAt: published);

        // An admin runs the weekly digest from the jobs page; this node's scheduler takes the manual run.
        var admin = await TestUsers.CreateAsync(_db.DataSource, Policies.AdminRole);
        using var adminClient = WebForms.CreateClient(_app);
        await TestUsers.LoginAsync(adminClient, admin);
        var run = await WebForms.PostAsync(adminClient, "/admin/taches", [WebForms.F("job", WeeklyDigestJob.Name)],
            postTo: "/admin/taches?handler=Run");
        Assert.That(run.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        var manual = await WaitForManualRunAsync(WeeklyDigestJob.Name, admin.Email);
        Assert.That(manual.Outcome, Is.EqualTo("succeeded"), manual.Error);
        Assert.That(await WebForms.GetTextAsync(adminClient, "/admin/taches"), Does.Contain($"Manuelle ({admin.Email})"));

        // Delivery has no sweep here: the commits of the digest's batches ask for it.
        await WaitForOutboxDrainedAsync();
        var digest = Digests(email).Single();

        var weekStart = DigestRunner.PeriodStart(manual.ScheduledAt, Frequencies.Weekly);
        // The board's canonical address (a link with another slug would cost every reader a redirect).
        var detail = new Uri($"{BaseUrl}/offres/{girondeId}-{Slugs.From(gironde)}");
        Assert.Multiple(() =>
        {
            Assert.That(digest.Defects, Is.Empty);
            Assert.That(digest.Header("Subject"),
                Is.EqualTo($"2 nouvelles opportunités — semaine du {weekStart.ToString("d MMMM", ParisTime.French)}"));
            Assert.That(digest.Header("From"), Is.EqualTo($"Opportunités <{From}>"));
            Assert.That(digest.Header("To"), Does.Contain(email));
            Assert.That(digest.MailFrom, Is.EqualTo(From));
            Assert.That(digest.Header("Message-ID"), Does.Match(@"^<[^<>@\s]+@[^<>@\s]+>$"));
            Assert.That(RfcDate(digest.Header("Date")), Is.EqualTo(DateTimeOffset.UtcNow).Within(TimeSpan.FromMinutes(10)));
            Assert.That(digest.Header("List-Id"), Is.EqualTo(AlertEmails.ListId));
            Assert.That(digest.Header("List-Unsubscribe-Post"), Is.EqualTo("List-Unsubscribe=One-Click"));
            Assert.That(digest.ListUnsubscribeUrl?.ToString(), Does.StartWith(BaseUrl + "/alertes/desinscription?jeton="));
            Assert.That(digest.ContentType, Is.EqualTo("multipart/alternative"));
            Assert.That(digest.Parts.Select(p => p.ContentType), Is.EqualTo(new[] { "text/plain", "text/html" }));
            Assert.That(digest.Parts.Select(p => p.Charset), Is.All.EqualTo("utf-8"));
            // Accents, French quotes, dash and ligature went through quoted-printable and back intact.
            Assert.That(digest.Text, Does.Contain(gironde).And.Contain(region).And.Not.Contain(elsewhere));
            Assert.That(digest.Text, Does.Contain("Fondation Élan Solidarité"));
            Assert.That(digest.Text, Does.Contain("Jusqu'au " + ParisTime.FormatDate(deadline)));
            Assert.That(digest.Html, Does.Contain(gironde.Replace("&", "&amp;", StringComparison.Ordinal)));
            Assert.That(digest.Html, Does.Contain("<html lang=\"fr\">"));
            Assert.That(digest.Links, Does.Contain(detail));
            Assert.That(digest.HtmlLinks, Does.Contain(detail));
            Assert.That(detail.AbsolutePath, Does.Match($@"^/offres/{girondeId}-[a-z0-9-]+$"));
        });

        // The offer link of the email opens the offer.
        var offerPage = await browser.GetAsync(digest.Link("/offres/"));
        Assert.That(offerPage.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await WebForms.TextAsync(offerPage), Does.Contain(gironde));

        // A second run the same week, and a second delivery, send nothing more.
        var again = await JobRunAsync(WeeklyDigestJob.Name, manual.ScheduledAt.AddHours(1));
        Assert.That(again.Counts["en_file"], Is.Zero);
        await DeliverAsync();
        Assert.That(Digests(email), Has.Count.EqualTo(1));

        // RFC 8058: the mail provider POSTs one click, without cookie nor antiforgery token.
        using var provider = WebForms.CreateClient(_app);
        var unsubscribe = await provider.PostAsync(digest.ListUnsubscribeUrl,
            new FormUrlEncodedContent([WebForms.F("List-Unsubscribe", "One-Click")]));
        Assert.That(unsubscribe.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(unsubscribe.Headers.Location, Is.Null);
        Assert.That(await WebForms.TextAsync(unsubscribe), Does.Contain("Vous êtes désinscrit"));

        // Next week: a new matching offer goes to the neighbour, and nothing more to the unsubscribed address.
        var nextWeek = TestData.Unique("Appel à projets de la semaine suivante");
        await TestData.CreateOpportunityAsync(_db.DataSource, nextWeek, ["33"], Kinds.Aap, deadline,
            publishedAt: manual.ScheduledAt.AddDays(1));
        var next = await JobRunAsync(WeeklyDigestJob.Name, manual.ScheduledAt.AddDays(7));
        Assert.That(next.Counts["en_file"], Is.EqualTo(1));
        await WaitForOutboxDrainedAsync();

        Assert.That(Digests(email), Has.Count.EqualTo(1));
        Assert.That(_smtp.MessagesTo(email), Has.Count.EqualTo(2), "la confirmation et une seule veille");
        var neighbourDigests = Digests(neighbour);
        Assert.That(neighbourDigests, Has.Count.EqualTo(2));
        Assert.That(neighbourDigests[1].Text, Does.Contain(nextWeek).And.Not.Contain(gironde));
    }

    [Test]
    public async Task DeadlineReminder_RequestedFromOfferAndConfirmedByEmail_J7ArrivesOnceOverSmtpWithOneClick()
    {
        var deadline = ParisDay(DateTimeOffset.UtcNow).AddDays(12);
        var title = TestData.Unique("Appel à manifestation d'intérêt « Été des quartiers » — cœur de ville");
        var offer = await TestData.CreateOpportunityAsync(_db.DataSource, title, ["13"], Kinds.Ami, deadline);
        var email = UniqueEmail("rappel-smtp");
        using var browser = WebForms.CreateClient(_app);

        var asked = await WebForms.PostAsync(browser, $"/alertes/rappel?offre={offer}",
            [WebForms.F("OpportunityId", offer.ToString(CultureInfo.InvariantCulture)), WebForms.F("Email", email)],
            postTo: "/alertes/rappel");
        Assert.That(asked.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await WebForms.TextAsync(asked), Does.Contain("Rappel enregistré"));
        await DeliverAsync();
        var confirmation = _smtp.MessagesTo(email).Single();
        Assert.That(confirmation.Text, Does.Contain(title));
        await ConfirmAsync(browser, confirmation);

        var sevenDaysBefore = ParisInstant(deadline.AddDays(-7), new TimeOnly(8, 0));
        await JobRunAsync(DeadlineReminderJob.Name, sevenDaysBefore);
        await JobRunAsync(DeadlineReminderJob.Name, sevenDaysBefore.AddHours(3));
        await JobRunAsync(DeadlineReminderJob.Name, sevenDaysBefore.AddDays(1));
        await DeliverAsync();
        await DeliverAsync();

        var reminders = _smtp.MessagesTo(email).Where(m => m.Header("Subject")!.StartsWith("Rappel", StringComparison.Ordinal)).ToList();
        Assert.That(reminders, Has.Count.EqualTo(1));
        var reminder = reminders[0];
        var date = ParisTime.FormatDate(deadline);
        Assert.Multiple(() =>
        {
            Assert.That(reminder.Defects, Is.Empty);
            Assert.That(reminder.Header("Subject"), Is.EqualTo($"Rappel : « {title} » se clôture le {date}"));
            Assert.That(reminder.Header("From"), Is.EqualTo($"Opportunités <{From}>"));
            Assert.That(reminder.Header("Message-ID"), Does.Match(@"^<[^<>@\s]+@[^<>@\s]+>$"));
            Assert.That(reminder.Header("Date"), Is.Not.Null);
            Assert.That(reminder.Header("List-Id"), Is.EqualTo(AlertEmails.ListId));
            Assert.That(reminder.Header("List-Unsubscribe-Post"), Is.EqualTo("List-Unsubscribe=One-Click"));
            Assert.That(reminder.ListUnsubscribeUrl?.ToString(), Does.StartWith(BaseUrl + "/alertes/desinscription?rappel="));
            Assert.That(reminder.Parts.Select(p => (p.ContentType, p.Charset)),
                Is.EqualTo(new[] { ("text/plain", "utf-8"), ("text/html", "utf-8") }));
            Assert.That(reminder.Text, Does.Contain("Il reste une semaine").And.Contain("Jusqu'au " + date));
            Assert.That(reminder.Links, Does.Contain(new Uri($"{BaseUrl}/offres/{offer}-{Slugs.From(title)}")));
            Assert.That(reminder.Links, Does.Contain(reminder.ListUnsubscribeUrl), "un lien de désinscription visible");
        });

        // One click stops the J-1 reminder.
        using var provider = WebForms.CreateClient(_app);
        var unsubscribe = await provider.PostAsync(reminder.ListUnsubscribeUrl,
            new FormUrlEncodedContent([WebForms.F("List-Unsubscribe", "One-Click")]));
        Assert.That(unsubscribe.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(unsubscribe.Headers.Location, Is.Null);
        await JobRunAsync(DeadlineReminderJob.Name, ParisInstant(deadline.AddDays(-1), new TimeOnly(8, 0)));
        await DeliverAsync();
        Assert.That(_smtp.MessagesTo(email), Has.Count.EqualTo(2), "la confirmation et le rappel J-7 seulement");
    }

    [Test]
    public async Task WeeklyDigest_CommuneSubscriber_LocalFirstThenWiderOrOnlyLocalAsChosen()
    {
        var monday = NextMonday0700();
        var published = monday.AddDays(-2);
        var deadline = ParisDay(monday).AddDays(40);
        async Task<string> OfferInAsync(string what, string territory)
        {
            var title = TestData.Unique("AAP " + what);
            await TestData.CreateOpportunityAsync(_db.DataSource, title, [territory], Kinds.Aap, deadline, publishedAt: published);
            return title;
        }

        // Published oldest first, nearest first: were the digest only "newest first", the local one would come last and
        // France first.
        var begles = await OfferInAsync("Ville de Bègles", "C33039");
        published = published.AddMinutes(10);
        var metropole = await OfferInAsync("Bordeaux Métropole", "E243300316");
        published = published.AddMinutes(10);
        var gironde = await OfferInAsync("Gironde", "33");
        published = published.AddMinutes(10);
        var region = await OfferInAsync("Nouvelle-Aquitaine", "R75");
        var france = await OfferInAsync("France", "FR");
        var merignac = await OfferInAsync("Ville de Mérignac", "C33281");
        var wide = UniqueEmail("begles-tout");
        var near = UniqueEmail("begles-local");
        using var browser = WebForms.CreateClient(_app);

        foreach (var (email, portee) in new[] { (wide, "tout"), (near, "local") })
        {
            var posted = await WebForms.PostAsync(browser, "/alertes",
            [
                WebForms.F("Email", email), WebForms.F("territoire", "Bègles"), WebForms.F("Kinds", Kinds.Aap),
                WebForms.F("Frequency", Frequencies.Weekly), WebForms.F("portee", portee),
            ]);
            Assert.That(posted.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
            await DeliverAsync();
            await ConfirmAsync(browser, _smtp.MessagesTo(email).Single());
        }

        await using (var conn = await _db.DataSource.OpenConnectionAsync())
        {
            var ids = (await conn.QueryAsync<long>("SELECT id FROM subscribers WHERE email = ANY (@emails)", new { emails = new[] { wide, near } })).ToArray();
            await Runner(_app.Services).RunAsync(monday, Frequencies.Weekly, ids);
        }

        await DeliverAsync();
        var toWide = Digests(wide).Single().Text!;
        var toNear = Digests(near).Single().Text!;
        Assert.Multiple(() =>
        {
            Assert.That(toWide, Does.Contain(begles).And.Contain(metropole).And.Contain(gironde).And.Contain(region).And.Contain(france));
            Assert.That(toWide, Does.Not.Contain(merignac));
            // The commune's own offer first, before those of the territories containing it.
            Assert.That(toWide.IndexOf(begles, StringComparison.Ordinal), Is.LessThan(toWide.IndexOf(metropole, StringComparison.Ordinal)));
            Assert.That(toWide.IndexOf(begles, StringComparison.Ordinal), Is.LessThan(toWide.IndexOf(gironde, StringComparison.Ordinal)));
            // Then the wider ones nearest first (published the other way round): métropole, département, région, France.
            Assert.That(new[] { metropole, gironde, region, france }.Select(t => toWide.IndexOf(t, StringComparison.Ordinal)), Is.Ordered);
            // "Seulement ce territoire et ce qu'il contient": none of the wider offers, nor the neighbour's.
            Assert.That(toNear, Does.Contain(begles));
            Assert.That(toNear, Does.Not.Contain(region).And.Not.Contain(france).And.Not.Contain(merignac));
            Assert.That(toNear, Does.Not.Contain(metropole).And.Not.Contain(gironde));
            Assert.That(toNear, Does.Contain("portee=local"));
        });
    }

    /// <summary>Subscribes through the /alertes form, receives the confirmation email over SMTP and confirms from its link.</summary>
    private async Task<ReceivedMessage> SubscribeThroughFormAsync(HttpClient client, string email, string territory)
    {
        var posted = await WebForms.PostAsync(client, "/alertes",
            [WebForms.F("Email", email), WebForms.F("territoire", territory), WebForms.F("Kinds", Kinds.Aap), WebForms.F("Frequency", Frequencies.Weekly)]);
        Assert.That(posted.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(await WebForms.GetTextAsync(client, posted.Headers.Location!.ToString()), Does.Contain("Vérifiez votre boîte mail"));

        await DeliverAsync();
        var confirmation = _smtp.MessagesTo(email).Single();
        await ConfirmAsync(client, confirmation);
        return confirmation;
    }

    /// <summary>Follows the confirmation link of a received email: the page shows a button, which confirms.</summary>
    private static async Task ConfirmAsync(HttpClient client, ReceivedMessage confirmation)
    {
        var link = confirmation.Link("/alertes/confirmer");
        Assert.That(link.GetLeftPart(UriPartial.Authority), Is.EqualTo(BaseUrl));
        var confirmed = await WebForms.PostAsync(client, link.ToString(), []);
        Assert.That(confirmed.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await WebForms.TextAsync(confirmed), Does.Contain("Adresse confirmée"));
    }

    private List<ReceivedMessage> Digests(string email) =>
        _smtp.MessagesTo(email).Where(m => m.Header("List-Unsubscribe")?.Contains("jeton=", StringComparison.Ordinal) == true).ToList();

    /// <summary>Delivers the whole outbox of this fixture's database now, as the delivery job would.</summary>
    private async Task DeliverAsync()
    {
        var counts = await _app.Services.GetRequiredService<OutboxDelivery>().DeliverDueAsync(CancellationToken.None);
        Assert.That(counts.Retried + counts.Failed, Is.Zero, "le serveur SMTP de test accepte tout");
        // This node also delivers on its own as soon as mail is committed: wait for that run too.
        await WaitForOutboxDrainedAsync();
    }

    /// <summary>
    /// Waits until every queued email has left and no delivery run is still going (this node delivers when mail is
    /// committed, the digest's batches included), and checks that the runs asked for by those commits succeeded.
    /// </summary>
    private async Task WaitForOutboxDrainedAsync()
    {
        const string sql = """
            SELECT (SELECT count(*) FROM outbox WHERE status = 'queued')
                 + (SELECT count(*) FROM job_runs WHERE job_name = @job AND outcome = 'running') AS pending,
                   (SELECT count(*) FROM job_runs WHERE job_name = @job AND trigger_kind = 'event' AND outcome <> 'succeeded'
                      AND outcome <> 'running') AS failed
            """;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            await using var conn = await _db.DataSource.OpenConnectionAsync();
            var (pending, failed) = await conn.QuerySingleAsync<(long Pending, long Failed)>(sql, new { job = DeliveryJob.Name });
            if (pending == 0)
            {
                Assert.That(failed, Is.Zero, "les envois demandés par la mise en file ont réussi");
                return;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException("File des courriels non vidée en 30 s.");
    }

    /// <summary>Runs a job for a given scheduled time as the scheduler would (ledger in job_runs included).</summary>
    private async Task<JobRunOutcome> JobRunAsync(string job, DateTimeOffset scheduledAt)
    {
        var outcome = await _app.Services.GetRequiredService<JobRunner>()
            .RunAsync(new JobRunContext(job, scheduledAt, "cli", "tests"), CancellationToken.None);
        Assert.That((outcome.Skipped, outcome.Outcome), Is.EqualTo((false, "succeeded")), outcome.Error);
        return outcome;
    }

    private sealed class ManualRun
    {
        public string Outcome { get; init; } = "";
        public string? Error { get; init; }
        public DateTime ScheduledAtUtc { get; init; }

        public DateTimeOffset ScheduledAt => new(DateTime.SpecifyKind(ScheduledAtUtc, DateTimeKind.Utc));
    }

    private async Task<ManualRun> WaitForManualRunAsync(string job, string admin)
    {
        const string sql = """
            SELECT outcome, error, scheduled_at AS scheduled_at_utc FROM job_runs
            WHERE job_name = @job AND trigger_kind = 'manual' AND requested_by = @admin AND outcome <> 'running'
            """;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            await using var conn = await _db.DataSource.OpenConnectionAsync();
            if (await conn.QuerySingleOrDefaultAsync<ManualRun>(sql, new { job, admin }) is { } run)
            {
                return run;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"La tâche {job} lancée depuis la page n'a pas tourné en 30 s.");
    }

    /// <summary>An RFC 5322 date ("Sun, 22 Nov 2026 01:30:00 +0100"); .NET's own formats want a colon in the offset.</summary>
    private static DateTimeOffset RfcDate(string? value)
    {
        Assert.That(value, Does.Match(@"^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$"));
        return DateTimeOffset.ParseExact(value!.Insert(value.Length - 2, ":"), "ddd, dd MMM yyyy HH:mm:ss zzz", CultureInfo.InvariantCulture);
    }
}
