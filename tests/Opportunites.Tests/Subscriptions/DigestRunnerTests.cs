using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Digests;
using Opportunites.Web.Mail;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Subscriptions;
using static Opportunites.Tests.Subscriptions.AlertTestKit;

namespace Opportunites.Tests.Subscriptions;

public sealed class DigestRunnerTests
{
    private AlertsAppFactory app = null!;

    [OneTimeSetUp]
    public void Start() => app = new AlertsAppFactory();

    [OneTimeTearDown]
    public async Task StopAsync() => await app.DisposeAsync();

    private static Task<long> OfferAsync(string title, string[] territories, DateTimeOffset publishedAt, DateOnly? deadline,
        string kind = Kinds.Aap, string[]? themes = null) =>
        TestData.CreateOpportunityAsync(SharedDatabase.DataSource, title, territories, kind, deadline,
            themes: themes, publishedAt: publishedAt);

    [Test]
    public async Task Run_OffersAcrossHierarchy_MatchBothWaysButNotSiblings()
    {
        var monday = NextMonday0700();
        var day = ParisDay(monday);
        var published = monday.AddDays(-2);
        var gironde = TestData.Unique("AAP Gironde");
        var region = TestData.Unique("AAP Nouvelle-Aquitaine");
        var national = TestData.Unique("AAP national");
        var landes = TestData.Unique("AAP Landes");
        var idf = TestData.Unique("AAP Île-de-France");
        await OfferAsync(gironde, ["33"], published, day.AddDays(40));
        await OfferAsync(region, ["R75"], published, day.AddDays(40));
        await OfferAsync(national, ["FR"], published, day.AddDays(40));
        await OfferAsync(landes, ["40"], published, day.AddDays(40));
        await OfferAsync(idf, ["R11"], published, day.AddDays(40));
        var girondeEmail = UniqueEmail("gironde");
        var regionEmail = UniqueEmail("region");
        var a = await SubscribeConfirmedAsync(app.Services, girondeEmail, ["33"]);
        var b = await SubscribeConfirmedAsync(app.Services, regionEmail, ["R75"]);

        await Runner(app.Services).RunAsync(monday, Frequencies.Weekly, [a, b]);

        var toGironde = (await DigestsAsync(girondeEmail)).Single();
        Assert.That(toGironde.TextBody, Does.Contain(gironde).And.Contain(region).And.Contain(national));
        Assert.That(toGironde.TextBody, Does.Not.Contain(landes).And.Not.Contain(idf));
        var toRegion = (await DigestsAsync(regionEmail)).Single();
        Assert.That(toRegion.TextBody, Does.Contain(gironde).And.Contain(landes).And.Contain(region).And.Contain(national));
        Assert.That(toRegion.TextBody, Does.Not.Contain(idf));
    }

    [Test]
    public async Task Run_KindAndThemeFilters_OnlyMatchingOffers()
    {
        var monday = NextMonday0700();
        var day = ParisDay(monday);
        var published = monday.AddDays(-1);
        var job = TestData.Unique("Emploi coordinateur culture");
        var aapCulture = TestData.Unique("AAP culture");
        var aapSport = TestData.Unique("AAP sport");
        await OfferAsync(job, ["33"], published, day.AddDays(30), Kinds.Emploi, ["culture"]);
        await OfferAsync(aapCulture, ["33"], published, day.AddDays(30), Kinds.Aap, ["culture", "jeunesse"]);
        await OfferAsync(aapSport, ["33"], published, day.AddDays(30), Kinds.Aap, ["sport"]);
        var email = UniqueEmail("filtres");
        var id = await SubscribeConfirmedAsync(app.Services, email, ["33"], kinds: [Kinds.Aap, Kinds.Ami], themes: ["culture"]);

        await Runner(app.Services).RunAsync(monday, Frequencies.Weekly, [id]);

        var digest = (await DigestsAsync(email)).Single();
        Assert.That(digest.TextBody, Does.Contain(aapCulture));
        Assert.That(digest.TextBody, Does.Not.Contain(job).And.Not.Contain(aapSport));
        Assert.That(digest.TextBody, Does.Contain("/offres?territoire=33&type=aap&type=ami&theme=culture"));
    }

