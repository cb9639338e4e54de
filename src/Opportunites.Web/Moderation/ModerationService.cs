using Dapper;
using Npgsql;
using Opportunites.Web.Accounts;
using Opportunites.Web.Digests;
using Opportunites.Web.Mail;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Publishing;

namespace Opportunites.Web.Moderation;

public sealed class QueueItem
{
    public long Id { get; init; }
    public string Kind { get; init; } = "";
    public string Title { get; init; } = "";
    public long IssuerId { get; init; }
    public string IssuerName { get; init; } = "";
    public bool IssuerTrusted { get; init; }
    public string Status { get; init; } = "";
    public DateOnly? DeadlineDate { get; init; }
    public TimeOnly? DeadlineTime { get; init; }
    public string[] TerritoryCodes { get; init; } = [];
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
    public DateTime? PublishedAt { get; init; }

    /// <summary>When it entered the queue: submitted, or its edit proposed.</summary>
    public DateTime WaitingSince { get; init; }

    /// <summary>The edit waiting for moderation (a published offer of a non-trusted organisation), as JSON.</summary>
    public string? RevisionJson { get; init; }

    /// <summary>The full published version, to show what an edit changes (queue rows only).</summary>
    public OfferDetail? Current { get; set; }

    public QueueReason Reason => RevisionJson is not null ? QueueReason.Edited
        : PublishedAt is not null ? QueueReason.Reopened
        : QueueReason.New;

    public DecisionTarget Target => new(Id, Status, Title, RevisionJson is not null);
}

/// <summary>Why an offer is in the moderation queue.</summary>
public enum QueueReason
{
    /// <summary>Never published: a new offer.</summary>
    New,

    /// <summary>Published before, closed or taken off, and submitted again (reopened with a new deadline, or fixed).</summary>
    Reopened,

    /// <summary>Published and still public; an edit waits.</summary>
    Edited,
}

/// <summary>What the decision buttons need to know about an offer.</summary>
public sealed record DecisionTarget(long Id, string Status, string Title, bool HasRevision);

public sealed class IssuerRow
{
    public long Id { get; init; }
    public string Name { get; init; } = "";
    public string Type { get; init; } = "";
    public bool Trusted { get; init; }
    public int Users { get; init; }
    public int Offers { get; init; }
}

/// <summary>Admin decisions: publish or reject pending offers and edits, unpublish any, trust an organisation.</summary>
public sealed class ModerationService(NpgsqlDataSource db, AccountSettings settings)
{
    private const string QueueColumns = """
        o.id, o.kind, o.title, o.issuer_id, i.name AS issuer_name, i.trusted AS issuer_trusted, o.status,
        o.deadline_date, o.deadline_time, o.territory_codes, o.created_at, o.updated_at, o.published_at
        """;

    // New and resubmitted offers (partial index opportunities_pending), then edits of published ones (a small table).
    private const string QueueSql = $"""
        SELECT {QueueColumns}, o.updated_at AS waiting_since, NULL AS revision_json
        FROM opportunities o JOIN issuers i ON i.id = o.issuer_id
        WHERE o.status = 'pending'
        UNION ALL
        SELECT {QueueColumns}, r.submitted_at, r.data::text
        FROM opportunity_revisions r JOIN opportunities o ON o.id = r.opportunity_id JOIN issuers i ON i.id = o.issuer_id
        WHERE o.status = 'published'
        ORDER BY waiting_since, id
        LIMIT @limit
        """;

    /// <summary>What waits for a decision, oldest first: new, reopened and edited offers.</summary>
    public async Task<IReadOnlyList<QueueItem>> GetQueueAsync(int limit = 200)
    {
        await using var conn = await db.OpenConnectionAsync();
        var queue = (await conn.QueryAsync<QueueItem>(QueueSql, new { limit })).AsList();
        var edited = queue.Where(q => q.RevisionJson is not null).ToList();
        if (edited.Count > 0)
        {
            // The published versions of the edited offers, in one query, to show what each edit changes.
            var current = (await OfferStore.GetManyAsync(conn, edited.Select(q => q.Id).ToArray())).ToDictionary(o => o.Id);
            edited.ForEach(q => q.Current = current.GetValueOrDefault(q.Id));
        }

        return queue;
    }

    private const string SearchSql = """
        SELECT o.id, o.kind, o.title, o.issuer_id, i.name AS issuer_name, i.trusted AS issuer_trusted, o.status,
               o.deadline_date, o.created_at, o.updated_at
        FROM opportunities o JOIN issuers i ON i.id = o.issuer_id
        WHERE o.title ILIKE '%' || @q || '%' OR i.name ILIKE '%' || @q || '%'
        ORDER BY o.updated_at DESC, o.id DESC
        LIMIT 100
        """;

    public async Task<IReadOnlyList<QueueItem>> SearchAsync(string q)
    {
        await using var conn = await db.OpenConnectionAsync();
        var escaped = q.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");
        return (await conn.QueryAsync<QueueItem>(SearchSql, new { q = escaped })).AsList();
    }

