using Dapper;
using Npgsql;

namespace Opportunites.Web.Mail;

/// <summary>
/// The "sent" marks of one delivery run's sessions, written together: one UPDATE for the marks that arrived while the
/// previous one ran, rather than one statement per message (one per message was the first PostgreSQL item of a
/// 100,000-subscriber digest: 100,000 statements, 46 s). No window is waited for: the sessions wait for their marks, and
/// a 3 ms window capped a run at ~1,300 msg/s (docs/benchmarks.md, 04/12). A session's next message goes on the wire
/// while the mark of its previous one is written, but its end waits for that mark (<see cref="SmtpSocketStream"/>): a
/// crash leaves at most one accepted-but-unmarked message per connection.
/// </summary>
internal sealed class SentMarks : IAsyncDisposable
{
    // "Still queued", written so that the planner keeps to the primary key (see OutboxDelivery's RetrySql).
    internal const string SentSql = """
        UPDATE outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = NULL
        WHERE id = ANY (@ids) AND status NOT IN ('sent', 'failed')
        """;

    // The marks connection's own session: see OpenSessionAsync. Undone by ReleaseAsync before the pool takes it back.
    internal const string SessionSql = "SET synchronous_commit = off; SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off";

    private const string ResetSql = "RESET synchronous_commit; RESET plan_cache_mode; RESET enable_seqscan";

    // Marks waiting for the writer, guarded by _gate. The writer is a thread of its own that runs the UPDATEs with
    // Npgsql's synchronous calls: the asynchronous loop resumed on the thread pool at each await (the channel, then
    // Npgsql's reply), two thread switches more per statement, ~1,000 statements a second during a digest's delivery.
    private readonly object _gate = new();
    private List<(long Id, TaskCompletionSource Done)> _pending = [];
    private bool _completed;

    private readonly NpgsqlDataSource _db;
    private readonly Task _writer;
    private NpgsqlConnection? _opened;

    public SentMarks(NpgsqlDataSource db)
    {
        _db = db;
        _writer = Task.Factory.StartNew(WriteLoop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>
    /// Opens the marks' connection before the first message is sent. Opened at the first mark instead, a new process's
    /// first mark waited for a new PostgreSQL backend while the next message went out: a kill landing then left two
    /// accepted-but-unmarked messages on one connection, sent twice (DigestCrashTests).
    /// </summary>
    public async Task OpenAsync() => Volatile.Write(ref _opened, await OpenSessionAsync());

    private async Task<NpgsqlConnection> OpenSessionAsync()
    {
        var conn = await _db.OpenConnectionAsync();
        try
        {
            // Marks do not wait for the WAL flush (one fsync per message capped delivery at ~600 msg/s here). Only
            // a database crash can lose a mark, and then the next run sends the row again: a duplicate, never
            // a loss. One plan for the run, through the primary key whatever the table's statistics say: a plan
            // kept from the first marks of a run, when the outbox held a batch or two, scanned the whole table
            // (sequential scan) for every mark once it held 100,000 rows (3.9 ms a statement instead of 0.9), and
            // planning each group instead was 0.67 s of PostgreSQL's time for 12,800 groups (pg_stat_statements,
            // 100,000-subscriber digest). With sequential scans priced out, the generic plan reads the key.
            await conn.ExecuteAsync(SessionSql);
            return conn;
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
    }

    /// <summary>Completes when the row's mark is committed; faults with the database's error if it could not be.</summary>
    public Task MarkAsync(long id)
    {
        // Completed by the writer thread itself: all the continuation does is count the row and release the session
        // thread waiting for it (a hop through the thread pool per message saved).
        var done = new TaskCompletionSource();
        lock (_gate)
        {
            if (_completed)
            {
                done.SetException(new InvalidOperationException("Marquage demandé après la fin de l'envoi"));
                return done.Task;
            }

            _pending.Add((id, done));
            Monitor.Pulse(_gate);
        }

        return done.Task;
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _completed = true;
            Monitor.Pulse(_gate);
        }

        await _writer;
    }

    private void WriteLoop()
    {
        var group = new List<(long Id, TaskCompletionSource Done)>();
        NpgsqlConnection? conn = null;
        try
        {
            while (true)
            {
                // Every mark waiting goes into one statement; the marks that arrive while it runs form the next one.
                lock (_gate)
                {
                    while (_pending.Count == 0 && !_completed)
                    {
                        Monitor.Wait(_gate);
                    }

                    if (_pending.Count == 0)
                    {
                        return;
                    }

                    (group, _pending) = (_pending, group);
                }

                conn = Write(conn ?? Interlocked.Exchange(ref _opened, null), group);
                group.Clear();
            }
        }
        finally
        {
            ReleaseAsync(conn ?? Interlocked.Exchange(ref _opened, null)).GetAwaiter().GetResult();
        }
    }

    /// <summary>
    /// Resets the session settings of a delivery connection before it goes back to the pool, which keeps them (No
    /// Reset On Close); a broken connection is discarded by the pool anyway.
    /// </summary>
    internal static async Task ReleaseAsync(NpgsqlConnection? conn)
    {
        if (conn is null)
        {
            return;
        }

        try
        {
            if (conn.State == System.Data.ConnectionState.Open)
            {
                await conn.ExecuteAsync(ResetSql);
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            // Broken: the pool will not reuse it.
        }
        finally
        {
            await conn.DisposeAsync();
        }
    }

    private NpgsqlConnection? Write(NpgsqlConnection? conn, List<(long Id, TaskCompletionSource Done)> group)
    {
        try
        {
            conn ??= OpenSessionAsync().GetAwaiter().GetResult();

            var ids = new long[group.Count];
            for (var i = 0; i < ids.Length; i++)
            {
                ids[i] = group[i].Id;
            }

            Array.Sort(ids);
            conn.Execute(SentSql, new { ids });
            foreach (var (_, done) in group)
            {
                done.SetResult();
            }

            return conn;
        }
        catch (Exception ex)
        {
            // The sessions waiting on these marks fail the run, as a failed single mark did; a later group tries again
            // on a new connection.
            foreach (var (_, done) in group)
            {
                done.TrySetException(ex);
            }

            ReleaseAsync(conn).GetAwaiter().GetResult();
            return null;
        }
    }
}