    [Test]
    public async Task Run_FirstDigest_HasFrenchSubjectBodiesGroupedByKindAndUnsubscribeHeaders()
    {
        var monday = NextMonday0700();
        var day = ParisDay(monday);
        var issuer = await TestData.CreateIssuerAsync(SharedDatabase.DataSource, TestData.Unique("Fondation Solidaire"));
        var title = TestData.Unique("Appel à projets « Été solidaire » & jeunesse");
        var job = TestData.Unique("Chargé de mission insertion");
        // A theme of their own keeps offers of other tests (national ones match everyone) out of this digest.
        var id1 = await TestData.CreateOpportunityAsync(SharedDatabase.DataSource, title, ["2A"], Kinds.Aap, day.AddDays(30),
            issuerId: issuer, themes: ["egalite"], publishedAt: monday.AddDays(-3));
        // Two territories: named larger first, as on the board.
        await OfferAsync(job, ["2A", "FR"], monday.AddDays(-3), day.AddDays(30), Kinds.Emploi, ["egalite"]);
        var old = TestData.Unique("AAP publié il y a longtemps");
        await OfferAsync(old, ["2A"], monday.AddDays(-20), day.AddDays(60), themes: ["egalite"]);
        var email = UniqueEmail("premier");
        var id = await SubscribeConfirmedAsync(app.Services, email, ["2A"], themes: ["egalite"]);

        await Runner(app.Services).RunAsync(monday, Frequencies.Weekly, [id]);

        var d = (await DigestsAsync(email)).Single();
        Assert.That(d.Subject, Does.StartWith("2 nouvelles opportunités — semaine du "));
        Assert.That(d.Subject, Does.EndWith("semaine du " + day.ToString("d MMMM", Opportunites.Web.Shared.ParisTime.French)));
        Assert.That(d.TextBody, Does.Contain(title).And.Contain(job).And.Not.Contain(old));
        Assert.That(d.TextBody, Does.Contain("Jusqu'au " + day.AddDays(30).ToString("dd/MM/yyyy")));
        Assert.That(d.TextBody, Does.Contain("Corse-du-Sud"));
        Assert.That(d.TextBody, Does.Contain("France, Corse-du-Sud"));
        Assert.That(d.TextBody.IndexOf("Offres d'emploi", StringComparison.Ordinal),
            Is.LessThan(d.TextBody.IndexOf("Appels à projets", StringComparison.Ordinal)));
        Assert.That(d.TextBody, Does.Contain($"{AlertsAppFactory.BaseUrl}{OfferLinks.DetailPath(id1, title)}"));
        Assert.That(d.HtmlBody, Does.Contain("« Été solidaire » &amp; jeunesse"));
        Assert.That(d.HtmlBody, Does.Contain("Me désinscrire").And.Contain("Gérer mon alerte"));
        Assert.That(d.TextBody, Does.Contain("Me désinscrire : http://localhost/alertes/desinscription?jeton="));
        Assert.That(d.Headers["List-Unsubscribe"], Does.StartWith("<http://localhost/alertes/desinscription?jeton=").And.EndWith(">"));
        Assert.That(d.Headers["List-Unsubscribe-Post"], Is.EqualTo("List-Unsubscribe=One-Click"));
        Assert.That(d.Headers["List-Id"], Is.Not.Empty);
    }