    private const string PublishSql = """
        UPDATE opportunities SET status = 'published', published_at = now(), updated_at = now(), moderation_note = NULL
        WHERE id = @id AND status = 'pending'
        RETURNING title, issuer_id
        """;

    private const string IssuerEmailsSql = """
        SELECT email FROM users WHERE issuer_id = @issuerId AND email_verified_at IS NOT NULL ORDER BY id
        """;

    /// <returns>The offer's title, or null when the offer is not pending (already handled, or unknown).</returns>
    public async Task<string?> PublishAsync(CurrentUser admin, long id)
    {
        EnsureAdmin(admin);
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var offer = await conn.QuerySingleOrDefaultAsync<QueueItem>(PublishSql, new { id }, tx);
        if (offer is null)
        {
            return null;
        }

        await EmailIssuerAsync(conn, tx, offer.IssuerId, to => ModerationEmails.Published(to, offer.Title,
            settings.Link(OfferLinks.DetailPath(id, offer.Title)), edited: false));
        await AuditLog.WriteAsync(conn, tx, admin.Actor, "opportunity.published", "opportunity", id, offer.Title);
        await tx.CommitAsync();
        return offer.Title;
    }

    private const string TakeRevisionSql = """
        DELETE FROM opportunity_revisions r USING opportunities o
        WHERE r.opportunity_id = @id AND o.id = r.opportunity_id
        RETURNING r.data::text AS revision_json, o.title, o.issuer_id, o.status
        """;

    /// <summary>Applies a waiting edit of a published offer; it stays published.</summary>
    /// <returns>The offer's (new) title, or null when no edit waits.</returns>
    public async Task<string?> ApproveRevisionAsync(CurrentUser admin, long id)
    {
        EnsureAdmin(admin);
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var taken = await conn.QuerySingleOrDefaultAsync<QueueItem>(TakeRevisionSql, new { id }, tx);
        if (taken?.RevisionJson is null)
        {
            return null;
        }

        var data = OfferRevisions.Read(taken.RevisionJson);
        await OfferStore.ApplyAsync(conn, tx, id, data, taken.Status);
        await EmailIssuerAsync(conn, tx, taken.IssuerId, to => ModerationEmails.Published(to, data.Title,
            settings.Link(OfferLinks.DetailPath(id, data.Title)), edited: true));
        await AuditLog.WriteAsync(conn, tx, admin.Actor, "opportunity.revision_approved", "opportunity", id, data.Title);
        await tx.CommitAsync();
        return data.Title;
    }

    public const int ReasonMax = 2000;

    private static string? CheckReason(ref string? reason)
    {
        reason = reason?.Trim();
        if (string.IsNullOrEmpty(reason))
        {
            return "Indiquez le motif : il sera envoyé à l'émetteur.";
        }

        return reason.Length > ReasonMax ? $"Le motif ne doit pas dépasser {ReasonMax} caractères." : null;
    }

    /// <summary>Refuses a waiting edit: the published version stays as it is; the reason is emailed.</summary>
    /// <returns>(null, title) on success, else (French message, null).</returns>
    public async Task<(string? Error, string? Title)> RejectRevisionAsync(CurrentUser admin, long id, string? reason)
    {
        EnsureAdmin(admin);
        if (CheckReason(ref reason) is { } invalid)
        {
            return (invalid, null);
        }

        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var taken = await conn.QuerySingleOrDefaultAsync<QueueItem>(TakeRevisionSql, new { id }, tx);
        if (taken is null)
        {
            return ("Aucune modification n'attend plus de décision pour cette offre.", null);
        }

        await EmailIssuerAsync(conn, tx, taken.IssuerId, to => ModerationEmails.RevisionRejected(to, taken.Title, reason!,
            settings.Link($"/espace/offres/{id}")));
        await AuditLog.WriteAsync(conn, tx, admin.Actor, "opportunity.revision_rejected", "opportunity", id,
            $"{taken.Title} — motif : {reason}");
        await tx.CommitAsync();
        return (null, taken.Title);
    }

    // Back to draft with the reason: the issuer can fix and submit again. A waiting edit goes with it (cascade not
    // needed: the issuer now edits the draft itself).
    private const string RejectSql = """
        WITH o AS (
          UPDATE opportunities SET status = 'draft', moderation_note = @reason, updated_at = now()
          WHERE id = @id AND status = ANY (@from)
          RETURNING id, title, issuer_id),
        r AS (DELETE FROM opportunity_revisions WHERE opportunity_id IN (SELECT id FROM o))
        SELECT title, issuer_id FROM o
        """;

