using System.Security.Cryptography;
using System.Text;
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

    // Shared bodies (migration 0063): each template not yet stored becomes one outbox_bodies row, and each email a
    // row without bodies that points at it with its own placeholder values (text values, then HTML values); the
    // delivery job personalises at send time (PreparedBody). Row ids are the caller's (drawn from the outbox sequence).
    // Bodies travel as UTF-8 bytes, decoded by PostgreSQL (convert_from checks them): rendered as bytes, a digest body
    // is never a .NET string twice its size.
    private const string InsertBodiesSql = """
        INSERT INTO outbox_bodies (id, placeholders, text_body, html_body, fragments)
        SELECT t.id, @placeholders, convert_from(t.text_body, 'UTF8'), convert_from(t.html_body, 'UTF8'),
               (@fragmentIds::uuid[])[t.first_fragment : t.last_fragment]
        FROM unnest(@ids, @textBodies, @htmlBodies, @firstFragments, @lastFragments)
             AS t(id, text_body, html_body, first_fragment, last_fragment)
        ON CONFLICT (id) DO NOTHING
        """;

    // Fragments (0107) before the bodies listing them. One the daily purge may be deleting (older than a day, listed
    // by no body at its snapshot) is made young again: the purge then finds it changed and keeps it.
    private const string InsertFragmentsSql = """
        INSERT INTO outbox_fragments (id, text_part, html_part)
        SELECT f.id, convert_from(f.text_part, 'UTF8'), convert_from(f.html_part, 'UTF8')
        FROM unnest(@ids, @texts, @htmls) AS f(id, text_part, html_part)
        ON CONFLICT (id) DO UPDATE SET created_at = now()
        WHERE outbox_fragments.created_at < now() - interval '1 day'
        """;

    private const string EnqueueManySql = """
        INSERT INTO outbox (id, message_id, category, dedupe_key, to_address, subject, body_id, personal, headers)
        OVERRIDING SYSTEM VALUE
        SELECT b.id, b.message_id, @category, b.dedupe_key, b.to_address, t.subject, t.body_id,
               (@personal::text[])[(b.n - 1) * @perEmail + 1 : b.n * @perEmail], b.headers::jsonb
        FROM unnest(@ids, @messageIds, @dedupeKeys, @toAddresses, @templates, @headers) WITH ORDINALITY
             AS b(id, message_id, dedupe_key, to_address, template, headers, n)
        JOIN unnest(@subjects, @bodyIds) WITH ORDINALITY AS t(subject, body_id, n) ON t.n = b.template + 1
        ON CONFLICT (dedupe_key) DO NOTHING
        RETURNING id
        """;

    /// <summary>
    /// Queues many emails of one category (the digest's batches), on the caller's connection and transaction: each
    /// template's bodies are stored once (<see cref="MailTemplate.BodyId"/>; skipped when listed in
    /// <paramref name="storedBodies"/>, already committed by an earlier batch), so are their fragments (skipped when
    /// listed in <paramref name="storedFragments"/>), and each email names one of
    /// <paramref name="templates"/> (its index) and the values of the <paramref name="placeholders"/>, in their order, plain
    /// (<see cref="TemplatedEmail.Texts"/>) and already escaped for HTML (<see cref="TemplatedEmail.Htmls"/>).
    /// </summary>
    /// <returns>The ids written (each email's own, from the outbox sequence): an email whose dedupe key was already queued is not.</returns>
    public static async Task<IReadOnlySet<long>> EnqueueManyAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string category,
        IReadOnlyList<string> placeholders, IReadOnlyList<MailTemplate> templates, IReadOnlyList<TemplatedEmail> emails,
        IReadOnlySet<Guid>? storedBodies = null, IReadOnlySet<Guid>? storedFragments = null, CancellationToken ct = default)
    {
        if (emails.Count == 0)
        {
            return new HashSet<long>();
        }

        if (emails.Any(e => e.Texts.Count != placeholders.Count || e.Htmls.Count != placeholders.Count))
        {
            throw new ArgumentException("Chaque courriel donne une valeur texte et une valeur HTML par espace réservé.", nameof(emails));
        }

        var toStore = templates.Where(t => storedBodies is null || !storedBodies.Contains(t.BodyId)).ToArray();
        if (toStore.Length > 0)
        {
            var fragments = toStore.SelectMany(t => t.Fragments)
                .Where(f => storedFragments is null || !storedFragments.Contains(f.Id)).DistinctBy(f => f.Id).ToArray();
            if (fragments.Length > 0)
            {
                await conn.ExecuteAsync(new CommandDefinition(InsertFragmentsSql, new
                {
                    ids = fragments.Select(f => f.Id).ToArray(),
                    texts = fragments.Select(f => f.Text).ToArray(),
                    htmls = fragments.Select(f => f.Html).ToArray(),
                }, tx, cancellationToken: ct));
            }

            // Each body's fragment ids, one body after the other, sliced back per body (1-based bounds, empty when none).
            var firsts = new int[toStore.Length];
            var lasts = new int[toStore.Length];
            for (int i = 0, end = 0; i < toStore.Length; i++)
            {
                firsts[i] = end + 1;
                end += toStore[i].Fragments.Count;
                lasts[i] = end;
            }

            await conn.ExecuteAsync(new CommandDefinition(InsertBodiesSql, new
            {
                placeholders = placeholders.ToArray(),
                ids = toStore.Select(t => t.BodyId).ToArray(),
                textBodies = toStore.Select(t => t.TextBody).ToArray(),
                htmlBodies = toStore.Select(t => t.HtmlBody).ToArray(),
                fragmentIds = toStore.SelectMany(t => t.Fragments.Select(f => f.Id)).ToArray(),
                firstFragments = firsts,
                lastFragments = lasts,
            }, tx, cancellationToken: ct));
        }

        var written = await conn.QueryAsync<long>(new CommandDefinition(EnqueueManySql, new
        {
            category,
            ids = emails.Select(e => e.Id).ToArray(),
            messageIds = emails.Select(_ => $"<{Guid.NewGuid():N}@{MessageIdDomain}>").ToArray(),
            dedupeKeys = emails.Select(e => e.DedupeKey).ToArray(),
            toAddresses = emails.Select(e => e.ToAddress).ToArray(),
            templates = emails.Select(e => e.Template).ToArray(),
            // Each email's values one after the other (texts then HTML, as outbox.personal holds them), sliced back per row.
            personal = emails.SelectMany(e => e.Texts.Concat(e.Htmls)).ToArray(),
            perEmail = 2 * placeholders.Count,
            headers = emails.Select(e => JsonSerializer.Serialize(e.Headers ?? new Dictionary<string, string>())).ToArray(),
            subjects = templates.Select(t => t.Subject).ToArray(),
            bodyIds = templates.Select(t => t.BodyId).ToArray(),
        }, tx, cancellationToken: ct));
        return written.ToHashSet();
    }

    /// <summary>Personalises a shared body as the database view <c>outbox_messages</c> does: each placeholder, in order, replaced ordinally by its value.</summary>
    public static string Personalise(string body, IReadOnlyList<string> placeholders, IReadOnlyList<string?> values, int offset)
    {
        for (var i = 0; i < placeholders.Count; i++)
        {
            var value = offset + i < values.Count ? values[offset + i] : "";
            body = body.Replace(placeholders[i], value ?? "", StringComparison.Ordinal);
        }

        return body;
    }
}

