using System.Diagnostics;
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
    public async Task Marks_OfEverySession_AreWrittenByOneStatement()
    {
        var ids = await EnqueueAsync(3);
        await using (var marks = new SentMarks(_db.DataSource, sessions: 3))
        {
            await Task.WhenAll(ids.Select(marks.MarkAsync));
        }

        var states = await StatesAsync(ids);
        Assert.That(states.Select(s => s.Status), Is.All.EqualTo("sent"));
        // now() is the statement's transaction start: one UPDATE gives the three rows the same instant.
        Assert.That(states.Select(s => s.SentAt).Distinct().Count(), Is.EqualTo(1), "one statement for the three marks");
    }

    [Test]
    public async Task Mark_WhileOtherSessionsAreSending_IsWrittenWhenTheWindowEnds()
    {
        var ids = await EnqueueAsync(1);
        await using var marks = new SentMarks(_db.DataSource, sessions: 8);

        var watch = Stopwatch.StartNew();
        var mark = marks.MarkAsync(ids[0]);
        var finished = await Task.WhenAny(mark, Task.Delay(TimeSpan.FromSeconds(5)));

        Assert.That(finished, Is.SameAs(mark), "the mark does not wait for the other seven sessions");
        await mark;
        Assert.That(watch.Elapsed, Is.GreaterThanOrEqualTo(SentMarks.Window - TimeSpan.FromMilliseconds(1)),
            "the window is left to the other sessions' marks");
        Assert.That((await StatesAsync(ids))[0].Status, Is.EqualTo("sent"));
    }

    [Test]
    public async Task Mark_WhenTheOtherSessionsHaveEnded_IsWrittenAtOnce()
    {
        var ids = await EnqueueAsync(2);
        await using var marks = new SentMarks(_db.DataSource, sessions: 2);
        marks.SessionEnded();

        await marks.MarkAsync(ids[0]);
        await marks.MarkAsync(ids[1]);

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

        await using (var marks = new SentMarks(_db.DataSource, sessions: 2))
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
        await using (var marks = new SentMarks(source, sessions: 2))
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
        await using var marks = new SentMarks(source, sessions: 1);

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
        await using var marks = new SentMarks(source, sessions: 1);

        Assert.That(marks.OpenAsync, Throws.InstanceOf<NpgsqlException>());
    }

    [Test]
    public async Task Open_ThenMarks_AllWrittenAndTheConnectionReleased()
    {
        var ids = await EnqueueAsync(3);
        await using (var marks = new SentMarks(_db.DataSource, sessions: 3))
        {
            await marks.OpenAsync();
            await Task.WhenAll(ids.Select(marks.MarkAsync));
        }

        Assert.That((await StatesAsync(ids)).Select(s => s.Status), Is.All.EqualTo("sent"));
    }
}