    [Test]
    public async Task Run_SecondDigest_OnlyHasOffersPublishedSinceThePreviousOne()
    {
        var monday = NextMonday0700();
        var day = ParisDay(monday);
        var before = TestData.Unique("AAP avant la première veille");
        var after = TestData.Unique("AAP après la première veille");
        await OfferAsync(before, ["69"], monday.AddDays(-2), day.AddDays(60));
        await OfferAsync(after, ["69"], monday.AddHours(3), day.AddDays(60));
        var email = UniqueEmail("depuis");
        var id = await SubscribeConfirmedAsync(app.Services, email, ["69"]);

        await Runner(app.Services).RunAsync(monday, Frequencies.Weekly, [id]);
        await Runner(app.Services).RunAsync(monday.AddDays(7), Frequencies.Weekly, [id]);

        var digests = await DigestsAsync(email);
        Assert.That(digests, Has.Count.EqualTo(2));
        Assert.That(digests[0].TextBody, Does.Contain(before).And.Not.Contain(after));
        Assert.That(digests[1].TextBody, Does.Contain(after).And.Not.Contain(before));
    }

    [Test]
    public async Task Run_OldOfferClosingWithinTwoWeeks_ListedOnceUnderClotureImminente()
    {
        var monday = NextMonday0700();
        var day = ParisDay(monday);
        var soon = TestData.Unique("AAP qui se clôt bientôt");
        var later = TestData.Unique("AAP qui se clôt plus tard");
        var newAndSoon = TestData.Unique("AAP nouveau et bientôt clos");
        await OfferAsync(soon, ["974"], monday.AddDays(-30), day.AddDays(10), themes: ["sante"]);
        await OfferAsync(later, ["974"], monday.AddDays(-30), day.AddDays(20), themes: ["sante"]);
        await OfferAsync(newAndSoon, ["974"], monday.AddDays(-1), day.AddDays(5), themes: ["sante"]);
        var email = UniqueEmail("cloture");
        var id = await SubscribeConfirmedAsync(app.Services, email, ["974"], themes: ["sante"]);

        await Runner(app.Services).RunAsync(monday, Frequencies.Weekly, [id]);

        var d = (await DigestsAsync(email)).Single();
        var closing = d.TextBody.IndexOf("Clôture imminente", StringComparison.Ordinal);
        Assert.That(closing, Is.GreaterThan(0));
        Assert.That(d.TextBody.IndexOf(soon, StringComparison.Ordinal), Is.GreaterThan(closing));
        Assert.That(d.TextBody, Does.Not.Contain(later));
        Assert.That(Occurrences(d.TextBody, newAndSoon), Is.EqualTo(1));
        Assert.That(d.TextBody.IndexOf(newAndSoon, StringComparison.Ordinal), Is.LessThan(closing));
        Assert.That(d.Subject, Does.StartWith("1 nouvelle opportunité, 1 clôture proche — semaine du"));
    }

    [Test]
    public async Task Run_NextWeek_ClosingOfferAlreadyListedIsNotRepeated()
    {
        var monday = NextMonday0700();
        var day = ParisDay(monday);
        var listedTwice = TestData.Unique("AAP déjà annoncé comme proche");
        var enteringWindow = TestData.Unique("AAP qui entre dans les deux semaines");
        await OfferAsync(listedTwice, ["971"], monday.AddDays(-30), day.AddDays(10), themes: ["culture"]);
        await OfferAsync(enteringWindow, ["971"], monday.AddDays(-30), day.AddDays(18), themes: ["culture"]);
        var email = UniqueEmail("unefois");
        var id = await SubscribeConfirmedAsync(app.Services, email, ["971"], themes: ["culture"]);

        await Runner(app.Services).RunAsync(monday, Frequencies.Weekly, [id]);
        await Runner(app.Services).RunAsync(monday.AddDays(7), Frequencies.Weekly, [id]);

        var digests = await DigestsAsync(email);
        Assert.That(digests, Has.Count.EqualTo(2));
        Assert.That(digests[0].TextBody, Does.Contain(listedTwice).And.Not.Contain(enteringWindow));
        Assert.That(digests[1].TextBody, Does.Contain(enteringWindow).And.Not.Contain(listedTwice));
        Assert.That(digests[1].Subject, Does.StartWith("1 clôture proche — semaine du"));
    }

