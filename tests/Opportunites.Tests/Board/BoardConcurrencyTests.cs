using System.Net;
using Dapper;
using Npgsql;
using Opportunites.Tests.Infrastructure;

namespace Opportunites.Tests.Board;

/// <summary>
/// Board requests run a few at a time (Board:MaxConcurrentRequests), the others wait their turn or, past the queue, get
/// a 503. A lock on the offers table holds the first request inside its query, on a database of this fixture's own.
/// </summary>
public sealed class BoardConcurrencyTests
{
    private PrivateDatabase _db = null!;

    [OneTimeSetUp]
    public async Task CreateAsync() => _db = await PrivateDatabase.CreateAsync("opportunites_limit");

    [OneTimeTearDown]
    public async Task DropAsync() => await _db.DisposeAsync();

    private AppFactory App(int queueLimit) => new(_db.ConnectionString, new Dictionary<string, string>
    {
        ["Board:MaxConcurrentRequests"] = "1",
        ["Board:QueueLimit"] = queueLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
    });

    /// <summary>Locks the offers table, starts a board request and returns once it waits on the lock (holding its turn).</summary>
    private async Task<(NpgsqlTransaction Lock, Task<HttpResponseMessage> Held)> HoldOneRequestAsync(NpgsqlConnection conn, HttpClient client)
    {
        var tx = await conn.BeginTransactionAsync();
        await conn.ExecuteAsync("LOCK TABLE opportunities IN ACCESS EXCLUSIVE MODE", transaction: tx);
        var held = client.GetAsync("/offres");
        await WaitForLockWaitersAsync(1);
        return (tx, held);
    }

    private async Task<int> LockWaitersAsync()
    {
        await using var watch = await _db.DataSource.OpenConnectionAsync();
        return await watch.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
    }

    private async Task WaitForLockWaitersAsync(int count)
    {
        for (var i = 0; i < 200; i++)
        {
            if (await LockWaitersAsync() >= count)
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"{count} requête(s) attendue(s) sur le verrou, jamais vues");
    }

    [Test]
    public async Task BoardBusy_QueueFull_Answers503InFrenchWithRetryAfterAndOtherPathsStillServed()
    {
        await using var app = App(queueLimit: 0);
        using var client = app.CreateClient();
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var (tx, held) = await HoldOneRequestAsync(conn, client);

        HttpResponseMessage page, api, health;
        try
        {
            // Bounded: without the limit these would wait on the lock until the rollback below, never reached.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            page = await client.GetAsync("/offres?territoire=33", timeout.Token);
            api = await client.GetAsync("/api/v1/opportunites", timeout.Token);
            // Not a board request: not in its queue.
            health = await client.GetAsync("/healthz", timeout.Token);
        }
        finally
        {
            await tx.RollbackAsync();
        }

        var first = await held;
        Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(page.Headers.RetryAfter?.Delta, Is.EqualTo(TimeSpan.FromSeconds(1)));
        Assert.That(await page.Content.ReadAsStringAsync(), Does.Contain("momentanément indisponible"));
        Assert.That(api.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(api.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That(health.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the request that held the turn completes once the lock goes");
    }

    [Test]
    public async Task BoardBusy_RoomInQueue_LaterRequestWaitsItsTurnThenSucceeds()
    {
        await using var app = App(queueLimit: 10);
        using var client = app.CreateClient();
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var (tx, held) = await HoldOneRequestAsync(conn, client);

        Task<HttpResponseMessage> queued;
        bool doneWhileHeld;
        int waitersInDatabase;
        try
        {
            queued = client.GetAsync("/api/v1/opportunites");
            await Task.Delay(500);
            doneWhileHeld = queued.IsCompleted;
            waitersInDatabase = await LockWaitersAsync();
        }
        finally
        {
            await tx.RollbackAsync();
        }

        Assert.That(doneWhileHeld, Is.False, "the second request waits for the first one's turn");
        Assert.That(waitersInDatabase, Is.EqualTo(1), "queued in the app, not running its query");
        Assert.That((await held).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await queued).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }
}
