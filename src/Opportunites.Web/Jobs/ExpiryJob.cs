using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Opportunites.Web.Board;
using Opportunites.Web.Mail;
using Opportunites.Web.Shared;

namespace Opportunites.Web.Jobs;

/// <summary>The <c>Jobs:Expiry</c> settings section.</summary>
public sealed class ExpirySettings
{
    /// <summary>An offer without a deadline is archived this many months after it was published.</summary>
    public int NoDeadlineMaxAgeMonths { get; set; } = 6;

    /// <summary>Its issuer is asked to renew it this many days before.</summary>
    public int RenewalNoticeDays { get; set; } = 7;

    /// <summary>
    /// Overdue offers get their status 'expired' in batches of this many, one transaction each, the soonest deadlines
    /// first. Nothing waits for it: every page, feed and API answer already treats a published offer past its closing
    /// instant as closed; the status column catches up.
    /// </summary>
    public int ExpireBatchSize { get; set; } = 1_000;

    /// <summary>
    /// A run starts no new batch after this long; the next runs (every 15 minutes) go on. A day's deadlines fit in one
    /// batch; 100,000 offers expiring at once take ~30 s of batches on a small server (docs/benchmarks.md), spread over
    /// runs that each stay short.
    /// </summary>
    public int ExpireTimeBudgetMs { get; set; } = 1_000;
}

public static class ExpiryExtensions
{
    /// <summary>The expiry job, every 15 minutes by default (Jobs:Schedules:expire); a missed run is caught up once.</summary>
    public static void AddExpiry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ExpirySettings>().BindConfiguration("Jobs:Expiry");
        // No Hangfire retry: the next run, 15 minutes later, does what a failed one left (idempotent).
        builder.AddClusteredJob<ExpiryJob>(ExpiryJob.Name, "0 0/15 * * * ?", "Expiration des offres et relances de renouvellement",
            MisfirePolicy.FireOnceNow, requestRecovery: true, retries: 0);
    }
}