    [Test]
    public async Task Run_NothingNewNorClosing_SendsNoEmail()
    {
        var monday = NextMonday0700();
        var email = UniqueEmail("vide");
        // Mayotte, kind AMI, theme "citoyennete": nothing of this test matches, and tests never publish there.
        var id = await SubscribeConfirmedAsync(app.Services, email, ["976"], kinds: [Kinds.Ami], themes: ["citoyennete"]);

        var result = await Runner(app.Services).RunAsync(monday, Frequencies.Weekly, [id]);

        Assert.That(await DigestsAsync(email), Is.Empty);
        Assert.That(result.Empty, Is.EqualTo(1));
        Assert.That(result.Queued, Is.Zero);
    }

    [Test]
    public async Task Run_TwiceInTheSameWeek_SendsOneDigestPointedByTheLedger()
    {
        var monday = NextMonday0700();
        var day = ParisDay(monday);
        var title = TestData.Unique("AAP une seule fois");
        await OfferAsync(title, ["35"], monday.AddDays(-1), day.AddDays(30));
        var email = UniqueEmail("unique");
        var id = await SubscribeConfirmedAsync(app.Services, email, ["35"]);
        var runner = Runner(app.Services);

        var first = await runner.RunAsync(monday, Frequencies.Weekly, [id]);
        // Later the same week, with a new offer: still the same period.
        await OfferAsync(TestData.Unique("AAP du mercredi"), ["35"], monday.AddDays(2), day.AddDays(30));
        var second = await runner.RunAsync(monday.AddDays(2), Frequencies.Weekly, [id]);
        // Two nodes at once.
        var racing = await Task.WhenAll(runner.RunAsync(monday.AddDays(3), Frequencies.Weekly, [id]),
            runner.RunAsync(monday.AddDays(3), Frequencies.Weekly, [id]));

        Assert.That(first.Queued, Is.EqualTo(1));
        Assert.That(second.Queued + racing.Sum(r => r.Queued), Is.Zero);
        var digests = await DigestsAsync(email);
        Assert.That(digests, Has.Count.EqualTo(1));
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        var ledger = await LedgerAsync(conn, id);
        Assert.That(ledger.Period, Is.EqualTo(DigestRunner.PeriodOf(monday, Frequencies.Weekly)));
        Assert.That(ledger.OutboxId, Is.EqualTo(digests[0].Id));
    }

    [Test]
    public async Task Run_EmailAlreadyQueuedUnderTheDigestKey_NotQueuedAgainAndLedgerPointsAtNothing()
    {
        var monday = NextMonday0700();
        var day = ParisDay(monday);
        await OfferAsync(TestData.Unique("AAP déjà en file"), ["22"], monday.AddDays(-1), day.AddDays(30));
        var email = UniqueEmail("deja-en-file");
        var id = await SubscribeConfirmedAsync(app.Services, email, ["22"]);
        var period = DigestRunner.PeriodOf(monday, Frequencies.Weekly);
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        // An email under the digest's dedupe key without a ledger row (e.g. queued by hand): the ledger row drawn by the
        // run points at an outbox id that is never written, and must be unlinked.
        var existing = await Outbox.EnqueueAsync(conn, null, new OutgoingEmail("digest", email, "Veille déjà en file",
            "texte", "<p>html</p>", DedupeKey: $"digest:{id}:{period}"));

        var result = await Runner(app.Services).RunAsync(monday, Frequencies.Weekly, [id]);

        Assert.That(result.Queued, Is.Zero);
        Assert.That(result.AlreadySent, Is.EqualTo(1));
        Assert.That((await DigestsAsync(email)).Select(d => d.Id), Is.EqualTo(new[] { existing!.Value }));
        var ledger = await LedgerAsync(conn, id);
        Assert.That(ledger.Period, Is.EqualTo(period));
        Assert.That(ledger.OutboxId, Is.Null);
    }

    private static Task<(string Period, long? OutboxId)> LedgerAsync(Npgsql.NpgsqlConnection conn, long subscriberId) =>
        conn.QuerySingleAsync<(string Period, long? OutboxId)>(
            "SELECT period, outbox_id FROM digest_deliveries WHERE subscriber_id = @subscriberId", new { subscriberId });

