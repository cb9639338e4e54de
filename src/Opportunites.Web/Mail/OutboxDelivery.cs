using System.Threading.Channels;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Opportunites.Web.Jobs;

namespace Opportunites.Web.Mail;

/// <summary>What one delivery run did.</summary>
public sealed class DeliveryCounts
{
    private int _sent;
    private int _retried;
    private int _failed;
    private int _released;

    public int Sent => _sent;

    public int Retried => _retried;

    public int Failed => _failed;

    /// <summary>Read but left unsent, still due, because the node is stopping.</summary>
    public int Released => _released;

    internal void AddSent() => Interlocked.Increment(ref _sent);

    internal void AddRetried() => Interlocked.Increment(ref _retried);

    internal void AddFailed() => Interlocked.Increment(ref _failed);

    internal void AddReleased(int n) => Interlocked.Add(ref _released, n);

    public IReadOnlyDictionary<string, int> ToDictionary() => new Dictionary<string, int>
    {
        ["envoyes"] = Sent,
        ["reportes"] = Retried,
        ["echecs"] = Failed,
        ["rendus"] = Released,
    };
}

/// <summary>
/// Sends due outbox rows: one run at a time in the cluster (a PostgreSQL session lock), which reads the due rows in
/// order, sends them over a few parallel sessions and records each result as soon as the server answers. 4xx and
/// connection failures are retried with exponential backoff and jitter up to Mail:MaxAttempts, then failed; 5xx fails
/// at once.
/// </summary>
public sealed class OutboxDelivery(
    NpgsqlDataSource db,
    IMailSender sender,
    IOptions<SmtpSettings> smtp,
    IOptions<MailSettings> mail,
    ILogger<OutboxDelivery> log)
{
    // The next due rows after the last ones read, without writing them: only one run reads the queue at a time (the
    // session lock of DeliverDueAsync), so a row read stays its own until it is marked. A lease written on each row cost
    // as much as its "sent" mark (an UPDATE that cannot be HOT; docs/benchmarks.md, 04/12), and a killed node's rows
    // waited for it to end; now the next run sends them once the lock is free. A row retried later is read again when due.
    private const string ClaimSql = """
        SELECT o.id, o.message_id, o.to_address, o.to_name, o.subject, o.text_body, o.html_body, o.body_id, o.personal,
               o.headers::text AS headers, o.attempts + 1 AS attempts, o.created_at, o.next_attempt_at AS due_at
        FROM outbox o
        WHERE o.status = 'queued' AND o.next_attempt_at <= now() AND (o.next_attempt_at, o.id) > (@afterAt, @afterId)
        ORDER BY o.next_attempt_at, o.id
        LIMIT @limit
        """;

    // Shared bodies (digests, 0063): rows are claimed in id order, so one digest group's subscribers follow each other
    // and its body is read once for all of them, then kept for the next claim. Read as UTF-8 bytes, what the message
    // is encoded from: as .NET strings they were twice the size (~90 KB, large object heap) and a sixth of the run's
    // allocations.
    private const string BodiesSql = """
        SELECT id, placeholders, convert_to(text_body, 'UTF8') AS text_body, convert_to(html_body, 'UTF8') AS html_body,
               fragments
        FROM outbox_bodies WHERE id = ANY (@ids)
        """;

    // The fragments of those bodies (0107) not read yet: each is encoded once for every body listing it.
    private const string FragmentsSql = """
        SELECT id, convert_to(text_part, 'UTF8') AS text_part, convert_to(html_part, 'UTF8') AS html_part
        FROM outbox_fragments WHERE id = ANY (@ids)
        """;

    // Still queued, written "not sent, not failed" (the same, by the CHECK on status) so that the planner cannot use the
    // partial index outbox_due (status = 'queued'): with statistics from a nearly empty queue it scanned that whole index
    // for every row, 4.5 ms a mark while a 100,000-subscriber digest was queued (SentMarks the same).
    private const string RetrySql = """
        UPDATE outbox
        SET status = CASE WHEN attempts + 1 >= @maxAttempts THEN 'failed' ELSE 'queued' END, attempts = attempts + 1,
            next_attempt_at = now() + make_interval(secs => @delaySeconds),
            last_error = @error
        WHERE id = @id AND status NOT IN ('sent', 'failed')
        """;

    private const string FailSql = """
        UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = @error
        WHERE id = @id AND status NOT IN ('sent', 'failed')
        """;

    // One delivery run in the cluster at a time: the sweep and a run queued on commit would otherwise each open
    // Mail:Connections sessions, and read the same rows. A run waits for the one before (skipping could miss a row
    // committed as that one found nothing more to claim). A session lock, so a killed node's lock goes with its
    // connection. Tried, not waited for inside PostgreSQL: a statement waiting in pg_advisory_lock keeps its snapshot,
    // so the runs queued behind a digest's delivery held back the xmin horizon for the whole digest; no outbox row
    // version could be pruned and every claim walked all of them again (docs/benchmarks.md, 04/12).
    private const string TryLockSql = "SELECT pg_try_advisory_lock(hashtext('opportunites.deliver'))";
    private const string UnlockSql = "SELECT pg_advisory_unlock(hashtext('opportunites.deliver'))";
    private static readonly TimeSpan LockRetry = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Sends every row due now, once the run before (on any node) has ended; stops claiming when
    /// <paramref name="stopping"/> fires, after the current messages.
    /// </summary>
    public async Task<DeliveryCounts> DeliverDueAsync(CancellationToken stopping)
    {
        await using var conn = await db.OpenConnectionAsync(stopping);
        while (!await conn.ExecuteScalarAsync<bool>(new CommandDefinition(TryLockSql, cancellationToken: stopping)))
        {
            await Task.Delay(LockRetry, stopping);
        }

        try
        {
            return await DeliverAsync(stopping);
        }
        finally
        {
            await conn.ExecuteScalarAsync<bool>(new CommandDefinition(UnlockSql, cancellationToken: CancellationToken.None));
        }
    }

    private async Task<DeliveryCounts> DeliverAsync(CancellationToken stopping)
    {
        var counts = new DeliveryCounts();
        var settings = mail.Value;
        var parallel = Math.Max(1, Math.Min(settings.Connections, sender.MaxSessions));
        var batchSize = Math.Max(1, settings.BatchSize);
        var random = new Random();
        // Claimed rows wait here for the first free session. The next batch is claimed while this one is on the wire, and
        // no session waits for the slowest one of a batch: claiming a batch, then splitting it between the sessions and
        // waiting for all of them, left every connection idle ~15 % of the time.
        var queue = new ClaimedQueue(batchSize);
        await using var marks = new SentMarks(db);
        await marks.OpenAsync();
        var sessions = Enumerable.Range(0, parallel).Select(_ => sender.OpenSession()).ToArray();
        // Also stops the claims when the sessions end on an error, rather than leaving them waiting for room.
        using var claimsDone = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var claiming = ClaimLoopAsync(queue, batchSize, claimsDone.Token);
        try
        {
            // One thread per connection, blocking in MailKit's synchronous Send (cheaper than SendAsync, stack notes).
            await Task.WhenAll(sessions.Select(session => Task.Factory.StartNew(
                () => SendLoop(session, queue, marks, counts, random, stopping),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)));
        }
        finally
        {
            await claimsDone.CancelAsync();
            try
            {
                // A claim that failed (database down) fails the run, after the claimed messages were sent.
                await claiming;
            }
            finally
            {
                foreach (var session in sessions)
                {
                    session.Dispose();
                }
            }
        }

        // The sessions stop taking rows when the node stops: what is left in the queue was read, never sent, and stays
        // due for the next run (on this node or another).
        var rest = 0;
        while (queue.TryTake(out _))
        {
            rest++;
        }

        if (rest > 0)
        {
            counts.AddReleased(rest);
            log.LogInformation("Arrêt demandé : {Count} courriels laissés dans la file", rest);
        }

        return counts;
    }

    private async Task ClaimLoopAsync(ClaimedQueue queue, int batchSize, CancellationToken stopping)
    {
        var bodies = new Dictionary<Guid, SharedBody>();
        var fragments = new Dictionary<Guid, EncodedFragment>();
        // The last row read (next_attempt_at, id): the next claim starts after it.
        var after = (At: DateTime.MinValue, Id: 0L);
        NpgsqlConnection? conn = null;
        try
        {
            // One connection for the run's claims, each planned for the outbox as it is then: a plan kept from the
            // first claims after the outbox was empty joined the claimed rows by scanning the whole table, 25 ms a
            // claim of 100 rows at 100,000 rows instead of 2.5 (same for the bodies' lookup).
            conn = await db.OpenConnectionAsync(CancellationToken.None);
            await conn.ExecuteAsync("SET plan_cache_mode = force_custom_plan");
            while (!stopping.IsCancellationRequested)
            {
                var batch = await ClaimAsync(conn, batchSize, after, bodies, fragments);
                queue.Add(batch);
                if (batch.Count < batchSize)
                {
                    return;
                }

                after = (batch[^1].DueAt, batch[^1].Id);

                try
                {
                    await queue.WaitForRoomAsync(stopping);
                }
                catch (OperationCanceledException)
                {
                    // The rows still queued stay due; DeliverAsync counts them.
                    return;
                }
            }
        }
        finally
        {
            // Completing the queue ends the sessions once it is empty.
            queue.Complete();
            await SentMarks.ReleaseAsync(conn);
        }
    }

    private void SendLoop(IMailSession session, ClaimedQueue queue, SentMarks marks, DeliveryCounts counts,
        Random random, CancellationToken stopping)
    {
        var settings = mail.Value;
        var builder = new MessageBuilder(smtp.Value, settings);
        // The row of message N is marked while message N+1 is on the wire: one mark in flight per connection, each
        // issued as soon as its reply came back ("sent" marks go together with the other sessions', SentMarks).
        var marking = Task.CompletedTask;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                if (!queue.TryTake(out var row))
                {
                    try
                    {
                        if (!queue.Reader.WaitToReadAsync(stopping).AsTask().GetAwaiter().GetResult())
                        {
                            return;
                        }
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }

                    continue;
                }

                SendResult result;
                try
                {
                    // Not cancelled by `stopping`: a message being sent is finished, then the loop stops.
                    // Its end waits for the previous message's mark (at most one accepted-but-unmarked per connection).
                    result = session.Send(builder.Build(row), CancellationToken.None, marking);
                }
                catch (Exception ex) when (ex is ArgumentException or MimeKit.ParseException or FormatException)
                {
                    // A header or address the builder refuses: the row itself is wrong, retrying cannot help.
                    result = new SendResult(SendStatus.Permanent, ex.Message);
                }

                marking.GetAwaiter().GetResult();
                marking = RecordAsync(marks, row, result, counts, settings, random);
            }
        }
        finally
        {
            marking.GetAwaiter().GetResult();
        }
    }

    private async Task RecordAsync(SentMarks marks, OutboxRow row, SendResult result, DeliveryCounts counts, MailSettings settings,
        Random random)
    {
        if (result.Status == SendStatus.Sent)
        {
            await marks.MarkAsync(row.Id);
            counts.AddSent();
            return;
        }

        // Retries and failures are few: a pooled connection each, committed as any other write.
        await using var conn = await db.OpenConnectionAsync(CancellationToken.None);
        switch (result.Status)
        {
            case SendStatus.Transient:
                TimeSpan delay;
                lock (random)
                {
                    delay = settings.RetryDelay(row.Attempts, random);
                }

                await conn.ExecuteAsync(RetrySql, new
                {
                    id = row.Id,
                    maxAttempts = settings.MaxAttempts,
                    delaySeconds = delay.TotalSeconds,
                    error = Truncate(result.Error),
                });
                if (row.Attempts >= settings.MaxAttempts)
                {
                    counts.AddFailed();
                    log.LogWarning("Courriel {Id} abandonné après {Attempts} tentatives : {Error}", row.Id, row.Attempts, result.Error);
                }
                else
                {
                    counts.AddRetried();
                }

                break;
            default:
                await conn.ExecuteAsync(FailSql, new { id = row.Id, error = Truncate(result.Error) });
                counts.AddFailed();
                log.LogWarning("Courriel {Id} refusé : {Error}", row.Id, result.Error);
                break;
        }
    }

    private async Task<List<OutboxRow>> ClaimAsync(NpgsqlConnection conn, int limit, (DateTime At, long Id) after,
        Dictionary<Guid, SharedBody> bodies, Dictionary<Guid, EncodedFragment> fragments)
    {
        var rows = (await conn.QueryAsync<OutboxRow>(ClaimSql, new { limit, afterAt = after.At, afterId = after.Id })).ToList();
        var needed = rows.Where(r => r.BodyId is not null).Select(r => r.BodyId!.Value).ToHashSet();
        if (needed.Count == 0)
        {
            return rows;
        }

        // Bodies are kept from one claim to the next (a group's rows follow each other and may span two claims), a few
        // dozen at most: the ones this claim does not use are dropped first.
        if (bodies.Count + needed.Count > MaxCachedBodies)
        {
            foreach (var unused in bodies.Keys.Where(id => !needed.Contains(id)).ToList())
            {
                bodies.Remove(unused);
            }
        }

        var missing = needed.Where(id => !bodies.ContainsKey(id)).ToArray();
        if (missing.Length > 0)
        {
            var read = (await conn.QueryAsync<SharedBody>(BodiesSql, new { ids = missing })).AsList();
            await ReadFragmentsAsync(conn, read, fragments);
            foreach (var body in read)
            {
                try
                {
                    bodies[body.Id] = body.Prepare(fragments);
                }
                catch (Exception ex) when (ex is KeyNotFoundException or ArgumentException)
                {
                    // A fragment missing, or fewer than markers: as a missing body, its rows fail with the reason and
                    // the run goes on.
                    log.LogError("Corps partagé {Body} incomplet : {Error}", body.Id, ex.Message);
                }
            }
        }

        foreach (var row in rows)
        {
            if (row.BodyId is { } id)
            {
                // A missing body is a bug (written in the same transaction as its rows): the send fails permanently
                // with the reason in the row rather than the whole run.
                row.Body = bodies.GetValueOrDefault(id);
            }
        }

        return rows;
    }

    private const int MaxCachedBodies = 64;

    // A digest run lists a few thousand offers (~1 KB each once encoded); beyond this, those of the bodies being read stay.
    private const int MaxCachedFragments = 16_384;

    private static async Task ReadFragmentsAsync(NpgsqlConnection conn, List<SharedBody> bodies,
        Dictionary<Guid, EncodedFragment> fragments)
    {
        var wanted = bodies.SelectMany(b => b.Fragments).ToHashSet();
        var missing = wanted.Where(id => !fragments.ContainsKey(id)).ToArray();
        if (missing.Length == 0)
        {
            return;
        }

        if (fragments.Count + missing.Length > MaxCachedFragments)
        {
            foreach (var unused in fragments.Keys.Where(id => !wanted.Contains(id)).ToList())
            {
                fragments.Remove(unused);
            }
        }

        foreach (var f in await conn.QueryAsync<(Guid Id, byte[] TextPart, byte[] HtmlPart)>(FragmentsSql, new { ids = missing }))
        {
            fragments[f.Id] = new EncodedFragment(PreparedBody.EncodeFragment(f.TextPart), PreparedBody.EncodeFragment(f.HtmlPart));
        }
    }

    private static string? Truncate(string? error) => error is { Length: > 1000 } ? error[..1000] : error;

    /// <summary>
    /// Claimed rows waiting for the first free session. The next claim is made when half of a batch is left: the claims
    /// first waited for room row by row, and every row a session took woke them through the thread pool (a thread switch
    /// a message; docs/benchmarks.md, 04/12).
    /// </summary>
    private sealed class ClaimedQueue(int batchSize)
    {
        private readonly Channel<OutboxRow> _rows = Channel.CreateUnbounded<OutboxRow>(new UnboundedChannelOptions { SingleWriter = true });
        private readonly SemaphoreSlim _room = new(0);
        private readonly int _refillAt = batchSize / 2;
        private int _waiting;

        public ChannelReader<OutboxRow> Reader => _rows.Reader;

        public void Add(List<OutboxRow> rows)
        {
            foreach (var row in rows)
            {
                _rows.Writer.TryWrite(row);
            }
        }

        public void Complete() => _rows.Writer.TryComplete();

        /// <summary>Returns once the sessions have taken all but half a batch.</summary>
        public async Task WaitForRoomAsync(CancellationToken ct)
        {
            Volatile.Write(ref _waiting, 1);
            // Taken already: whoever clears the flag first (here or a session) ends the wait, the other does nothing.
            if (_rows.Reader.Count <= _refillAt && Interlocked.Exchange(ref _waiting, 0) == 1)
            {
                return;
            }

            await _room.WaitAsync(ct);
        }

        public bool TryTake([System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out OutboxRow row)
        {
            if (!_rows.Reader.TryRead(out row))
            {
                return false;
            }

            if (_rows.Reader.Count <= _refillAt && Volatile.Read(ref _waiting) == 1 && Interlocked.Exchange(ref _waiting, 0) == 1)
            {
                _room.Release();
            }

            return true;
        }
    }

    internal sealed class OutboxRow
    {
        public long Id { get; init; }
        public string MessageId { get; init; } = "";
        public string ToAddress { get; init; } = "";
        public string? ToName { get; init; }
        public string Subject { get; init; } = "";
        public string? TextBody { get; init; }
        public string? HtmlBody { get; init; }
        public Guid? BodyId { get; init; }
        public string?[]? Personal { get; init; }

        /// <summary>The shared body of <see cref="BodyId"/>, personalised when the message is built (not all at once per claim).</summary>
        public SharedBody? Body { get; set; }
        public string Headers { get; init; } = "{}";
        public int Attempts { get; init; }
        public DateTime CreatedAt { get; init; }
        public DateTime DueAt { get; init; }
    }

    /// <summary>A fragment's parts as they go in place of its markers (<see cref="PreparedBody.EncodeFragment"/>).</summary>
    internal readonly record struct EncodedFragment(byte[] Text, byte[] Html);

    internal sealed class SharedBody
    {
        public Guid Id { get; init; }
        public string[] Placeholders { get; init; } = [];
        public byte[] TextBody { get; internal set; } = [];
        public byte[] HtmlBody { get; internal set; } = [];

        public Guid[] Fragments { get; init; } = [];

        public PreparedBody PreparedText { get; private set; } = null!;

        public PreparedBody PreparedHtml { get; private set; } = null!;

        /// <summary>
        /// Encodes both parts once, when the body is read, and lets the texts go: the sessions take a group's rows one
        /// after the other, and preparing on first use had each of them encode the same body at the same time.
        /// </summary>
        /// <param name="fragments">Encoded fragments by id, <see cref="Fragments"/> among them.</param>
        public SharedBody Prepare(IReadOnlyDictionary<Guid, EncodedFragment>? fragments = null)
        {
            PreparedText = new PreparedBody(TextBody, Placeholders,
                Fragments.Length == 0 ? null : Fragments.Select(id => fragments![id].Text).ToList());
            PreparedHtml = new PreparedBody(HtmlBody, Placeholders,
                Fragments.Length == 0 ? null : Fragments.Select(id => fragments![id].Html).ToList());
            TextBody = HtmlBody = [];
            return this;
        }
    }
}

/// <summary>Sends the due rows of the outbox: when mail is queued, and once a minute as a sweep.</summary>
public sealed class DeliveryJob(OutboxDelivery delivery) : IClusteredJob
{
    public const string Name = "deliver";
    public const string Cron = "0 * * * * ?";

    public async Task<IReadOnlyDictionary<string, int>> RunAsync(JobRunContext context, CancellationToken ct) =>
        (await delivery.DeliverDueAsync(ct)).ToDictionary();
}