/// <summary>
/// Takes closed offers off the board: past their closing instant (the <c>closes_at</c> rule of migration 0001), or
/// without a deadline and older than the configured age; and asks the issuer to renew the latter a week before.
/// Every statement is idempotent, so a second run for the same time changes nothing.
/// </summary>
public sealed class ExpiryJob(
    NpgsqlDataSource db,
    TimeProvider clock,
    IOptions<ExpirySettings> settings,
    SiteLinks links,
    ILogger<ExpiryJob> log) : IClusteredJob
{
    public const string Name = "expire";

    public async Task<IReadOnlyDictionary<string, int>> RunAsync(JobRunContext context, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var conn = await db.OpenConnectionAsync(ct);
        var expired = await ExpireOverdueInBatchesAsync(conn, now, settings.Value, ct);
        var (queued, noAddress) = await QueueRenewalRemindersAsync(conn, now, settings.Value, links, ct);
        var archived = await ArchiveStaleWithoutDeadlineAsync(conn, now, settings.Value, ct);
        log.LogInformation("Expiration : {Expired} offres expirées, {Archived} archivées sans date limite, {Queued} relances, {NoAddress} sans adresse",
            expired, archived, queued, noAddress);
        return new Dictionary<string, int>
        {
            ["expirees"] = expired,
            ["archivees"] = archived,
            ["relances"] = queued,
            ["relances_sans_adresse"] = noAddress,
        };
    }

    // deadline_sort is closes_at when there is a deadline (infinity otherwise), so this is exactly "closes_at <= now"
    // while using the partial index opportunities_open_deadline, read in deadline order for the batches.
    // Why batches: an offer leaves the board at its closing instant whatever its status (board, detail, feeds, API and
    // the issuer's space compute it from closes_at), so this statement only brings the status column up to date.
    // Rewriting a row cannot be HOT (status is in the partial indexes' predicates) and a row is ~1.7 kB: 100,000 offers
    // expiring at once took 10 s in one statement (issue 8 benchmark); in batches under a time budget, each run stays
    // short and the next ones catch up.
    // The outer conditions are checked again on a row an issuer changed meanwhile (READ COMMITTED re-evaluation).
    internal const string ExpireSql = """
        UPDATE opportunities o
        SET status = 'expired', closed_at = o.closes_at, updated_at = @now
        FROM (SELECT id FROM opportunities
              WHERE status = 'published' AND deadline_sort <= @now
              ORDER BY deadline_sort, id
              LIMIT @limit) due
        WHERE o.id = due.id AND o.status = 'published' AND o.deadline_sort <= @now
        """;

    // Each statement runs with JIT and parallel workers off. The planner sees a million archived offers with past dates
    // and expects ~80,000 overdue or stale published offers where there are none: it then JIT-compiles the statement and
    // starts parallel workers, ~100 ms of a run with nothing to do instead of ~1 ms (expiry benchmark, docs/benchmarks.md).
    // SET LOCAL: the pooled connection keeps its session state (NoResetOnClose), the settings must end with the transaction.
    internal const string PlannerSettingsSql = "SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0";

    /// <summary>
    /// Published offers whose closing instant is at or before <paramref name="now"/> become expired, at most
    /// <paramref name="limit"/> of them, the soonest deadlines first.
    /// </summary>
    /// <returns>How many changed.</returns>
    public static Task<int> ExpireOverdueAsync(NpgsqlConnection conn, DateTimeOffset now, int limit = int.MaxValue,
        CancellationToken ct = default) =>
        UpdateAsync(conn, ExpireSql, new { now, limit = Math.Max(0, limit) }, listed: false, ct);

    /// <summary>
    /// <see cref="ExpireOverdueAsync"/> in batches of <see cref="ExpirySettings.ExpireBatchSize"/> until none is left
    /// or <see cref="ExpirySettings.ExpireTimeBudgetMs"/> has passed (the first batch always runs).
    /// </summary>
    /// <returns>How many changed.</returns>
    public static async Task<int> ExpireOverdueInBatchesAsync(NpgsqlConnection conn, DateTimeOffset now, ExpirySettings settings,
        CancellationToken ct = default)
    {
        var batch = Math.Max(1, settings.ExpireBatchSize);
        var started = Stopwatch.GetTimestamp();
        var total = 0;
        while (true)
        {
            var changed = await ExpireOverdueAsync(conn, now, batch, ct);
            total += changed;
            if (changed < batch || Stopwatch.GetElapsedTime(started).TotalMilliseconds >= settings.ExpireTimeBudgetMs)
            {
                return total;
            }
        }
    }

    private static async Task<NpgsqlTransaction> BeginWithPlannerSettingsAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        var tx = await conn.BeginTransactionAsync(ct);
        try
        {
            await conn.ExecuteAsync(new CommandDefinition(PlannerSettingsSql, transaction: tx, cancellationToken: ct));
            return tx;
        }
        catch
        {
            await tx.DisposeAsync();
            throw;
        }
    }

    // Run every 15 minutes, usually changing nothing: announced to the board's page caches only when a row changed that
    // a list page may show (listed). Expired offers are past their closing instant, which no page lists.
    private static async Task<int> UpdateAsync(NpgsqlConnection conn, string sql, object args, bool listed, CancellationToken ct)
    {
        await using var tx = await BeginWithPlannerSettingsAsync(conn, ct);
        await conn.ExecuteAsync(new CommandDefinition(BoardChanges.QuietSql, transaction: tx, cancellationToken: ct));
        var changed = await conn.ExecuteAsync(new CommandDefinition(sql, args, tx, commandTimeout: 0, cancellationToken: ct));
        if (listed && changed > 0)
        {
            await conn.ExecuteAsync(new CommandDefinition(BoardChanges.AnnounceSql, transaction: tx, cancellationToken: ct));
        }

        await tx.CommitAsync(ct);
        return changed;
    }

    internal const string ArchiveSql = """
        UPDATE opportunities
        SET status = 'expired', closed_at = @now, updated_at = @now
        WHERE status = 'published' AND deadline_date IS NULL
          AND published_at <= @now - make_interval(months => @months)
        """;

    public static Task<int> ArchiveStaleWithoutDeadlineAsync(NpgsqlConnection conn, DateTimeOffset now, ExpirySettings settings,
        CancellationToken ct = default) =>
        UpdateAsync(conn, ArchiveSql, new { now, months = settings.NoDeadlineMaxAgeMonths }, listed: true, ct);

    // Who is asked: the issuer's verified accounts, who can renew the offer from their space (the offer's contact is
    // often a public address of someone else: a recruiter, a switchboard). An offer whose issuer has no account (an
    // imported newsletter line) falls back on its contact when that is an address.
    internal const string RenewalDueSql = """
        SELECT o.id, o.title, o.issuer_name, btrim(o.contact) AS contact, o.published_at,
               btrim(o.contact) ~ '^[^@\s<>",;]+@[^@\s<>",;]+\.[^@\s<>",;]+$' AS contact_is_address,
               ARRAY(SELECT u.email FROM users u
                     WHERE u.issuer_id = o.issuer_id AND u.role = 'issuer' AND u.email_verified_at IS NOT NULL
                     ORDER BY u.id) AS accounts
        FROM opportunities o
        WHERE o.status = 'published' AND o.deadline_date IS NULL
          AND o.published_at <= @now - make_interval(months => @months) + make_interval(days => @days)
        ORDER BY o.published_at, o.id
        """;

    /// <returns>Emails queued now (a reminder already queued for that publication and address is not queued again),
    /// and offers due for a reminder that have no address to send it to.</returns>
    public static async Task<(int Queued, int NoAddress)> QueueRenewalRemindersAsync(NpgsqlConnection conn, DateTimeOffset now,
        ExpirySettings settings, SiteLinks links, CancellationToken ct = default)
    {
        await using var tx = await BeginWithPlannerSettingsAsync(conn, ct);
        var due = (await conn.QueryAsync<RenewalDue>(new CommandDefinition(RenewalDueSql,
            new { now, months = settings.NoDeadlineMaxAgeMonths, days = settings.RenewalNoticeDays }, tx, cancellationToken: ct))).AsList();
        var (queued, noAddress) = (0, 0);
        foreach (var offer in due)
        {
            // One reminder per publication and address: a renewed offer (new published_at) gets a new one in its time.
            // The contact's key is the one used before accounts were asked, so that no reminder is sent twice.
            var publication = $"renewal:{offer.Id}:{offer.PublishedAt:yyyyMMddHHmmss}";
            var recipients = offer.Accounts.Length > 0
                ? offer.Accounts.Select(a => (To: a, Key: $"{publication}:{a.ToLowerInvariant()}")).ToList()
                : offer.ContactIsAddress ? [(To: offer.Contact!, Key: publication)] : [];
            if (recipients.Count == 0)
            {
                noAddress++;
                continue;
            }

            var archiveOn = new DateTimeOffset(offer.PublishedAt, TimeSpan.Zero).AddMonths(settings.NoDeadlineMaxAgeMonths);
            foreach (var (to, key) in recipients)
            {
                var email = RenewalEmail.Render(offer.Id, offer.Title, to, archiveOn, links);
                if (await Outbox.EnqueueAsync(conn, tx, email with { DedupeKey = key }) is not null)
                {
                    queued++;
                }
            }
        }

        await tx.CommitAsync(ct);
        return (queued, noAddress);
    }

    private sealed class RenewalDue
    {
        public long Id { get; init; }
        public string Title { get; init; } = "";
        public string IssuerName { get; init; } = "";
        public string? Contact { get; init; }
        public DateTime PublishedAt { get; init; }
        public bool ContactIsAddress { get; init; }
        public string[] Accounts { get; init; } = [];
    }
}