    [Test]
    public async Task Purge_DigestEmailDeleted_LedgerRowStaysWithoutItsLinkOthersKeepTheirs()
    {
        var monday = NextMonday0700();
        var day = ParisDay(monday);
        await OfferAsync(TestData.Unique("AAP purgé"), ["2B"], monday.AddDays(-1), day.AddDays(30));
        var oldEmail = UniqueEmail("purge-ancien");
        var keptEmail = UniqueEmail("purge-garde");
        var old = await SubscribeConfirmedAsync(app.Services, oldEmail, ["2B"]);
        var kept = await SubscribeConfirmedAsync(app.Services, keptEmail, ["2B"]);
        await Runner(app.Services).RunAsync(monday, Frequencies.Weekly, [old, kept]);
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        var oldOutbox = (await DigestsAsync(oldEmail)).Single().Id;
        var keptOutbox = (await DigestsAsync(keptEmail)).Single().Id;
        // Sent long ago: past the retention of sent emails.
        await conn.ExecuteAsync("""
            UPDATE outbox SET status = 'sent', sent_at = now() - interval '400 days', created_at = now() - interval '400 days'
            WHERE id = @oldOutbox
            """, new { oldOutbox });

        var purge = ActivatorUtilities.CreateInstance<Opportunites.Web.Jobs.PurgeJob>(app.Services);
        await purge.RunAsync(new Opportunites.Web.Jobs.JobRunContext(Opportunites.Web.Jobs.PurgeJob.Name, DateTimeOffset.UtcNow, "cli", null),
            CancellationToken.None);

        Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM outbox WHERE id = @oldOutbox", new { oldOutbox }), Is.Zero);
        var ledger = (await conn.QueryAsync<(long SubscriberId, long? OutboxId)>(
            "SELECT subscriber_id, outbox_id FROM digest_deliveries WHERE subscriber_id = ANY (@ids) ORDER BY subscriber_id",
            new { ids = new[] { old, kept } })).ToDictionary(r => r.SubscriberId, r => r.OutboxId);
        Assert.That(ledger, Has.Count.EqualTo(2), "the ledger keeps both periods: the next digest starts where they ended");
        Assert.That(ledger[old], Is.Null, "no link to a deleted email");
        Assert.That(ledger[kept], Is.EqualTo(keptOutbox));
    }

    [Test]
    public async Task Run_AfterAMissedWeek_OneDigestCoversEverythingSinceTheLastOne()
    {
        var monday = NextMonday0700();
        var day = ParisDay(monday);
        var week2 = TestData.Unique("AAP de la semaine manquée");
        var week3 = TestData.Unique("AAP de la semaine suivante");
        await OfferAsync(TestData.Unique("AAP semaine 1"), ["29"], monday.AddDays(-1), day.AddDays(60));
        await OfferAsync(week2, ["29"], monday.AddDays(3), day.AddDays(60));
        await OfferAsync(week3, ["29"], monday.AddDays(10), day.AddDays(60));
        var email = UniqueEmail("rattrapage");
        var id = await SubscribeConfirmedAsync(app.Services, email, ["29"]);

        await Runner(app.Services).RunAsync(monday, Frequencies.Weekly, [id]);
        // The service was down on the next Monday; it runs again a week later.
        await Runner(app.Services).RunAsync(monday.AddDays(14), Frequencies.Weekly, [id]);

        var digests = await DigestsAsync(email);
        Assert.That(digests, Has.Count.EqualTo(2));
        Assert.That(digests[1].TextBody, Does.Contain(week2).And.Contain(week3));
    }

