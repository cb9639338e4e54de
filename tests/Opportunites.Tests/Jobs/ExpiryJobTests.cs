using Dapper;
using Microsoft.Extensions.Options;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Accounts;
using Opportunites.Web.Board;
using Opportunites.Web.Jobs;
using Opportunites.Web.Mail;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Shared;

namespace Opportunites.Tests.Jobs;

/// <summary>The expiry job's statements, on a database of this fixture's own (they act on every offer).</summary>
public sealed class ExpiryJobTests
{
    private PrivateDatabase _db = null!;
    private readonly SiteLinks _links = new(Options.Create(new SiteSettings { BaseUrl = "https://opportunites.test" }));

    [OneTimeSetUp]
    public async Task CreateAsync() => _db = await PrivateDatabase.CreateAsync();

    [OneTimeTearDown]
    public async Task DropAsync() => await _db.DisposeAsync();

    private async Task<long> CreateAsync(string title, DateOnly? deadline, TimeOnly? time = null, string? contact = null,
        DateTimeOffset? publishedAt = null)
    {
        var issuer = await TestData.CreateIssuerAsync(_db.DataSource);
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        return await OpportunityStore.CreateAsync(conn, new NewOpportunity(Kinds.Aap, TestData.Unique(title), issuer, ["33"],
            deadline, time, Contact: contact, PublishedAt: publishedAt ?? DateTimeOffset.UtcNow.AddDays(-10)));
    }

    private async Task<(string Status, DateTime? ClosedAt)> StateAsync(long id)
    {
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        return await conn.QuerySingleAsync<(string, DateTime?)>("SELECT status, closed_at FROM opportunities WHERE id = @id", new { id });
    }

    // 2026-03-29: clocks go forward (UTC+1 → UTC+2); 2026-10-25: back (UTC+2 → UTC+1). 23:00 Paris is after the change.
    [TestCase("2026-03-29", "23:00", "2026-03-29T21:00:00Z")]
    [TestCase("2026-10-25", "23:00", "2026-10-25T22:00:00Z")]
    [TestCase("2026-10-25", null, "2026-10-25T22:59:59Z")]
    [TestCase("2026-03-28", null, "2026-03-28T22:59:59Z")]
    public async Task ExpireOverdue_DeadlineOnDstChangeDay_ExpiresAtThatParisInstant(string date, string? time, string expectedUtc)
    {
        var instant = DateTimeOffset.Parse(expectedUtc, System.Globalization.CultureInfo.InvariantCulture);
        var id = await CreateAsync("Appel DST", DateOnly.Parse(date, System.Globalization.CultureInfo.InvariantCulture),
            time is null ? null : TimeOnly.Parse(time, System.Globalization.CultureInfo.InvariantCulture),
            publishedAt: instant.AddDays(-30));
        await using var conn = await _db.DataSource.OpenConnectionAsync();

        await ExpiryJob.ExpireOverdueAsync(conn, instant.AddSeconds(-1));
        var justBefore = await StateAsync(id);
        await ExpiryJob.ExpireOverdueAsync(conn, instant);
        var atDeadline = await StateAsync(id);

        Assert.That(justBefore.Status, Is.EqualTo(Statuses.Published));
        Assert.That(atDeadline.Status, Is.EqualTo(Statuses.Expired));
        Assert.That(atDeadline.ClosedAt, Is.EqualTo(instant.UtcDateTime));
    }

    [Test]
    public async Task ExpireOverdue_RunTwice_SecondRunChangesNothing()
    {
        var now = DateTimeOffset.UtcNow;
        var overdue = await CreateAsync("Appel échu", DateOnly.FromDateTime(now.UtcDateTime.AddDays(-2)));
        var open = await CreateAsync("Appel ouvert", DateOnly.FromDateTime(now.UtcDateTime.AddDays(20)));
        var noDeadline = await CreateAsync("Offre sans date", null);
        await using var conn = await _db.DataSource.OpenConnectionAsync();

        var first = await ExpiryJob.ExpireOverdueAsync(conn, now);
        var afterFirst = await StateAsync(overdue);
        var second = await ExpiryJob.ExpireOverdueAsync(conn, now.AddMinutes(15));

        Assert.That(first, Is.GreaterThanOrEqualTo(1));
        Assert.That(second, Is.Zero);
        Assert.That(afterFirst.Status, Is.EqualTo(Statuses.Expired));
        Assert.That(await StateAsync(overdue), Is.EqualTo(afterFirst), "closed_at must not move on a second run");
        Assert.That((await StateAsync(open)).Status, Is.EqualTo(Statuses.Published));
        Assert.That((await StateAsync(noDeadline)).Status, Is.EqualTo(Statuses.Published));
    }

