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

    // Each email's bodies are its template's with the two placeholders replaced by its own values (replace() is an
    // exact, ordinal substring replacement, like string.Replace): the app sends each shared body once per batch
    // instead of one personalised copy per recipient. Row ids are the caller's (drawn from the outbox sequence).
    private const string EnqueueManySql = """
        INSERT INTO outbox (id, message_id, category, dedupe_key, to_address, subject, text_body, html_body, headers)
        OVERRIDING SYSTEM VALUE
        SELECT b.id, b.message_id, @category, b.dedupe_key, b.to_address, t.subject,
               replace(replace(t.text_body, @placeholder1, b.text1), @placeholder2, b.text2),
               replace(replace(t.html_body, @placeholder1, b.html1), @placeholder2, b.html2),
               b.headers::jsonb
        FROM unnest(@ids, @messageIds, @dedupeKeys, @toAddresses, @templates, @texts1, @texts2, @htmls1, @htmls2, @headers)
             AS b(id, message_id, dedupe_key, to_address, template, text1, text2, html1, html2, headers)
        JOIN unnest(@subjects, @textBodies, @htmlBodies) WITH ORDINALITY AS t(subject, text_body, html_body, n) ON t.n = b.template + 1
        ON CONFLICT (dedupe_key) DO NOTHING
        RETURNING id
        """;

    /// <summary>
    /// Queues many emails of one category in one statement (the digest's batches), on the caller's connection and
    /// transaction. Each email has its row id (from the outbox sequence), names one of <paramref name="templates"/>
    /// (its index) and gives the values of the two placeholders, already escaped for HTML in
    /// <see cref="TemplatedEmail.Html1"/> and <see cref="TemplatedEmail.Html2"/>.
    /// </summary>
    /// <returns>The ids written: an email whose dedupe key was already queued is not.</returns>
    public static async Task<IReadOnlySet<long>> EnqueueManyAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string category,
        (string First, string Second) placeholders, IReadOnlyList<MailTemplate> templates, IReadOnlyList<TemplatedEmail> emails,
        CancellationToken ct = default)
    {
        if (emails.Count == 0)
        {
            return new HashSet<long>();
        }

        var ids = await conn.QueryAsync<long>(new CommandDefinition(EnqueueManySql, new
        {
            category,
            placeholder1 = placeholders.First,
            placeholder2 = placeholders.Second,
            ids = emails.Select(e => e.Id).ToArray(),
            messageIds = emails.Select(_ => $"<{Guid.NewGuid():N}@{MessageIdDomain}>").ToArray(),
            dedupeKeys = emails.Select(e => e.DedupeKey).ToArray(),
            toAddresses = emails.Select(e => e.ToAddress).ToArray(),
            templates = emails.Select(e => e.Template).ToArray(),
            texts1 = emails.Select(e => e.Text1).ToArray(),
            texts2 = emails.Select(e => e.Text2).ToArray(),
            htmls1 = emails.Select(e => e.Html1).ToArray(),
            htmls2 = emails.Select(e => e.Html2).ToArray(),
            headers = emails.Select(e => JsonSerializer.Serialize(e.Headers ?? new Dictionary<string, string>())).ToArray(),
            subjects = templates.Select(t => t.Subject).ToArray(),
            textBodies = templates.Select(t => t.TextBody).ToArray(),
            htmlBodies = templates.Select(t => t.HtmlBody).ToArray(),
        }, tx, cancellationToken: ct));
        return ids.ToHashSet();
    }
}

/// <summary>A subject and bodies shared by many emails of a batch, with placeholders (see <see cref="Outbox.EnqueueManyAsync"/>).</summary>
public sealed record MailTemplate(string Subject, string TextBody, string HtmlBody);

/// <summary>One recipient of a <see cref="MailTemplate"/> (by index), its outbox row id, and its placeholder values, plain
/// and HTML-escaped.</summary>
public sealed record TemplatedEmail(long Id, int Template, string ToAddress, string Text1, string Text2, string Html1, string Html2,
    IReadOnlyDictionary<string, string>? Headers = null, string? DedupeKey = null);
