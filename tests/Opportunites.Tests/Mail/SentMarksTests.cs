using Dapper;
using Npgsql;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Mail;

namespace Opportunites.Tests.Mail;

/// <summary>The "sent" marks of a delivery run's sessions, written together (SentMarks), on a real database.</summary>
public sealed class SentMarksTests
{
    private PrivateDatabase _db = null!;

    [OneTimeSetUp]
    public async Task CreateAsync() => _db = await PrivateDatabase.CreateAsync();

    [OneTimeTearDown]
    public async Task DropAsync() => await _db.DisposeAsync();

    private async Task<long[]> EnqueueAsync(int count)
    {
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var ids = new long[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = (await Outbox.EnqueueAsync(conn, null,
                new OutgoingEmail("verification", $"marque-{Guid.NewGuid():N}@example.org", "Sujet", "texte", "<p>html</p>")))!.Value;
        }

        return ids;
    }

    private async Task<List<(string Status, DateTime? SentAt)>> StatesAsync(long[] ids)
    {
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<(string, DateTime?)>(
            "SELECT status, sent_at FROM outbox WHERE id = ANY (@ids) ORDER BY id", new { ids })).ToList();
    }

    [Test]
    public async Task Marks_ArrivingWhileAStatementRuns_AreWrittenTogetherByTheNext()
    {
        var ids = await EnqueueAsync(4);
        await using var blocker = await _db.DataSource.OpenConnectionAsync();
        await using var tx = await blocker.BeginTransactionAsync();
        // The first mark's UPDATE waits for this row lock: the three marks made meanwhile queue up behind it.
        await blocker.ExecuteAsync("SELECT id FROM outbox WHERE id = @id FOR UPDATE", new { id = ids[0] }, tx);
        await using (var marks = new SentMarks(_db.DataSource))
        {
            await marks.OpenAsync();
            var first = marks.MarkAsync(ids[0]);
            await WaitForLockWaitAsync();
            var others = ids[1..].Select(marks.MarkAsync).ToArray();
            await tx.CommitAsync();
            await Task.WhenAll([first, .. others]);
        }

        var states = await StatesAsync(ids);
        Assert.That(states.Select(s => s.Status), Is.All.EqualTo("sent"));
        // now() is the statement's transaction start: one UPDATE gives its rows the same instant, a later one a later instant.
        Assert.That(states.Skip(1).Select(s => s.SentAt).Distinct().Count(), Is.EqualTo(1), "one statement for the three later marks");
        Assert.That(states[1].SentAt, Is.GreaterThan(states[0].SentAt!.Value), "not the first mark's statement");
    }

    private async Task WaitForLockWaitAsync()
    {
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        for (var i = 0; i < 500; i++)
        {
            if (await conn.ExecuteScalarAsync<bool>(
                    "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock')"))
            {
                return;
            }

            await Task.Delay(10);
        }

        Assert.Fail("the first mark never waited for the row lock");
    }

    [Test]
    public async Task Mark_WithNoOtherMarkPending_IsWrittenWithoutWaitingForOtherSessions()
    {
        var ids = await EnqueueAsync(2);
        await using var marks = new SentMarks(_db.DataSource);

        foreach (var id in ids)
        {
            // One at a time, as a single session marks: none of them waits for marks that will not come.
            var mark = marks.MarkAsync(id);
            Assert.That(await Task.WhenAny(mark, Task.Delay(TimeSpan.FromSeconds(5))), Is.SameAs(mark));
            await mark;
        }

        Assert.That((await StatesAsync(ids)).Select(s => s.Status), Is.All.EqualTo("sent"));
    }

    [Test]
    public async Task Mark_OfARowNoLongerQueued_LeavesItAsItIs()
    {
        var ids = await EnqueueAsync(2);
        await using (var conn = await _db.DataSource.OpenConnectionAsync())
        {
            await conn.ExecuteAsync("UPDATE outbox SET status = 'failed', last_error = 'refusé' WHERE id = @id", new { id = ids[0] });
        }

        await using (var marks = new SentMarks(_db.DataSource))
        {
            await Task.WhenAll(ids.Select(marks.MarkAsync));
        }

        var states = await StatesAsync(ids);
        Assert.That(states.Select(s => s.Status), Is.EqualTo(new[] { "failed", "sent" }));
    }

    [Test]
    public async Task Marks_PlannedOnANearlyEmptyOutbox_ReadTheKeyNotTheWholeTable()
    {
        // The plan the marks connection keeps for the run is made when the outbox may hold a batch or two; with the
        // statistics of a small table, a plan made once would scan the whole table, which at 100,000 rows made every
        // mark 4 times slower.
        await using var db = await PrivateDatabase.CreateAsync();
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await Outbox.EnqueueAsync(conn, null, new OutgoingEmail("verification", "seul@example.org", "Sujet", "texte", "<p>html</p>"));
        await conn.ExecuteAsync("ANALYZE outbox");
        await conn.ExecuteAsync(SentMarks.SessionSql);
        await conn.ExecuteAsync($"PREPARE mark (bigint[]) AS {SentMarks.SentSql.Replace("@ids", "$1", StringComparison.Ordinal)}");

        var plan = string.Join("\n", await conn.QueryAsync<string>("EXPLAIN EXECUTE mark ('{1,2,3}')"));

        Assert.That(plan, Does.Contain("outbox_pkey"));
        Assert.That(plan, Does.Not.Contain("Seq Scan"));
    }

    [Test]
    public async Task Marks_OnceDone_LeaveThePooledConnectionAsTheyFoundIt()
    {
        // Pooled connections keep their session (No Reset On Close, as the app's data source): the next user of the
        // marks connection, a board page for instance, must not inherit its settings.
        var single = new NpgsqlConnectionStringBuilder(_db.ConnectionString) { MaxPoolSize = 1, NoResetOnClose = true };
        await using var source = NpgsqlDataSource.Create(single.ConnectionString);
        const string SettingsSql = """
            SELECT current_setting('synchronous_commit') || ' ' || current_setting('plan_cache_mode') || ' '
                   || current_setting('enable_seqscan')
            """;
        string before;
        await using (var conn = await source.OpenConnectionAsync())
        {
            before = (await conn.ExecuteScalarAsync<string>(SettingsSql))!;
        }

        var ids = await EnqueueAsync(2);
        await using (var marks = new SentMarks(source))
        {
            await Task.WhenAll(ids.Select(marks.MarkAsync));
        }

        await using (var conn = await source.OpenConnectionAsync())
        {
            Assert.That(await conn.ExecuteScalarAsync<string>(SettingsSql), Is.EqualTo(before));
        }

        Assert.That((await StatesAsync(ids)).Select(s => s.Status), Is.All.EqualTo("sent"));
    }

    [Test]
    public async Task Mark_WhenTheDatabaseIsUnreachable_FailsInsteadOfWaiting()
    {
        // A port nothing listens on: the group's marks fail with the database's error, as a single mark did.
        var unreachable = new NpgsqlConnectionStringBuilder(_db.ConnectionString) { Port = 1, Timeout = 2 };
        await using var source = NpgsqlDataSource.Create(unreachable.ConnectionString);
        await using var marks = new SentMarks(source);

        var mark = marks.MarkAsync(1);
        var finished = await Task.WhenAny(mark, Task.Delay(TimeSpan.FromSeconds(10)));

        Assert.That(finished, Is.SameAs(mark));
        Assert.That(async () => await mark, Throws.InstanceOf<NpgsqlException>());
    }

    [Test]
    public async Task Open_WhenTheDatabaseIsUnreachable_FailsBeforeAnyMessageIsSent()
    {
        // The delivery opens the marks' connection first: a run that could not mark what it sends sends nothing.
        var unreachable = new NpgsqlConnectionStringBuilder(_db.ConnectionString) { Port = 1, Timeout = 2 };
        await using var source = NpgsqlDataSource.Create(unreachable.ConnectionString);
        await using var marks = new SentMarks(source);

        Assert.That(marks.OpenAsync, Throws.InstanceOf<NpgsqlException>());
    }

    [Test]
    public async Task Open_ThenMarks_AllWrittenAndTheConnectionReleased()
    {
        var ids = await EnqueueAsync(3);
        await using (var marks = new SentMarks(_db.DataSource))
        {
            await marks.OpenAsync();
            await Task.WhenAll(ids.Select(marks.MarkAsync));
        }

        Assert.That((await StatesAsync(ids)).Select(s => s.Status), Is.All.EqualTo("sent"));
    }
}
