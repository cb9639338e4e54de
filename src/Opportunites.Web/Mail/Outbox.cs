using System.Text.Json;
using Dapper;
using Npgsql;

namespace Opportunites.Web.Mail;

/// <summary>An email ready to queue: rendered text and HTML bodies from one model, plus extra headers.</summary>
public sealed record OutgoingEmail(
    string Category,
    string ToAddress,
    string Subject,
    string TextBody,
    string HtmlBody,
    string? ToName = null,
    IReadOnlyDictionary<string, string>? Headers = null,
    string? DedupeKey = null);

/// <summary>
/// The only way an email leaves the app: a row in <c>outbox</c>, written on the caller's connection and transaction
/// so that the email exists if and only if the change that causes it is committed.
/// </summary>
public static class Outbox
{
    /// <summary>Domain of generated Message-IDs (<c>&lt;guid@domain&gt;</c>).</summary>
    public const string MessageIdDomain = "opportunites.local";

    private const string EnqueueSql = """
        INSERT INTO outbox (message_id, category, dedupe_key, to_address, to_name, subject, text_body, html_body, headers)
        VALUES (@messageId, @Category, @DedupeKey, @ToAddress, @ToName, @Subject, @TextBody, @HtmlBody, @headers::jsonb)
        ON CONFLICT (dedupe_key) DO NOTHING
        RETURNING id
        """;

    /// <returns>The outbox row id, or null when an email with the same dedupe key was already queued.</returns>
    public static Task<long?> EnqueueAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, OutgoingEmail email) =>
        conn.ExecuteScalarAsync<long?>(EnqueueSql, new
        {
            messageId = $"<{Guid.NewGuid():N}@{MessageIdDomain}>",
            email.Category,
            email.DedupeKey,
            email.ToAddress,
            email.ToName,
            email.Subject,
            email.TextBody,
            email.HtmlBody,
            headers = JsonSerializer.Serialize(email.Headers ?? new Dictionary<string, string>()),
        }, tx);
}