/// <summary>
/// A subject and bodies (UTF-8) shared by many emails, with placeholders (see <see cref="Outbox.EnqueueManyAsync"/>),
/// stored once under <see cref="BodyId"/>; each <see cref="MailFragment.Marker"/> line of both bodies stands for the
/// next of <see cref="Fragments"/>.
/// </summary>
public sealed record MailTemplate(Guid BodyId, string Subject, byte[] TextBody, byte[] HtmlBody, IReadOnlyList<MailFragment> Fragments);

/// <summary>
/// Lines shared by many bodies (an offer in a digest), stored once (outbox_fragments, 0107): text and HTML, UTF-8, each
/// ending with a line end, without placeholders. Its id is its content's.
/// </summary>
public sealed record MailFragment(Guid Id, byte[] Text, byte[] Html)
{
    /// <summary>Where a body puts its next fragment: this line alone (U+001A, "substitute"). A body's own text is ours
    /// (headings, links), never a user's: what users write is in the fragments, where markers are not looked for.</summary>
    public const string Marker = "\u001A\n";

    public static MailFragment Of(string text, string html)
    {
        var textUtf8 = Encoding.UTF8.GetBytes(text);
        var htmlUtf8 = Encoding.UTF8.GetBytes(html);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(textUtf8);
        // The text's length after it: no other split of the same bytes between the two parts has the same id.
        hash.AppendData(BitConverter.GetBytes(textUtf8.Length));
        hash.AppendData(htmlUtf8);
        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        return new MailFragment(new Guid(digest[..16]), textUtf8, htmlUtf8);
    }

    /// <summary>A body with its fragments in place, as the delivery job sends it (what the view outbox_messages shows;
    /// previews). A marker counts on a line of its own; one without a fragment left is dropped.</summary>
    public static string Expand(ReadOnlySpan<byte> body, IReadOnlyList<MailFragment> fragments, bool html)
    {
        var text = Encoding.UTF8.GetString(body);
        if (fragments.Count == 0)
        {
            return text;
        }

        var sb = new StringBuilder(text.Length + fragments.Sum(f => (html ? f.Html : f.Text).Length));
        var next = 0;
        for (var start = 0; start < text.Length;)
        {
            var end = text.IndexOf('\n', start);
            end = end < 0 ? text.Length : end + 1;
            if (text.AsSpan(start, end - start).SequenceEqual(Marker))
            {
                if (next < fragments.Count)
                {
                    sb.Append(Encoding.UTF8.GetString(html ? fragments[next].Html : fragments[next].Text));
                    next++;
                }
            }
            else
            {
                sb.Append(text, start, end - start);
            }

            start = end;
        }

        return sb.ToString();
    }
}

/// <summary>One recipient of a <see cref="MailTemplate"/> (by index) and its placeholder values, plain and HTML-escaped.</summary>
public sealed record TemplatedEmail(long Id, int Template, string ToAddress, IReadOnlyList<string> Texts, IReadOnlyList<string> Htmls,
    IReadOnlyDictionary<string, string>? Headers = null, string? DedupeKey = null);