    [Test]
    public async Task Run_SamePreferences_ShareOneBodyWithPersonalLinks()
    {
        var monday = NextMonday0700();
        var day = ParisDay(monday);
        var title = TestData.Unique("AAP partagé");
        await OfferAsync(title, ["2B"], monday.AddDays(-1), day.AddDays(30));
        var e1 = UniqueEmail("partage1");
        var e2 = UniqueEmail("partage2");
        var a = await SubscribeConfirmedAsync(app.Services, e1, ["2B"]);
        var b = await SubscribeConfirmedAsync(app.Services, e2, ["2B"]);

        var result = await Runner(app.Services).RunAsync(monday, Frequencies.Weekly, [a, b]);

        Assert.That(result.Groups, Is.EqualTo(1));
        Assert.That(result.Queued, Is.EqualTo(2));
        var d1 = (await DigestsAsync(e1)).Single();
        var d2 = (await DigestsAsync(e2)).Single();
        Assert.That(d1.Link("/alertes/gerer"), Is.Not.EqualTo(d2.Link("/alertes/gerer")));
        Assert.That(StripLinks(d1.TextBody), Is.EqualTo(StripLinks(d2.TextBody)));
    }

    [Test]
    public async Task Run_DailyFrequency_UsesDailyPeriodAndSkipsWeeklySubscribers()
    {
        var monday = NextMonday0700();
        var day = ParisDay(monday);
        var title = TestData.Unique("AAP quotidien");
        await OfferAsync(title, ["13"], monday.AddHours(-12), day.AddDays(30));
        var daily = UniqueEmail("quotidien");
        var weekly = UniqueEmail("hebdo");
        var a = await SubscribeConfirmedAsync(app.Services, daily, ["13"], frequency: Frequencies.Daily);
        var b = await SubscribeConfirmedAsync(app.Services, weekly, ["13"]);

        var first = await Runner(app.Services).RunAsync(monday.AddDays(1), Frequencies.Daily, [a, b]);
        var second = await Runner(app.Services).RunAsync(monday.AddDays(2), Frequencies.Daily, [a, b]);

        Assert.That(first.Queued, Is.EqualTo(1));
        Assert.That(second.Queued, Is.Zero, "rien de nouveau depuis la veille d'hier, et pas de clôture proche");
        Assert.That((await DigestsAsync(daily)).Single().TextBody, Does.Contain(title));
        Assert.That(await DigestsAsync(weekly), Is.Empty);
    }

    [Test]
    public async Task Run_UnconfirmedOrPausedSubscriber_ReceivesNothing()
    {
        var monday = NextMonday0700();
        var day = ParisDay(monday);
        await OfferAsync(TestData.Unique("AAP pour personne"), ["64"], monday.AddDays(-1), day.AddDays(30));
        var subscriptions = app.Services.GetRequiredService<SubscriptionService>();
        var unconfirmed = UniqueEmail("nonconfirme");
        await subscriptions.SubscribeAsync(unconfirmed, DigestPreferences.Canonical(["64"], null, null, null), null);
        var paused = UniqueEmail("pause");
        var id = await SubscribeConfirmedAsync(app.Services, paused, ["64"]);
        await subscriptions.SetPausedAsync(id, true);
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        var unconfirmedId = await conn.ExecuteScalarAsync<long>("SELECT id FROM subscribers WHERE email = @unconfirmed", new { unconfirmed });

        var result = await Runner(app.Services).RunAsync(monday, Frequencies.Weekly, [id, unconfirmedId]);

        Assert.That(result.Due, Is.Zero);
        Assert.That(await DigestsAsync(unconfirmed), Is.Empty);
        Assert.That(await DigestsAsync(paused), Is.Empty);
    }

    [Test]
    public async Task Run_AllSubscribersOfTheSharedDatabase_CompletesQuickly()
    {
        // Far in the future: every subscriber of the run is due, and nothing is open then, so nothing is sent.
        var farAway = new DateTimeOffset(2099, 6, 1, 5, 0, 0, TimeSpan.Zero);

        var result = await Runner(app.Services).RunAsync(farAway, Frequencies.Weekly);

        Assert.That(result.Queued, Is.Zero);
        Assert.That(result.Due, Is.EqualTo(result.Empty));
    }

    private static int Occurrences(string text, string part) =>
        (text.Length - text.Replace(part, "", StringComparison.Ordinal).Length) / part.Length;

    private static string StripLinks(string text) =>
        System.Text.RegularExpressions.Regex.Replace(text, @"jeton=[A-Za-z0-9_-]+", "jeton=X");
}
