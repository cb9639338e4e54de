using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Opportunites.Web.Mail;
using Opportunites.Web.Shared;
using Opportunites.Web.Subscriptions;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Digests;

public sealed record DigestRunResult(string Period, int Due, int Groups, int Queued, int Empty, int AlreadySent, TimeSpan Duration)
{
    /// <summary>Reading the run's candidate offers.</summary>
    public TimeSpan OffersTime { get; init; }

    /// <summary>Writing the ledger and outbox rows (the rest of <see cref="Duration"/>: reading subscribers, matching, rendering).</summary>
    public TimeSpan WriteTime { get; init; }
}

/// <summary>A confirmed, active subscriber without a digest for the period yet, and where its window starts.</summary>
public sealed class DueSubscriber
{
    public long Id { get; init; }
    public string Email { get; init; } = "";
    public string[] TerritoryCodes { get; init; } = [];
    public string[] Kinds { get; init; } = [];
    public string[] Themes { get; init; } = [];
    public string Frequency { get; init; } = Frequencies.Weekly;
    public bool IncludeWider { get; init; } = true;
    public DateTime Since { get; init; }

    /// <summary>Whether a digest was already sent: closing-soon offers it listed are not repeated.</summary>
    public bool HasPrevious { get; init; }
}

/// <summary>
/// The weekly and daily digests. Subscribers with the same preferences and window form a group: the run's candidate
/// offers are read once and each group is matched over the territory hierarchy in memory (<see cref="DigestOffers"/>),
/// one body is rendered per group, and each batch of subscribers gets its ledger rows and outbox rows in one
/// transaction (exactly one digest per subscriber and period). Subscribers are read in chunks from a cursor, not loaded all at once.
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

    // Ordered by window start first (the first row gives the earliest one, which bounds the offers to read), then by
    // preferences: a group's subscribers come together, so the run renders each group once and keeps only the
    // current group and one write batch in memory (read from a cursor in chunks, not a list of every subscriber).
    private const string DueSql = """
        SELECT s.id, s.email, d.territory_codes, d.kinds, d.themes, d.frequency, d.include_wider,
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
        ORDER BY since, has_previous, d.territory_codes, d.include_wider, d.kinds, d.themes, s.id
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
        int due = 0, groups = 0, queued = 0, empty = 0, already = 0;
        DigestOffers? offers = null;
        GroupKey? currentKey = null;
        RenderedDigest? current = null;
        var currentBodyId = Guid.Empty;
        // Bodies committed by earlier batches: a group split over two batches stores its body once.
        var storedBodies = new HashSet<Guid>();
        // Fragments (offers' lines) committed by earlier batches: each is stored once per run.
        var storedFragments = new HashSet<Guid>();
        var batch = new List<(DueSubscriber Subscriber, RenderedDigest Digest, Guid BodyId)>(Math.Max(1, Settings.DigestBatchSize));

        var recent = new RecentBodies();
        long writeTicks = 0, offersTicks = 0;
        // One batch is written while the next one is read and rendered: the run's own CPU work overlaps PostgreSQL's
        // (writes stay one at a time, in order). Written alone after each batch, the run waited on every write.
        Task? writing = null;

        async Task WriteAsync(List<(DueSubscriber Subscriber, RenderedDigest Digest, Guid BodyId)> rows)
        {
            var start = Stopwatch.GetTimestamp();
            var (q, a) = await WriteBatchAsync(rows, storedBodies, storedFragments, period, now, ct);
            writeTicks += Stopwatch.GetTimestamp() - start;
            queued += q;
            already += a;
        }

        async Task FlushAsync()
        {
            if (writing is not null)
            {
                await writing;
            }

            writing = WriteAsync(batch);
            batch = new List<(DueSubscriber Subscriber, RenderedDigest Digest, Guid BodyId)>(Math.Max(1, Settings.DigestBatchSize));
        }

        try
        {
            await using (var reader = await db.OpenConnectionAsync(ct))
            {
                await foreach (var s in DueSubscribersAsync(reader, frequency, period, now, onlySubscriberIds, ct))
                {
                    due++;
                    // The earliest window comes first: every offer any group may list is published after it, or closes soon.
                    if (offers is null)
                    {
                        var start = Stopwatch.GetTimestamp();
                        offers = await LoadOffersAsync(now, s.Since, null, ct);
                        offersTicks = Stopwatch.GetTimestamp() - start;
                    }

                    var key = new GroupKey(s.TerritoryCodes, s.Kinds, s.Themes, s.Since, s.HasPrevious, s.IncludeWider);
                    if (!key.Equals(currentKey))
                    {
                        currentKey = key;
                        // Stored once per content, not per group: neighbouring communes without offers of their own
                        // often get the same offers (at commune level, 48,000 groups gave 22,000 distinct bodies).
                        (current, currentBodyId) = Render(offers, key, frequency, periodStart, now, recent);
                        groups++;
                    }

                    if (current is null)
                    {
                        empty++;
                        continue;
                    }

                    batch.Add((s, current, currentBodyId));
                    if (batch.Count >= Math.Max(1, Settings.DigestBatchSize))
                    {
                        await FlushAsync();
                    }
                }
            }

            if (batch.Count > 0)
            {
                await FlushAsync();
            }

            if (writing is not null)
            {
                await writing;
            }
        }
        catch when (writing is { IsCompleted: false })
        {
            // Not left running behind a failed run; the first error is the one reported.
            try
            {
                await writing;
            }
            catch (Exception)
            {
                // Already failing.
            }

            throw;
        }

        var result = new DigestRunResult(period, due, groups, queued, empty, already, Stopwatch.GetElapsedTime(started))
        {
            OffersTime = Stopwatch.GetElapsedTime(0, offersTicks),
            WriteTime = Stopwatch.GetElapsedTime(0, writeTicks),
        };
        log.LogInformation(
            "Veille {Frequency} {Period} : {Due} abonné(s) dus, {Groups} groupe(s), {Offers} offre(s) candidates, {Queued} envoi(s) en file, {Empty} sans contenu, {Already} déjà servis, {Ms} ms",
            frequency, period, result.Due, result.Groups, offers?.Count ?? 0, result.Queued, result.Empty, result.AlreadySent,
            (int)result.Duration.TotalMilliseconds);
        return result;
    }

    /// <summary>
    /// The due subscribers in <see cref="DueSql"/> order, <see cref="AlertSettings.DigestFetchSize"/> at a time. The
    /// cursor is WITH HOLD: its rows are computed when the declaring transaction commits, and no snapshot is kept while
    /// the run goes through them. A reader streaming one statement held its snapshot for the whole run (a minute and
    /// more at 100,000 subscribers): PostgreSQL could then prune no dead row version anywhere, and the outbox rows
    /// claimed and marked meanwhile piled up versions that every claim walked through again.
    /// </summary>
    private async IAsyncEnumerable<DueSubscriber> DueSubscribersAsync(NpgsqlConnection conn, string frequency, string period,
        DateTimeOffset now, IReadOnlyCollection<long>? only, [EnumeratorCancellation] CancellationToken ct)
    {
        await using (var tx = await conn.BeginTransactionAsync(ct))
        {
            await conn.ExecuteAsync(new CommandDefinition("DECLARE due_subscribers NO SCROLL CURSOR WITH HOLD FOR " + DueSql, new
            {
                frequency,
                period,
                now,
                firstSince = now - Settings.FirstDigestLookback,
                filtered = only is not null,
                only = (only ?? []).ToArray(),
            }, tx, commandTimeout: 0, cancellationToken: ct));
            await tx.CommitAsync(ct);
        }

        var fetchSize = Math.Max(1, Settings.DigestFetchSize);
        try
        {
            while (true)
            {
                // FETCH takes no parameter for its count: an int setting, written as a literal.
                var chunk = (await conn.QueryAsync<DueSubscriber>(new CommandDefinition(
                    $"FETCH FORWARD {fetchSize} FROM due_subscribers", cancellationToken: ct))).AsList();
                foreach (var s in chunk)
                {
                    yield return s;
                }

                if (chunk.Count < fetchSize)
                {
                    break;
                }
            }
        }
        finally
        {
            // The connection goes back to the pool: a cursor left open would outlive the run.
            if (conn.State == System.Data.ConnectionState.Open)
            {
                await conn.ExecuteAsync("CLOSE due_subscribers");
            }
        }
    }

    /// <summary>What the digest of these preferences, with its window starting at <paramref name="since"/>, would be.</summary>
    public async Task<RenderedDigest?> PreviewAsync(DigestPreferences prefs, DateTimeOffset now, DateTimeOffset since,
        bool hasPrevious, CancellationToken ct = default)
    {
        now = now.ToUniversalTime();
        var key = new GroupKey([.. prefs.TerritoryCodes], [.. prefs.Kinds], [.. prefs.Themes], since.UtcDateTime, hasPrevious, prefs.IncludeWider);
        var offers = await LoadOffersAsync(now, since, prefs.TerritoryCodes, ct);
        return Render(offers, key, prefs.Frequency, PeriodStart(now, prefs.Frequency), now, new RecentBodies()).Digest;
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

    private async Task<DigestOffers> LoadOffersAsync(DateTimeOffset now, DateTimeOffset since, IReadOnlyCollection<string>? territories,
        CancellationToken ct)
    {
        var tree = await TerritoryTree.LoadAsync(db);
        await using var conn = await db.OpenConnectionAsync(ct);
        return await DigestOffers.LoadAsync(conn, tree, now, since, WindowEnd(now), now + Settings.ClosingSoonWindow, territories, ct);
    }

    // New = published in the window; closing = still open and closing within the closing-soon window; an offer that is
    // both is listed once, as new. Each closing offer is listed once across digests: one that was already published
    // and closing soon when the previous digest went out was in it, so it is not repeated (a daily subscriber would
    // otherwise read it 14 times). The previous run's closing window started at its run time, just after its window end.
    private (RenderedDigest? Digest, Guid BodyId) Render(DigestOffers offers, GroupKey k, string frequency, DateOnly periodStart,
        DateTimeOffset now, RecentBodies recent)
    {
        var match = offers.Match(k.Territories, k.Kinds, k.Themes, DateTime.SpecifyKind(k.Since, DateTimeKind.Utc), k.HasPrevious,
            WindowEnd(now).UtcDateTime, (now + Settings.ClosingSoonWindow).UtcDateTime,
            Settings.ClosingSoonWindow + Settings.PublicationSettleDelay, Math.Max(1, Settings.MaxItemsPerSection), k.IncludeWider);
        if (match.FreshTotal == 0 && match.ClosingTotal == 0)
        {
            return (null, Guid.Empty);
        }

        var prefs = new DigestPreferences(k.Territories, k.Kinds, k.Themes, frequency, k.IncludeWider);
        // A body depends only on the run's period and the offers matched: a group matching the same offers as a recent
        // one takes its body and body id, with its own link to the board.
        var content = RecentBodies.ContentKey(match);
        if (recent.TryGet(content, out var same))
        {
            return (same.Digest.ForBoard(Settings.Url(DigestRenderer.BoardPath(prefs))), same.BodyId);
        }

        var digest = DigestRenderer.Render(prefs, periodStart, match.Fresh, match.Closing, match.FreshTotal, match.ClosingTotal, Settings);
        var bodyId = digest.ContentId();
        recent.Add(content, digest, bodyId);
        return (digest, bodyId);
    }

    /// <summary>
    /// The last few bodies a run rendered, by the offers they list. Groups come in territory order, and those that share
    /// a body (neighbouring communes taking their EPCI's or département's offers, each with a few choices of kinds) come
    /// close to each other (docs/benchmarks.md, 04/12).
    /// </summary>
    private sealed class RecentBodies
    {
        private const int Capacity = 16;
        private readonly Dictionary<string, (RenderedDigest Digest, Guid BodyId)> _bodies = new(StringComparer.Ordinal);
        private readonly Queue<string> _order = new();

        public static string ContentKey(DigestMatch match)
        {
            var key = new System.Text.StringBuilder();
            key.Append(match.FreshTotal).Append('/').Append(match.ClosingTotal).Append(':');
            foreach (var item in match.Fresh)
            {
                key.Append(item.Id).Append(',');
            }

            key.Append('|');
            foreach (var item in match.Closing)
            {
                key.Append(item.Id).Append(',');
            }

            return key.ToString();
        }

        public bool TryGet(string content, out (RenderedDigest Digest, Guid BodyId) body) => _bodies.TryGetValue(content, out body);

        public void Add(string content, RenderedDigest digest, Guid bodyId)
        {
            if (_order.Count == Capacity)
            {
                _bodies.Remove(_order.Dequeue());
            }

            _bodies[content] = (digest, bodyId);
            _order.Enqueue(content);
        }
    }

    // The whole batch claims its period in one statement (a concurrent node waits on the unique key, then finds
    // the rows taken and skips them), each claimed row drawing the id its outbox row will have; the outbox rows
    // follow in the same transaction (no foreign key between them: 0106).
    private const string ClaimPeriodSql = """
        INSERT INTO digest_deliveries (subscriber_id, period, covered_from, covered_until, new_count, closing_count, outbox_id)
        SELECT b.subscriber_id, @period, b.since, @until, b.new_count, b.closing_count,
               nextval(pg_get_serial_sequence('outbox', 'id'))
        FROM unnest(@ids, @sinces, @newCounts, @closingCounts) AS b(subscriber_id, since, new_count, closing_count)
        ORDER BY b.subscriber_id
        ON CONFLICT (subscriber_id, period) DO NOTHING
        RETURNING subscriber_id, id, outbox_id
        """;

    // An email already queued under the same dedupe key (not written again): its ledger row points at no new row.
    private const string UnlinkLedgerSql = "UPDATE digest_deliveries SET outbox_id = NULL WHERE id = ANY (@ids)";

    private async Task<(int Queued, int Already)> WriteBatchAsync(
        IReadOnlyList<(DueSubscriber Subscriber, RenderedDigest Digest, Guid BodyId)> batch, HashSet<Guid> storedBodies,
        HashSet<Guid> storedFragments, string period, DateTimeOffset now, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // These INSERTs have one good plan whatever their values, and so has the check of the ledger's foreign key to
        // the subscribers, run once per row: planned anew for each row under the connections' force_custom_plan, the
        // check of its former key to the outbox alone was 1.06 s of PostgreSQL's time for 100,000 subscribers (0.16 s
        // running it; pg_stat_statements). Only for this transaction.
        await conn.ExecuteAsync(new CommandDefinition("SET LOCAL plan_cache_mode = auto", transaction: tx, cancellationToken: ct));
        var claimed = (await conn.QueryAsync<(long SubscriberId, long Id, long OutboxId)>(new CommandDefinition(ClaimPeriodSql, new
        {
            period,
            until = WindowEnd(now),
            ids = batch.Select(b => b.Subscriber.Id).ToArray(),
            sinces = batch.Select(b => DateTime.SpecifyKind(b.Subscriber.Since, DateTimeKind.Utc)).ToArray(),
            newCounts = batch.Select(b => b.Digest.NewCount).ToArray(),
            closingCounts = batch.Select(b => b.Digest.ClosingCount).ToArray(),
        }, tx, cancellationToken: ct))).ToDictionary(r => r.SubscriberId);

        var emails = new List<TemplatedEmail>(claimed.Count);
        var templates = new List<MailTemplate>();
        var templateOf = new Dictionary<Guid, int>();
        foreach (var (s, digest, bodyId) in batch)
        {
            if (!claimed.TryGetValue(s.Id, out var ledger))
            {
                continue;
            }

            if (!templateOf.TryGetValue(bodyId, out var template))
            {
                templateOf[bodyId] = template = templates.Count;
                templates.Add(new MailTemplate(bodyId, digest.Subject, digest.TextUtf8, digest.HtmlUtf8, digest.Fragments));
            }

            var unsubscribeUrl = subscriptions.DigestUnsubscribeUrl(s.Id);
            var (texts, htmls) = digest.Values(subscriptions.ManageUrl(s.Id), unsubscribeUrl);
            emails.Add(new TemplatedEmail(ledger.OutboxId, template, s.Email, texts, htmls,
                AlertEmails.UnsubscribeHeaders(unsubscribeUrl), $"digest:{s.Id}:{period}"));
        }

        // Each distinct body stored once, each subscriber's row holding only its links (a personalised copy of a
        // ~45 KB body per subscriber, written then read back, was the run's main cost).
        var written = await Outbox.EnqueueManyAsync(conn, tx, "digest", RenderedDigest.Placeholders,
            templates, emails, storedBodies, storedFragments, ct);
        var unlinked = claimed.Values.Where(c => !written.Contains(c.OutboxId)).Select(c => c.Id).ToArray();
        if (unlinked.Length > 0)
        {
            await conn.ExecuteAsync(new CommandDefinition(UnlinkLedgerSql, new { ids = unlinked }, tx, cancellationToken: ct));
        }

        await tx.CommitAsync(ct);
        storedBodies.UnionWith(templates.Select(t => t.BodyId));
        storedFragments.UnionWith(templates.SelectMany(t => t.Fragments).Select(f => f.Id));
        return (written.Count, batch.Count - written.Count);
    }

    /// <summary>Equal preferences and window: one match, one rendered body.</summary>
    private sealed record GroupKey(string[] Territories, string[] Kinds, string[] Themes, DateTime Since, bool HasPrevious,
        bool IncludeWider)
    {
        public bool Equals(GroupKey? other) =>
            other is not null && Since == other.Since && HasPrevious == other.HasPrevious && IncludeWider == other.IncludeWider
            && Territories.SequenceEqual(other.Territories)
            && Kinds.SequenceEqual(other.Kinds) && Themes.SequenceEqual(other.Themes);

        public override int GetHashCode() =>
            HashCode.Combine(string.Join(',', Territories), string.Join(',', Kinds), string.Join(',', Themes), Since);
    }
}
