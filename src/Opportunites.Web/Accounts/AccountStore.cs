using Dapper;
using Npgsql;

namespace Opportunites.Web.Accounts;

public sealed class UserRecord
{
    public long Id { get; init; }
    public string Email { get; init; } = "";
    public string? PasswordHash { get; init; }
    public string Role { get; init; } = "";
    public long? IssuerId { get; init; }
    public string? IssuerName { get; init; }
    public bool IssuerTrusted { get; init; }
    public DateTime? EmailVerifiedAt { get; init; }
}

public sealed class TokenUse
{
    public long UserId { get; init; }
    public string? NewEmail { get; init; }
}

/// <summary>SQL of users and their single-use tokens.</summary>
public static class AccountStore
{
    private const string SelectUser = """
        SELECT u.id, u.email, u.password_hash, u.role, u.issuer_id, u.email_verified_at,
               i.name AS issuer_name, coalesce(i.trusted, false) AS issuer_trusted
        FROM users u LEFT JOIN issuers i ON i.id = u.issuer_id
        """;

    private const string ByEmailSql = SelectUser + " WHERE lower(u.email) = lower(@email)";

    public static Task<UserRecord?> GetByEmailAsync(NpgsqlConnection conn, string email, NpgsqlTransaction? tx = null) =>
        conn.QuerySingleOrDefaultAsync<UserRecord>(ByEmailSql, new { email = email.Trim() }, tx);

    private const string ByIdSql = SelectUser + " WHERE u.id = @id";

    public static Task<UserRecord?> GetByIdAsync(NpgsqlConnection conn, long id, NpgsqlTransaction? tx = null) =>
        conn.QuerySingleOrDefaultAsync<UserRecord>(ByIdSql, new { id }, tx);

    private const string InsertSql = """
        INSERT INTO users (email, password_hash, role, issuer_id, email_verified_at)
        VALUES (@email, @passwordHash, @role, @issuerId, @verifiedAt)
        ON CONFLICT (lower(email)) DO NOTHING
        RETURNING id
        """;

    /// <returns>The new user's id, or null when the address is already taken.</returns>
    public static Task<long?> InsertAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string email, string? passwordHash,
        string role, long? issuerId, DateTimeOffset? verifiedAt) =>
        conn.ExecuteScalarAsync<long?>(InsertSql, new { email = email.Trim(), passwordHash, role, issuerId, verifiedAt }, tx);

    private const string InsertTokenSql = """
        INSERT INTO account_tokens (user_id, purpose, token_hash, new_email, expires_at)
        VALUES (@userId, @purpose, @hash, @newEmail, now() + @lifetime)
        """;

    /// <returns>The clear token, to put in the emailed link; only its hash is stored.</returns>
    public static async Task<string> CreateTokenAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, long userId,
        string purpose, TimeSpan lifetime, string? newEmail = null)
    {
        var token = Tokens.New();
        await conn.ExecuteAsync(InsertTokenSql, new { userId, purpose, hash = Tokens.Hash(token), newEmail, lifetime }, tx);
        return token;
    }

    // Single use by construction: the row is marked used by the same statement that checks it.
    private const string ConsumeTokenSql = """
        UPDATE account_tokens SET used_at = now()
        WHERE token_hash = @hash AND purpose = @purpose AND used_at IS NULL AND expires_at > now()
        RETURNING user_id, new_email
        """;

    public static Task<TokenUse?> ConsumeTokenAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string? token, string purpose) =>
        string.IsNullOrWhiteSpace(token) || token.Length > 100
            ? Task.FromResult<TokenUse?>(null)
            : conn.QuerySingleOrDefaultAsync<TokenUse>(ConsumeTokenSql, new { hash = Tokens.Hash(token), purpose }, tx);

    private const string TokenValidSql = """
        SELECT EXISTS (SELECT 1 FROM account_tokens
                       WHERE token_hash = @hash AND purpose = @purpose AND used_at IS NULL AND expires_at > now())
        """;

    public static Task<bool> IsTokenValidAsync(NpgsqlConnection conn, string? token, string purpose) =>
        string.IsNullOrWhiteSpace(token) || token.Length > 100
            ? Task.FromResult(false)
            : conn.ExecuteScalarAsync<bool>(TokenValidSql, new { hash = Tokens.Hash(token), purpose });

    private const string RevokeTokensSql = """
        UPDATE account_tokens SET used_at = now() WHERE user_id = @userId AND purpose = @purpose AND used_at IS NULL
        """;

    public static Task RevokeTokensAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, long userId, string purpose) =>
        conn.ExecuteAsync(RevokeTokensSql, new { userId, purpose }, tx);
}