    /// <summary>Refuses a pending offer (or unpublishes a published one) and emails the reason to its issuer's accounts.</summary>
    /// <returns>(null, title) on success, else (French message, null).</returns>
    public async Task<(string? Error, string? Title)> RejectAsync(CurrentUser admin, long id, string? reason, bool unpublish = false)
    {
        EnsureAdmin(admin);
        if (CheckReason(ref reason) is { } invalid)
        {
            return (invalid, null);
        }

        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        string[] from = unpublish ? [Statuses.Published, Statuses.Pending] : [Statuses.Pending];
        var offer = await conn.QuerySingleOrDefaultAsync<QueueItem>(RejectSql, new { id, reason, from }, tx);
        if (offer is null)
        {
            return ("Cette offre n'est plus dans un état qui permet cette action.", null);
        }

        await EmailIssuerAsync(conn, tx, offer.IssuerId, to => ModerationEmails.Rejected(to, offer.Title, reason!, unpublish,
            settings.Link($"/espace/offres/{id}")));
        await AuditLog.WriteAsync(conn, tx, admin.Actor, unpublish ? "opportunity.unpublished" : "opportunity.rejected",
            "opportunity", id, $"{offer.Title} — motif : {reason}");
        await tx.CommitAsync();
        return (null, offer.Title);
    }

    private static async Task EmailIssuerAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long issuerId, Func<string, OutgoingEmail> email)
    {
        foreach (var to in await conn.QueryAsync<string>(IssuerEmailsSql, new { issuerId }, tx))
        {
            await Outbox.EnqueueAsync(conn, tx, email(to));
        }
    }

    private const string TrustSql = "UPDATE issuers SET trusted = @trusted WHERE id = @id RETURNING name";

    public async Task<bool> SetTrustedAsync(CurrentUser admin, long issuerId, bool trusted)
    {
        EnsureAdmin(admin);
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var name = await conn.ExecuteScalarAsync<string?>(TrustSql, new { id = issuerId, trusted }, tx);
        if (name is null)
        {
            return false;
        }

        await AuditLog.WriteAsync(conn, tx, admin.Actor, trusted ? "issuer.trusted" : "issuer.untrusted", "issuer", issuerId, name);
        await tx.CommitAsync();
        return true;
    }

    private const string IssuersSql = """
        SELECT i.id, i.name, i.type, i.trusted,
               (SELECT count(*) FROM users u WHERE u.issuer_id = i.id)::int AS users,
               (SELECT count(*) FROM opportunities o WHERE o.issuer_id = i.id)::int AS offers
        FROM issuers i
        WHERE @q = '' OR i.name ILIKE '%' || @q || '%'
        ORDER BY i.trusted, lower(i.name)
        LIMIT 200
        """;

    public async Task<IReadOnlyList<IssuerRow>> ListIssuersAsync(string? q)
    {
        await using var conn = await db.OpenConnectionAsync();
        var escaped = (q ?? "").Trim().Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");
        return (await conn.QueryAsync<IssuerRow>(IssuersSql, new { q = escaped })).AsList();
    }

    private static void EnsureAdmin(CurrentUser user)
    {
        // The pages are behind the Admin policy; this keeps the rule true for any other caller too.
        if (!user.IsAdmin)
        {
            throw new UnauthorizedAccessException("Réservé aux administrateurs.");
        }
    }
}

public static class ModerationEmails
{
    public static OutgoingEmail Published(string to, string title, string link, bool edited) =>
        AccountEmails.Build("moderation", to,
            edited ? $"Vos modifications sont en ligne : {title}" : $"Votre offre est publiée : {title}",
            edited ? $"L'équipe de modération a validé vos modifications de l'offre « {title} »." : $"L'équipe de modération a publié votre offre « {title} ».",
            "Elle est visible sur le site et dans les alertes de ses territoires :",
            link, "Voir l'offre en ligne",
            "Vous pouvez la modifier ou la clore à tout moment depuis votre espace émetteur.");

    public static OutgoingEmail RevisionRejected(string to, string title, string reason, string link) =>
        AccountEmails.Build("moderation", to,
            $"Vos modifications n'ont pas été acceptées : {title}",
            $"L'équipe de modération n'a pas accepté vos modifications de l'offre « {title} ». Motif : {reason}. La version déjà publiée reste en ligne.",
            "Vous pouvez la modifier de nouveau depuis votre espace :",
            link, "Ouvrir mon offre",
            "Pour toute question, répondez à l'équipe du centre de ressources.");

    public static OutgoingEmail Rejected(string to, string title, string reason, bool unpublished, string link) =>
        AccountEmails.Build("moderation", to,
            unpublished ? $"Votre offre a été retirée : {title}" : $"Votre offre n'a pas été publiée : {title}",
            (unpublished ? "L'équipe de modération a retiré du site votre offre « " : "L'équipe de modération n'a pas publié votre offre « ")
                + title + " ». Motif : " + reason,
            "Vous pouvez la modifier puis la soumettre à nouveau depuis votre espace :",
            link, "Ouvrir mon offre",
            "Pour toute question, répondez à l'équipe du centre de ressources.");
}
