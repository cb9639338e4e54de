using Dapper;
using Npgsql;

namespace Opportunites.Web.Mail;

public sealed record OutboxCounts(long Queued, long Due, long Sent, long Failed);

public sealed class FailedEmail
{
    public long Id { get; init; }
    public string Category { get; init; } = "";
    public string ToAddress { get; init; } = "";
    public string Subject { get; init; } = "";
    public int Attempts { get; init; }
    public string? LastError { get; init; }
    public DateTime CreatedAt { get; init; }
}

/// <summary>A queued email that failed at least once and waits for its next attempt.</summary>
public sealed class RetryingEmail
{
    public long Id { get; init; }
    public string Category { get; init; } = "";
    public string ToAddress { get; init; } = "";
    public string Subject { get; init; } = "";
    public int Attempts { get; init; }
    public string? LastError { get; init; }
    public DateTime NextAttemptAt { get; init; }
}

/// <summary>One email to an address, whatever its state (queued, sent, failed): "was X's confirmation sent?".</summary>
public sealed class AddressEmail
{
    public long Id { get; init; }
    public string Category { get; init; } = "";
    public string ToAddress { get; init; } = "";
    public string Subject { get; init; } = "";
    public string Status { get; init; } = "";
    public int Attempts { get; init; }
    public string? LastError { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime? SentAt { get; init; }
}

/// <summary>What the admin outbox page reads and does.</summary>
public sealed class OutboxAdmin(NpgsqlDataSource db)
{
    // Exact counts of sent rows grow with time; fine at this scale (one sequential scan of a narrow column set).
    private const string CountsSql = """
        SELECT count(*) FILTER (WHERE status = 'queued') AS queued,
               count(*) FILTER (WHERE status = 'queued' AND next_attempt_at <= now()) AS due,
               count(*) FILTER (WHERE status = 'sent') AS sent,
               count(*) FILTER (WHERE status = 'failed') AS failed
        FROM outbox
        """;

    public async Task<OutboxCounts> GetCountsAsync(CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleAsync<OutboxCounts>(new CommandDefinition(CountsSql, cancellationToken: ct));
    }

    // Served by outbox_failed (partial, created_at DESC).
    private const string FailedSql = """
        SELECT id, category, to_address, subject, attempts, last_error, created_at
        FROM outbox WHERE status = 'failed'
        ORDER BY created_at DESC
        LIMIT @limit
        """;

    public async Task<IReadOnlyList<FailedEmail>> GetFailedAsync(int limit, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<FailedEmail>(new CommandDefinition(FailedSql, new { limit }, cancellationToken: ct))).AsList();
    }

    // Served by outbox_due (partial on queued rows, next_attempt_at): a row with an error is one being retried
    // (a claim in progress increments attempts but leaves last_error empty until its first failure).
    private const string RetryingSql = """
        SELECT id, category, to_address, subject, attempts, last_error, next_attempt_at
        FROM outbox WHERE status = 'queued' AND last_error IS NOT NULL
        ORDER BY next_attempt_at, id
        LIMIT @limit
        """;

    public async Task<IReadOnlyList<RetryingEmail>> GetRetryingAsync(int limit, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<RetryingEmail>(new CommandDefinition(RetryingSql, new { limit }, cancellationToken: ct))).AsList();
    }

    // Served by outbox_to_address (lower(to_address), created_at DESC): the whole address, any case, newest first.
    // Sent rows are kept Jobs:HistoryDays (purge job), so this answers for the last weeks.
    private const string ByAddressSql = """
        SELECT id, category, to_address, subject, status, attempts, last_error, created_at, sent_at
        FROM outbox
        WHERE lower(to_address) = lower(btrim(@address))
        ORDER BY created_at DESC
        LIMIT @limit
        """;

    public async Task<IReadOnlyList<AddressEmail>> GetByAddressAsync(string address, int limit, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<AddressEmail>(new CommandDefinition(ByAddressSql, new { address, limit }, cancellationToken: ct))).AsList();
    }

    // A fresh set of attempts, due now; the previous error stays visible until the next attempt replaces it.
    private const string RetrySql = """
        UPDATE outbox SET status = 'queued', attempts = 0, next_attempt_at = now()
        WHERE id = @id AND status = 'failed'
        """;

    /// <returns>false when the row is not (or no longer) failed.</returns>
    public async Task<bool> RetryAsync(long id, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition(RetrySql, new { id }, cancellationToken: ct)) == 1;
    }
}