    [Test]
    public async Task ExpireOverdue_Capped_SoonestDeadlinesFirstTheRestOnTheNextRun()
    {
        // Deadlines in 2001: older than any other offer of this fixture, so "now" below reaches only these three.
        var published = new DateTimeOffset(2000, 12, 1, 9, 0, 0, TimeSpan.Zero);
        var third = await CreateAsync("Appel 2001 c", new DateOnly(2001, 1, 3), publishedAt: published);
        var first = await CreateAsync("Appel 2001 a", new DateOnly(2001, 1, 1), publishedAt: published);
        var second = await CreateAsync("Appel 2001 b", new DateOnly(2001, 1, 2), publishedAt: published);
        var now = new DateTimeOffset(2001, 1, 10, 12, 0, 0, TimeSpan.Zero);
        await using var conn = await _db.DataSource.OpenConnectionAsync();

        var firstRun = await ExpiryJob.ExpireOverdueAsync(conn, now, limit: 2);
        var afterFirstRun = new[] { (await StateAsync(first)).Status, (await StateAsync(second)).Status, (await StateAsync(third)).Status };
        var secondRun = await ExpiryJob.ExpireOverdueAsync(conn, now.AddMinutes(15), limit: 2);
        var thirdRun = await ExpiryJob.ExpireOverdueAsync(conn, now.AddMinutes(30), limit: 2);

        Assert.That(firstRun, Is.EqualTo(2));
        Assert.That(afterFirstRun, Is.EqualTo(new[] { Statuses.Expired, Statuses.Expired, Statuses.Published }));
        Assert.That(secondRun, Is.EqualTo(1));
        Assert.That(thirdRun, Is.Zero);
        Assert.That(await StateAsync(third), Is.EqualTo((Statuses.Expired, (DateTime?)new DateTime(2001, 1, 3, 22, 59, 59, DateTimeKind.Utc))),
            "closed at its own closing instant (23:59:59 Paris), not at the run that caught it up");
    }

    [TestCase(60_000, 3, 0, TestName = "ExpireOverdueInBatches_TimeLeft_BatchesUntilNoneIsLeft")]
    [TestCase(0, 2, 1, TestName = "ExpireOverdueInBatches_NoTimeLeft_OneBatchThenTheNextRunGoesOn")]
    public async Task ExpireOverdueInBatches_TimeBudget(int budgetMs, int expectedFirstRun, int expectedSecondRun)
    {
        // Deadlines in 2002: the only offers of this fixture that "now" below reaches.
        var published = new DateTimeOffset(2001, 12, 1, 9, 0, 0, TimeSpan.Zero);
        foreach (var day in new[] { 1, 2, 3 })
        {
            await CreateAsync($"Appel 2002 {day}", new DateOnly(2002, 1, day), publishedAt: published);
        }

        var now = new DateTimeOffset(2002, 1, 10, 12, 0, 0, TimeSpan.Zero);
        var settings = new ExpirySettings { ExpireBatchSize = 2, ExpireTimeBudgetMs = budgetMs };
        await using var conn = await _db.DataSource.OpenConnectionAsync();

        var firstRun = await ExpiryJob.ExpireOverdueInBatchesAsync(conn, now, settings);
        var secondRun = await ExpiryJob.ExpireOverdueInBatchesAsync(conn, now.AddMinutes(15), settings);

        Assert.That((firstRun, secondRun), Is.EqualTo((expectedFirstRun, expectedSecondRun)));
        Assert.That(await conn.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM opportunities WHERE deadline_date < '2002-02-01' AND deadline_date >= '2002-01-01' AND status = 'published'"),
            Is.Zero);
    }

