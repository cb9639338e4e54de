using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Opportunites.Web.Mail;
using Opportunites.Web.Shared;
using Opportunites.Web.Subscriptions;

namespace Opportunites.Web.Digests;

public sealed record DigestRunResult(string Period, int Due, int Groups, int Queued, int Empty, int AlreadySent, TimeSpan Duration);

/// <summary>A confirmed, active subscriber without a digest for the period yet, and where its window starts.</summary>
public sealed class DueSubscriber
{
    public long Id { get; init; }
    public string Email { get; init; } = "";
    public string[] TerritoryCodes { get; init; } = [];
    public string[] Kinds { get; init; } = [];
    public string[] Themes { get; init; } = [];
    public string Frequency { get; init; } = Frequencies.Weekly;
    public DateTime Since { get; init; }

    /// <summary>Whether a digest was already sent: closing-soon offers it listed are not repeated.</summary>
    public bool HasPrevious { get; init; }
}

/// <summary>
/// The weekly and daily digests. Subscribers with the same preferences and window form a group: one set-based
/// query matches every group over the territory hierarchy, one body is rendered per group, and each subscriber
/// gets its ledger row and outbox row in the same transaction (exactly one digest per subscriber and period).
/// </summary>
public sealed class DigestRunner(NpgsqlDataSource db, SubscriptionService subscriptions, IOptions<AlertSettings> options,
    ILogger<DigestRunner> log)
{
    private AlertSettings Settings => options.Value;

    /// <summary>'S2026-W48' for the ISO week (Paris time) of a weekly run, 'J2026-11-23' for a daily one.</summary>
    public static string PeriodOf(DateTimeOffset now, string frequency)
    {
        var day = DateOnly.FromDateTime(ParisTime.ToParis(now));
        return frequency == Frequencies.Daily
            ? "J" + day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
            : $"S{ISOWeek.GetYear(day.ToDateTime(TimeOnly.MinValue))}-W{ISOWeek.GetWeekOfYear(day.ToDateTime(TimeOnly.MinValue)):00}";
    }

    /// <summary>The first day of the period in Paris: the Monday of the week, or the day itself.</summary>
    public static DateOnly PeriodStart(DateTimeOffset now, string frequency)
    {
        var day = DateOnly.FromDateTime(ParisTime.ToParis(now));
        return frequency == Frequencies.Daily ? day : day.AddDays(-(((int)day.DayOfWeek + 6) % 7));
    }

    private const string DueSql = """
        SELECT s.id, s.email, d.territory_codes, d.kinds, d.themes, d.frequency,
               coalesce(l.covered_until, @firstSince) AS since, l.covered_until IS NOT NULL AS has_previous
        FROM digest_subscriptions d
        JOIN subscribers s ON s.id = d.subscriber_id
        LEFT JOIN LATERAL (
          SELECT dd.covered_until FROM digest_deliveries dd
          WHERE dd.subscriber_id = s.id ORDER BY dd.covered_until DESC LIMIT 1) l ON true
        WHERE d.frequency = @frequency AND d.paused_at IS NULL
          AND s.confirmed_at IS NOT NULL AND s.confirmed_at <= @now
          AND NOT EXISTS (SELECT 1 FROM digest_deliveries x WHERE x.subscriber_id = s.id AND x.period = @period)
          AND (NOT @filtered OR s.id = ANY (@only))
        ORDER BY s.id
        """;

    /// <summary>Queues the digests of every due subscriber of that frequency for the period containing <paramref name="now"/>.</summary>
    /// <param name="onlySubscriberIds">Restricts the run to these subscribers (tests, admin re-runs); null for all.</param>
    public async Task<DigestRunResult> RunAsync(DateTimeOffset now, string frequency,
        IReadOnlyCollection<long>? onlySubscriberIds = null, CancellationToken ct = default)
    {
        var started = Stopwatch.GetTimestamp();
        now = now.ToUniversalTime();
        var period = PeriodOf(now, frequency);
        var periodStart = PeriodStart(now, frequency);

        List<DueSubscriber> due;
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            due = (await conn.QueryAsync<DueSubscriber>(new CommandDefinition(DueSql, new
            {
                frequency,
                period,
                now,
                firstSince = now - Settings.FirstDigestLookback,
                filtered = onlySubscriberIds is not null,
                only = (onlySubscriberIds ?? []).ToArray(),
            }, cancellationToken: ct))).AsList();
        }

        var groups = due.GroupBy(s => new GroupKey(s.TerritoryCodes, s.Kinds, s.Themes, s.Since, s.HasPrevious)).ToList();
        int queued = 0, empty = 0, already = 0;
        // Bounded memory: match and render a slice of groups at a time.
        foreach (var slice in groups.Chunk(500))
        {
            var keys = slice.Select(g => g.Key).ToList();
            var rendered = await RenderGroupsAsync(keys, frequency, periodStart, now, ct);
            var work = new List<(DueSubscriber Subscriber, RenderedDigest Digest)>();
            for (var i = 0; i < slice.Length; i++)
            {
                if (rendered[i] is not { } digest)
                {
                    empty += slice[i].Count();
                    continue;
                }

                work.AddRange(slice[i].Select(s => (s, digest)));
            }

            foreach (var batch in work.Chunk(Math.Max(1, Settings.DigestBatchSize)))
            {
                var (q, a) = await WriteBatchAsync(batch, period, now, ct);
                queued += q;
                already += a;
            }
        }

        var result = new DigestRunResult(period, due.Count, groups.Count, queued, empty, already, Stopwatch.GetElapsedTime(started));
        log.LogInformation(
            "Veille {Frequency} {Period} : {Due} abonné(s) dus, {Groups} groupe(s), {Queued} envoi(s) en file, {Empty} sans contenu, {Already} déjà servis, {Ms} ms",
            frequency, period, result.Due, result.Groups, result.Queued, result.Empty, result.AlreadySent, (int)result.Duration.TotalMilliseconds);
        return result;
    }

    /// <summary>What the digest of these preferences, with its window starting at <paramref name="since"/>, would be.</summary>
    public async Task<RenderedDigest?> PreviewAsync(DigestPreferences prefs, DateTimeOffset now, DateTimeOffset since,
        bool hasPrevious, CancellationToken ct = default)
    {
        now = now.ToUniversalTime();
        var key = new GroupKey([.. prefs.TerritoryCodes], [.. prefs.Kinds], [.. prefs.Themes], since.UtcDateTime, hasPrevious);
        var rendered = await RenderGroupsAsync([key], prefs.Frequency, PeriodStart(now, prefs.Frequency), now, ct);
        return rendered[0];
    }

    /// <summary>
    /// Where a digest's window ends: a little before the run, so that an offer whose publishing transaction was
    /// still open when the run read the table lands in the next window instead of in none.
    /// </summary>
    private DateTimeOffset WindowEnd(DateTimeOffset now) => now - Settings.PublicationSettleDelay;

    private const string LastCoveredSql = "SELECT max(covered_until) FROM digest_deliveries WHERE subscriber_id = @id";

    /// <summary>The window start a subscriber's next digest would use, and whether a digest was sent before.</summary>
    public async Task<(DateTimeOffset Since, bool HasPrevious)> NextWindowStartAsync(long subscriberId, DateTimeOffset now, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var last = await conn.ExecuteScalarAsync<DateTime?>(new CommandDefinition(LastCoveredSql, new { id = subscriberId }, cancellationToken: ct));
        return last is { } l
            ? (new DateTimeOffset(l, TimeSpan.Zero), true)
            : (now.ToUniversalTime() - Settings.FirstDigestLookback, false);
    }

    // One pass for a whole slice of groups: each group's territories expand to their both-ways match set
    // (territory_match_set over the lineage index), then the GIN index on territory_codes finds the offers.
    // New = published in the window; closing = still open and closing within the closing-soon window; an offer
    // that is both is listed once, as new. Each closing offer is listed once across digests: one that was already
    // published and closing soon when the previous digest went out was in it, so it is not repeated (a daily
    // subscriber would otherwise read it 14 times).
    private const string MatchSql = """
        WITH g AS (
          SELECT g.gid, g.kinds, g.themes, g.since, g.has_previous,
                 ARRAY(SELECT DISTINCT m FROM unnest(g.territories) c, unnest(territory_match_set(c)) m) AS match_set
          FROM jsonb_to_recordset(@groups::jsonb) AS g(gid int, territories text[], kinds text[], themes text[], since timestamptz, has_previous boolean)
        )
        SELECT g.gid, o.id, o.kind, o.title, o.issuer_name, o.deadline_date, o.closes_at, o.published_at,
               (o.published_at > g.since AND o.published_at <= @until) AS is_new,
               ARRAY(SELECT t.name FROM territories t WHERE t.code = ANY (o.territory_codes) ORDER BY t.name) AS territory_names
        FROM g
        JOIN opportunities o
          ON o.status = 'published'
         AND o.territory_codes && g.match_set
         AND o.kind = ANY (g.kinds)
         AND o.deadline_sort > @now
         AND ((o.published_at > g.since AND o.published_at <= @until)
              OR (o.closes_at <= @closingUntil
                  AND NOT (g.has_previous AND o.published_at <= g.since AND o.closes_at <= g.since + @previousClosingWindow)))
         AND (cardinality(g.themes) = 0
              OR EXISTS (SELECT 1 FROM opportunity_themes ot WHERE ot.opportunity_id = o.id AND ot.theme_code = ANY (g.themes)))
        ORDER BY g.gid, o.deadline_sort, o.id
        """;

    private async Task<RenderedDigest?[]> RenderGroupsAsync(IReadOnlyList<GroupKey> keys, string frequency, DateOnly periodStart,
        DateTimeOffset now, CancellationToken ct)
    {
        var json = JsonSerializer.Serialize(keys.Select((k, i) => new
        {
            gid = i,
            territories = k.Territories,
            kinds = k.Kinds,
            themes = k.Themes,
            since = new DateTimeOffset(DateTime.SpecifyKind(k.Since, DateTimeKind.Utc)),
            has_previous = k.HasPrevious,
        }));
        List<DigestItem> items;
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            items = (await conn.QueryAsync<DigestItem>(new CommandDefinition(MatchSql,
                new
                {
                    groups = json,
                    now,
                    until = WindowEnd(now),
                    closingUntil = now + Settings.ClosingSoonWindow,
                    // The previous run's closing window started at its run time, just after its window end.
                    previousClosingWindow = Settings.ClosingSoonWindow + Settings.PublicationSettleDelay,
                }, cancellationToken: ct))).AsList();
        }

        var byGroup = items.ToLookup(i => i.Gid);
        var max = Math.Max(1, Settings.MaxItemsPerSection);
        var result = new RenderedDigest?[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            var mine = byGroup[i].ToList();
            var fresh = mine.Where(x => x.IsNew).ToList();
            var closing = mine.Where(x => !x.IsNew).ToList();
            if (fresh.Count == 0 && closing.Count == 0)
            {
                continue;
            }

            var k = keys[i];
            var prefs = new DigestPreferences(k.Territories, k.Kinds, k.Themes, frequency);
            result[i] = DigestRenderer.Render(prefs, periodStart,
                [.. fresh.OrderByDescending(x => x.PublishedAt).ThenBy(x => x.Id).Take(max)],
                [.. closing.Take(max)], fresh.Count, closing.Count, Settings);
        }

        return result;
    }

    // The whole batch claims its period in one statement (a concurrent node waits on the unique key, then finds
    // the rows taken and skips them); the outbox rows follow in the same transaction, then the ledger points at them.
    private const string ClaimPeriodSql = """
        INSERT INTO digest_deliveries (subscriber_id, period, covered_from, covered_until, new_count, closing_count)
        SELECT b.subscriber_id, @period, b.since, @until, b.new_count, b.closing_count
        FROM unnest(@ids, @sinces, @newCounts, @closingCounts) AS b(subscriber_id, since, new_count, closing_count)
        ORDER BY b.subscriber_id
        ON CONFLICT (subscriber_id, period) DO NOTHING
        RETURNING subscriber_id, id
        """;

    private const string LinkLedgerSql = """
        UPDATE digest_deliveries d SET outbox_id = l.outbox_id
        FROM unnest(@ledgerIds, @outboxIds) AS l(id, outbox_id)
        WHERE d.id = l.id
        """;

    private async Task<(int Queued, int Already)> WriteBatchAsync(IReadOnlyList<(DueSubscriber Subscriber, RenderedDigest Digest)> batch,
        string period, DateTimeOffset now, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var claimed = (await conn.QueryAsync<(long SubscriberId, long Id)>(new CommandDefinition(ClaimPeriodSql, new
        {
            period,
            until = WindowEnd(now),
            ids = batch.Select(b => b.Subscriber.Id).ToArray(),
            sinces = batch.Select(b => DateTime.SpecifyKind(b.Subscriber.Since, DateTimeKind.Utc)).ToArray(),
            newCounts = batch.Select(b => b.Digest.NewCount).ToArray(),
            closingCounts = batch.Select(b => b.Digest.ClosingCount).ToArray(),
        }, tx, cancellationToken: ct))).ToDictionary(r => r.SubscriberId, r => r.Id);

        var ledgerIds = new List<long>(claimed.Count);
        var outboxIds = new List<long>(claimed.Count);
        foreach (var (s, digest) in batch)
        {
            if (!claimed.TryGetValue(s.Id, out var ledgerId))
            {
                continue;
            }

            var unsubscribeUrl = subscriptions.DigestUnsubscribeUrl(s.Id);
            var (text, html) = digest.Personalize(subscriptions.ManageUrl(s.Id), unsubscribeUrl);
            var outboxId = await Outbox.EnqueueAsync(conn, tx, new OutgoingEmail("digest", s.Email, digest.Subject, text, html,
                Headers: AlertEmails.UnsubscribeHeaders(unsubscribeUrl), DedupeKey: $"digest:{s.Id}:{period}"));
            if (outboxId is { } o)
            {
                ledgerIds.Add(ledgerId);
                outboxIds.Add(o);
            }
        }

        await conn.ExecuteAsync(new CommandDefinition(LinkLedgerSql,
            new { ledgerIds = ledgerIds.ToArray(), outboxIds = outboxIds.ToArray() }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return (outboxIds.Count, batch.Count - outboxIds.Count);
    }

    /// <summary>Equal preferences and window: one match, one rendered body.</summary>
    private sealed record GroupKey(string[] Territories, string[] Kinds, string[] Themes, DateTime Since, bool HasPrevious)
    {
        public bool Equals(GroupKey? other) =>
            other is not null && Since == other.Since && HasPrevious == other.HasPrevious && Territories.SequenceEqual(other.Territories)
            && Kinds.SequenceEqual(other.Kinds) && Themes.SequenceEqual(other.Themes);

        public override int GetHashCode() =>
            HashCode.Combine(string.Join(',', Territories), string.Join(',', Kinds), string.Join(',', Themes), Since);
    }
}