/// <summary>The reminder sent to an issuer before an offer without deadline is archived (text and HTML from one model).</summary>
public static class RenewalEmail
{
    public static OutgoingEmail Render(long id, string title, string to, DateTimeOffset archiveOn, SiteLinks links)
    {
        var url = links.Opportunity(id);
        var date = ParisTime.FormatDate(archiveOn);
        var subject = $"Votre offre « {Truncate(title, 120)} » sera archivée le {date}";
        var text = $"""
            Bonjour,

            Votre offre « {title} » est publiée sans date limite. Elle sera retirée du tableau et archivée le {date}.

            Si elle est toujours d'actualité, republiez-la ou indiquez une date limite depuis votre espace :
            {url}

            Sans action de votre part, elle sera archivée automatiquement.

            L'équipe Opportunités
            """;
        var e = (Func<string, string>)System.Net.WebUtility.HtmlEncode;
        var html = $"""
            <p>Bonjour,</p>
            <p>Votre offre « {e(title)} » est publiée sans date limite. Elle sera retirée du tableau et archivée le <strong>{date}</strong>.</p>
            <p>Si elle est toujours d'actualité, republiez-la ou indiquez une date limite depuis votre espace :
            <a href="{e(url)}">{e(url)}</a></p>
            <p>Sans action de votre part, elle sera archivée automatiquement.</p>
            <p>L'équipe Opportunités</p>
            """;
        return new OutgoingEmail("renewal", to, subject, text, html);
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";
}
