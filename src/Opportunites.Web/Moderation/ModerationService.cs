using Dapper;
using Npgsql;
using Opportunites.Web.Accounts;
using Opportunites.Web.Mail;
using Opportunites.Web.Opportunities;

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
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
}

public sealed class IssuerRow
{
    public long Id { get; init; }
    public string Name { get; init; } = "";
    public string Type { get; init; } = "";
    public bool Trusted { get; init; }
    public int Users { get; init; }
    public int Offers { get; init; }
}

/// <summary>Admin decisions: publish or reject pending offers, unpublish any, trust an organisation.</summary>
public sealed class ModerationService(NpgsqlDataSource db, AccountSettings settings)
{
    private const string QueueSql = """
        SELECT o.id, o.kind, o.title, o.issuer_id, i.name AS issuer_name, i.trusted AS issuer_trusted, o.status,
               o.deadline_date, o.created_at, o.updated_at
        FROM opportunities o JOIN issuers i ON i.id = o.issuer_id
        WHERE o.status = @status
        ORDER BY CASE WHEN @status = 'pending' THEN o.created_at END, o.updated_at DESC, o.id
        LIMIT @limit
        """;

    public async Task<IReadOnlyList<QueueItem>> GetByStatusAsync(string status, int limit = 200)
    {
        await using var conn = await db.OpenConnectionAsync();
        return (await conn.QueryAsync<QueueItem>(QueueSql, new { status, limit })).AsList();
    }

    private const string SearchSql = """
        SELECT o.id, o.kind, o.title, o.issuer_id, i.name AS issuer_name, i.trusted AS issuer_trusted, o.status,
               o.deadline_date, o.created_at, o.updated_at
        FROM opportunities o JOIN issuers i ON i.id = o.issuer_id
        -- Accent-insensitive like the board: "begles" finds "Ville de Bègles".
        WHERE immutable_unaccent(o.title) ILIKE '%' || immutable_unaccent(@q) || '%'
           OR immutable_unaccent(i.name) ILIKE '%' || immutable_unaccent(@q) || '%'
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
        RETURNING title
        """;

    /// <returns>false when the offer is not pending (already handled, or unknown).</returns>
    public async Task<bool> PublishAsync(CurrentUser admin, long id)
    {
        EnsureAdmin(admin);
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var title = await conn.ExecuteScalarAsync<string?>(PublishSql, new { id }, tx);
        if (title is null)
        {
            return false;
        }

        await AuditLog.WriteAsync(conn, tx, admin.Actor, "opportunity.published", "opportunity", id, title);
        await tx.CommitAsync();
        return true;
    }

    // Back to draft with the reason: the issuer can fix and submit again.
    private const string RejectSql = """
        UPDATE opportunities SET status = 'draft', moderation_note = @reason, updated_at = now()
        WHERE id = @id AND status = ANY (@from)
        RETURNING title, issuer_id
        """;

    private const string IssuerEmailsSql = """
        SELECT email FROM users WHERE issuer_id = @issuerId AND email_verified_at IS NOT NULL ORDER BY id
        """;

    public const int ReasonMax = 2000;

    /// <summary>Refuses a pending offer (or unpublishes a published one) and emails the reason to its issuer's accounts.</summary>
    /// <returns>null on success, else a French message.</returns>
    public async Task<string?> RejectAsync(CurrentUser admin, long id, string? reason, bool unpublish = false)
    {
        EnsureAdmin(admin);
        reason = reason?.Trim();
        if (string.IsNullOrEmpty(reason))
        {
            return "Indiquez le motif : il sera envoyé à l'émetteur.";
        }

        if (reason.Length > ReasonMax)
        {
            return $"Le motif ne doit pas dépasser {ReasonMax} caractères.";
        }

        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        string[] from = unpublish ? [Statuses.Published, Statuses.Pending] : [Statuses.Pending];
        var offer = await conn.QuerySingleOrDefaultAsync<QueueItem>(RejectSql, new { id, reason, from }, tx);
        if (offer is null)
        {
            return "Cette offre n'est plus dans un état qui permet cette action.";
        }

        foreach (var email in await conn.QueryAsync<string>(IssuerEmailsSql, new { offer.IssuerId }, tx))
        {
            await Outbox.EnqueueAsync(conn, tx, ModerationEmails.Rejected(email, offer.Title, reason, unpublish,
                settings.Link($"/espace/offres/{id}")));
        }

        await AuditLog.WriteAsync(conn, tx, admin.Actor, unpublish ? "opportunity.unpublished" : "opportunity.rejected",
            "opportunity", id, $"{offer.Title} — motif : {reason}");
        await tx.CommitAsync();
        return null;
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
        WHERE @q = '' OR immutable_unaccent(i.name) ILIKE '%' || immutable_unaccent(@q) || '%'
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
    public static OutgoingEmail Rejected(string to, string title, string reason, bool unpublished, string link) =>
        AccountEmails.Build("moderation", to,
            unpublished ? $"Votre offre a été retirée : {title}" : $"Votre offre n'a pas été publiée : {title}",
            (unpublished ? "L'équipe de modération a retiré du site votre offre « " : "L'équipe de modération n'a pas publié votre offre « ")
                + title + " ». Motif : " + reason,
            "Vous pouvez la modifier puis la soumettre à nouveau depuis votre espace :",
            link, "Ouvrir mon offre",
            "Pour toute question, répondez à l'équipe du centre de ressources.");
}