    [Test]
    public async Task ExpireOverdue_TerritoryMatchRows_KeptOffTheBoardUntilPurgedAndBackWhenRepublished()
    {
        // Migration 0055: expiry keeps the offer's match rows (their deadline is past), the purge job deletes them.
        var id = await CreateAsync("Appel national échu", DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-2)));
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        await conn.ExecuteAsync("DELETE FROM opportunity_territories WHERE opportunity_id = @id", new { id });
        await conn.ExecuteAsync("INSERT INTO opportunity_territories (opportunity_id, territory_code) VALUES (@id, 'FR')", new { id });
        var board = new Opportunites.Web.Board.BoardQueries(_db.DataSource, TimeProvider.System);
        var territories = await Opportunites.Web.Territories.TerritoryDirectory.LoadAsync(_db.DataSource);
        var inGironde = new Opportunites.Web.Board.BoardFilter { Territories = [territories.Describe(territories.Get("33")!)] };
        const string RowsSql = "SELECT count(*) FROM opportunity_territory_matches WHERE opportunity_id = @id";
        var rowsBefore = await conn.ExecuteScalarAsync<int>(RowsSql, new { id });

        await ExpiryJob.ExpireOverdueAsync(conn, DateTimeOffset.UtcNow);
        var statusAfterExpiry = (await StateAsync(id)).Status;
        var rowsAfterExpiry = await conn.ExecuteScalarAsync<int>(RowsSql, new { id });
        var shownAfterExpiry = (await board.SearchAsync(inGironde, 100)).Items.Any(i => i.Id == id);
        await PurgeJob.PurgeClosedMatchesAsync(conn);
        var rowsAfterPurge = await conn.ExecuteScalarAsync<int>(RowsSql, new { id });
        await conn.ExecuteAsync("UPDATE opportunities SET status = 'published', deadline_date = current_date + 10 WHERE id = @id", new { id });
        var shownRepublished = (await board.SearchAsync(inGironde, 100)).Items.Any(i => i.Id == id);

        Assert.That(rowsBefore, Is.EqualTo(2), "a national offer: its own key and France's (migration 0082)");
        Assert.That(statusAfterExpiry, Is.EqualTo(Statuses.Expired));
        Assert.That(rowsAfterExpiry, Is.EqualTo(rowsBefore));
        Assert.That(shownAfterExpiry, Is.False);
        Assert.That(rowsAfterPurge, Is.Zero);
        Assert.That(shownRepublished, Is.True);
        Assert.That(await conn.ExecuteScalarAsync<int>(RowsSql, new { id }), Is.EqualTo(rowsBefore));
    }

    [Test]
    public async Task ExpireOverdue_ClosedBeforeItsDeadline_MatchRowsDeletedAtOnce()
    {
        var id = await CreateAsync("Appel fermé avant échéance", DateOnly.FromDateTime(DateTime.UtcNow.AddDays(20)));
        await using var conn = await _db.DataSource.OpenConnectionAsync();

        await conn.ExecuteAsync("UPDATE opportunities SET status = 'closed', closed_at = now() WHERE id = @id", new { id });

        Assert.That(await conn.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM opportunity_territory_matches WHERE opportunity_id = @id", new { id }), Is.Zero);
    }

    [Test]
    public async Task QueueRenewalReminders_NoDeadlineOfferSixMonthsOldSoon_OneEmailToContactEvenWhenRunTwice()
    {
        var now = DateTimeOffset.UtcNow;
        var settings = new ExpirySettings();
        var contact = $"emetteur-{Guid.NewGuid():N}@example.org";
        var phone = $"05 56 {Random.Shared.Next(10, 99)} 00 00";
        var dueSoon = await CreateAsync("Poste sans date", null, contact: contact, publishedAt: now.AddMonths(-6).AddDays(3));
        var noAddress = await CreateAsync("Poste sans courriel", null, contact: phone, publishedAt: now.AddMonths(-6).AddDays(3));
        var tooYoung = $"jeune-{Guid.NewGuid():N}@example.org";
        await CreateAsync("Poste récent", null, contact: tooYoung, publishedAt: now.AddMonths(-5));
        await using var conn = await _db.DataSource.OpenConnectionAsync();

        var first = await ExpiryJob.QueueRenewalRemindersAsync(conn, now, settings, _links);
        var second = await ExpiryJob.QueueRenewalRemindersAsync(conn, now.AddMinutes(15), settings, _links);

        Assert.That(first.Queued, Is.GreaterThanOrEqualTo(1));
        Assert.That(first.NoAddress, Is.GreaterThanOrEqualTo(1));
        Assert.That(second.Queued, Is.Zero);
        var emails = (await conn.QueryAsync<(string Subject, string TextBody, string HtmlBody, string Category)>(
            "SELECT subject, text_body, html_body, category FROM outbox WHERE to_address = @contact", new { contact })).ToList();
        Assert.That(emails, Has.Count.EqualTo(1));
        var archiveOn = Opportunites.Web.Shared.ParisTime.FormatDate(now.AddMonths(-6).AddDays(3).AddMonths(6));
        Assert.That(emails[0].Category, Is.EqualTo("renewal"));
        Assert.That(emails[0].Subject, Does.Contain("sera archivée le " + archiveOn));
        Assert.That(emails[0].TextBody, Does.Contain($"https://opportunites.test/offres/{dueSoon}"));
        Assert.That(emails[0].HtmlBody, Does.Contain($"href=\"https://opportunites.test/offres/{dueSoon}\""));
        Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM outbox WHERE to_address = @tooYoung", new { tooYoung }), Is.Zero);
        Assert.That((await StateAsync(noAddress)).Status, Is.EqualTo(Statuses.Published));
    }

    [Test]
    public async Task QueueRenewalReminders_IssuerWithAccounts_VerifiedAccountsAskedNotTheOfferContact()
    {
        var now = DateTimeOffset.UtcNow;
        var settings = new ExpirySettings();
        var user = await TestUsers.CreateAsync(_db.DataSource);
        var colleague = await TestUsers.CreateAsync(_db.DataSource, issuerId: user.IssuerId);
        var unverified = $"non-verifie-{Guid.NewGuid():N}@example.org";
        var contact = $"recrutement-{Guid.NewGuid():N}@example.org";
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        await AccountStore.InsertAsync(conn, null, unverified, null, Policies.IssuerRole, user.IssuerId, null);
        var offer = await OpportunityStore.CreateAsync(conn, new NewOpportunity(Kinds.Emploi, TestData.Unique("Poste sans date"),
            user.IssuerId!.Value, ["33"], null, null, Contact: contact, PublishedAt: now.AddMonths(-6).AddDays(3)));

        await ExpiryJob.QueueRenewalRemindersAsync(conn, now, settings, _links);
        await ExpiryJob.QueueRenewalRemindersAsync(conn, now.AddMinutes(15), settings, _links);

        var recipients = (await conn.QueryAsync<string>(
            "SELECT to_address FROM outbox WHERE category = 'renewal' AND text_body LIKE '%/offres/' || @offer || '%' ORDER BY to_address",
            new { offer = offer.ToString(System.Globalization.CultureInfo.InvariantCulture) })).ToList();
        Assert.That(recipients, Is.EquivalentTo(new[] { user.Email, colleague.Email }), "once each, verified accounts only");
    }

    [Test]
    public async Task ArchiveStaleWithoutDeadline_OlderThanSixMonths_ExpiredYoungerKept()
    {
        var now = DateTimeOffset.UtcNow;
        var old = await CreateAsync("Offre ancienne", null, publishedAt: now.AddMonths(-6).AddDays(-1));
        var young = await CreateAsync("Offre jeune", null, publishedAt: now.AddMonths(-6).AddDays(1));
        await using var conn = await _db.DataSource.OpenConnectionAsync();

        await ExpiryJob.ArchiveStaleWithoutDeadlineAsync(conn, now, new ExpirySettings());
        var again = await ExpiryJob.ArchiveStaleWithoutDeadlineAsync(conn, now.AddMinutes(15), new ExpirySettings());

        Assert.That((await StateAsync(old)).Status, Is.EqualTo(Statuses.Expired));
        Assert.That((await StateAsync(young)).Status, Is.EqualTo(Statuses.Published));
        Assert.That(again, Is.Zero);
    }

    // The board's page caches (Board/PageCache.cs) hear channel board_changed. Every 15 minutes the expiry job runs;
    // it announces a change only when it took an offer off the lists (0062). What the test hears is read up to a
    // notification of its own, sent after the job's statements committed: PostgreSQL delivers in commit order.
    [Test]
    public async Task ExpiringOverdueOffersAndPurgingTheirMatches_IsNotAnnouncedToTheBoard()
    {
        var overdue = await CreateAsync("Appel échu", ParisTime.Today(TimeProvider.System).AddDays(-2));
        await using var conn = await _db.DataSource.OpenConnectionAsync();

        var heard = await HeardAsync(async () =>
        {
            Assert.That(await ExpiryJob.ExpireOverdueAsync(conn, DateTimeOffset.UtcNow), Is.GreaterThanOrEqualTo(1));
            Assert.That(await PurgeJob.PurgeClosedMatchesAsync(conn), Is.GreaterThanOrEqualTo(1));
            await ExpiryJob.ArchiveStaleWithoutDeadlineAsync(conn, DateTimeOffset.UtcNow, new ExpirySettings());
        });

        Assert.That((await StateAsync(overdue)).Status, Is.EqualTo(Statuses.Expired));
        Assert.That(heard, Is.Zero, "nothing a list shows changed");
    }

    [Test]
    public async Task ArchivingAListedOfferWithoutDeadline_IsAnnouncedToTheBoard_OnceForTheStatement()
    {
        var stale = await CreateAsync("Appel sans date", null, publishedAt: DateTimeOffset.UtcNow.AddMonths(-7));
        await CreateAsync("Appel sans date bis", null, publishedAt: DateTimeOffset.UtcNow.AddMonths(-8));
        await using var conn = await _db.DataSource.OpenConnectionAsync();

        var heard = await HeardAsync(async () =>
            Assert.That(await ExpiryJob.ArchiveStaleWithoutDeadlineAsync(conn, DateTimeOffset.UtcNow, new ExpirySettings()),
                Is.GreaterThanOrEqualTo(2)));

        Assert.That((await StateAsync(stale)).Status, Is.EqualTo(Statuses.Expired));
        Assert.That(heard, Is.EqualTo(1));
    }

    [Test]
    public async Task AnyOtherWriteToAnOffer_IsStillAnnounced()
    {
        var id = await CreateAsync("Appel modifié", ParisTime.Today(TimeProvider.System).AddDays(20));
        await using var conn = await _db.DataSource.OpenConnectionAsync();

        var heard = await HeardAsync(() =>
            conn.ExecuteAsync("UPDATE opportunities SET title = title || ' (modifié)' WHERE id = @id", new { id }));

        Assert.That(heard, Is.EqualTo(1));
    }

    /// <returns>How many board_changed notifications the writes of <paramref name="write"/> sent.</returns>
    private async Task<int> HeardAsync(Func<Task> write)
    {
        await using var listening = await _db.DataSource.OpenConnectionAsync();
        var heard = new List<string>();
        listening.Notification += (_, e) => heard.Add(e.Payload);
        await listening.ExecuteAsync($"LISTEN {BoardChangeListener.Channel}");

        await write();
        await using (var other = await _db.DataSource.OpenConnectionAsync())
        {
            await other.ExecuteAsync("SELECT pg_notify(@channel, 'fin du test')", new { channel = BoardChangeListener.Channel });
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!heard.Contains("fin du test"))
        {
            await listening.WaitAsync(timeout.Token);
        }

        return heard.IndexOf("fin du test");
    }
}
