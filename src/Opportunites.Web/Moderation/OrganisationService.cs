using Dapper;
using Npgsql;
using Opportunites.Web.Accounts;
using Opportunites.Web.Mail;
using Opportunites.Web.Opportunities;

namespace Opportunites.Web.Moderation;

public sealed class ClaimRow
{
    public long Id { get; init; }
    public long UserId { get; init; }
    public string UserEmail { get; init; } = "";
    public bool EmailVerified { get; init; }
    public long IssuerId { get; init; }
    public string IssuerName { get; init; } = "";
    public int IssuerUsers { get; init; }
    public int IssuerOffers { get; init; }
    public string Status { get; init; } = "";
    public DateTime CreatedAt { get; init; }
}

/// <summary>Organisations spelled the same but for accents or case: probably one organisation twice.</summary>
public sealed class DuplicateGroup
{
    public long[] Ids { get; init; } = [];
    public string[] Names { get; init; } = [];
    public int[] Offers { get; init; } = [];
}

/// <summary>
/// Organisations that already exist: an account asks to join one (claim), an admin approves or refuses; an admin merges
/// two organisations (offers, accounts and requests move; the audit trail keeps both). Names are compared without
/// accents or case: "Ville de Begles" is "Ville de Bègles".
/// </summary>
public sealed class OrganisationService(NpgsqlDataSource db, AccountSettings settings)
{
    /// <summary>SQL of the folded name, as indexed by issuers_name_folded (migration 0090).</summary>
    public const string FoldedName = "lower(immutable_unaccent(btrim(name)))";

    private const string FindByNameSql = $"""
        SELECT id, name, trusted FROM issuers
        WHERE {FoldedName} = lower(immutable_unaccent(btrim(@name)))
        ORDER BY id LIMIT 1
        """;

    /// <summary>The organisation of that name, accents and case aside.</summary>
    public static Task<Publishing.IssuerSummary?> FindByNameAsync(NpgsqlConnection conn, string name, NpgsqlTransaction? tx = null) =>
        conn.QuerySingleOrDefaultAsync<Publishing.IssuerSummary>(FindByNameSql, new { name }, tx);

    private const string InsertClaimSql = """
        INSERT INTO issuer_claims (user_id, issuer_id) VALUES (@userId, @issuerId)
        ON CONFLICT (user_id) WHERE status = 'pending' DO UPDATE SET issuer_id = excluded.issuer_id, created_at = now()
        """;

    /// <summary>Records (or replaces) the account's request to join the organisation; the daily queue email tells admins.</summary>
    public static async Task RequestJoinAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long userId, string email, long issuerId, string issuerName)
    {
        await conn.ExecuteAsync(InsertClaimSql, new { userId, issuerId }, tx);
        await AuditLog.WriteAsync(conn, tx, new Actor(userId, email), "issuer.claim_requested", "issuer", issuerId,
            $"{email} demande à rejoindre « {issuerName} »");
    }

    /// <summary>For an account without organisation (its request refused, or never made): ask to join one by name.</summary>
    /// <returns>null on success, else a French message.</returns>
    public async Task<string?> RequestJoinByNameAsync(CurrentUser user, string? name)
    {
        if (user.IssuerId is not null || user.IsAdmin)
        {
            return "Votre compte est déjà rattaché à une organisation.";
        }

        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        if (string.IsNullOrWhiteSpace(name) || await FindByNameAsync(conn, name, tx) is not { } issuer)
        {
            return "Aucune organisation de ce nom n'est inscrite : vérifiez l'orthographe, ou créez-la.";
        }

        await RequestJoinAsync(conn, tx, user.Id, user.Email, issuer.Id, issuer.Name);
        await tx.CommitAsync();
        return null;
    }

    /// <summary>For an account without organisation: creates a new one (its name must not exist yet) and joins it.</summary>
    /// <returns>null on success, else a French message.</returns>
    public async Task<string?> CreateOwnAsync(CurrentUser user, string? name, string? type)
    {
        name = name?.Trim() ?? "";
        if (user.IssuerId is not null || user.IsAdmin)
        {
            return "Votre compte est déjà rattaché à une organisation.";
        }

        if (name.Length is < 2 or > 200)
        {
            return "Le nom de l'organisation est obligatoire (2 à 200 caractères).";
        }

        if (type is null || !IssuerTypes.Labels.ContainsKey(type))
        {
            return "Choisissez le type d'organisation.";
        }

        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        if (await FindByNameAsync(conn, name, tx) is { } existing)
        {
            return $"« {existing.Name} » est déjà inscrite : demandez plutôt à la rejoindre.";
        }

        var issuerId = await OpportunityStore.GetOrCreateIssuerIdAsync(conn, name, type, tx);
        await conn.ExecuteAsync("UPDATE users SET issuer_id = @issuerId WHERE id = @id AND issuer_id IS NULL", new { issuerId, id = user.Id }, tx);
        await conn.ExecuteAsync("DELETE FROM issuer_claims WHERE user_id = @id AND status = 'pending'", new { id = user.Id }, tx);
        await AuditLog.WriteAsync(conn, tx, user.Actor, "issuer.created", "issuer", issuerId, name);
        await tx.CommitAsync();
        return null;
    }

    private const string ClaimsSql = """
        SELECT c.id, c.user_id, u.email AS user_email, u.email_verified_at IS NOT NULL AS email_verified,
               c.issuer_id, i.name AS issuer_name, c.status, c.created_at,
               (SELECT count(*) FROM users x WHERE x.issuer_id = i.id)::int AS issuer_users,
               (SELECT count(*) FROM opportunities o WHERE o.issuer_id = i.id)::int AS issuer_offers
        FROM issuer_claims c JOIN users u ON u.id = c.user_id JOIN issuers i ON i.id = c.issuer_id
        WHERE c.status = 'pending'
        ORDER BY c.created_at, c.id
        LIMIT 200
        """;

    public async Task<IReadOnlyList<ClaimRow>> GetPendingClaimsAsync()
    {
        await using var conn = await db.OpenConnectionAsync();
        return (await conn.QueryAsync<ClaimRow>(ClaimsSql)).AsList();
    }

    private const string MyClaimSql = """
        SELECT c.id, c.user_id, c.issuer_id, i.name AS issuer_name, c.status, c.created_at
        FROM issuer_claims c JOIN issuers i ON i.id = c.issuer_id
        WHERE c.user_id = @userId
        ORDER BY c.created_at DESC, c.id DESC LIMIT 1
        """;

    /// <summary>The account's latest request, for its space while it has no organisation.</summary>
    public async Task<ClaimRow?> GetLatestClaimAsync(long userId)
    {
        await using var conn = await db.OpenConnectionAsync();
        return await conn.QuerySingleOrDefaultAsync<ClaimRow>(MyClaimSql, new { userId });
    }

    private const string DecideSql = """
        UPDATE issuer_claims c SET status = @status, decided_at = now(), decided_by = @admin
        FROM users u, issuers i
        WHERE c.id = @id AND c.status = 'pending' AND u.id = c.user_id AND i.id = c.issuer_id
        RETURNING c.id, c.user_id, u.email AS user_email, c.issuer_id, i.name AS issuer_name
        """;

    /// <returns>(null, claim) on success, else (French message, null).</returns>
    public async Task<(string? Error, ClaimRow? Claim)> DecideClaimAsync(CurrentUser admin, long claimId, bool approve)
    {
        EnsureAdmin(admin);
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var claim = await conn.QuerySingleOrDefaultAsync<ClaimRow>(DecideSql,
            new { id = claimId, status = approve ? "approved" : "refused", admin = admin.Email }, tx);
        if (claim is null)
        {
            return ("Cette demande a déjà été traitée.", null);
        }

        if (approve)
        {
            // An account joins one organisation; it changes its cookie stamp, so the user signs in again.
            await conn.ExecuteAsync("UPDATE users SET issuer_id = @IssuerId WHERE id = @UserId AND role = 'issuer'", claim, tx);
        }

        await Outbox.EnqueueAsync(conn, tx, approve
            ? AccountEmails.Build("claim", claim.UserEmail, $"Vous pouvez publier pour {claim.IssuerName}",
                $"L'équipe a accepté votre demande : votre compte est rattaché à « {claim.IssuerName} ».",
                "Connectez-vous pour publier et gérer ses offres :", settings.Link("/connexion?retour=%2Fespace"), "Me connecter",
                "Bienvenue sur Opportunités.")
            : AccountEmails.Build("claim", claim.UserEmail, $"Votre demande pour {claim.IssuerName} n'a pas été acceptée",
                $"L'équipe n'a pas rattaché votre compte à « {claim.IssuerName} ».",
                "Depuis votre espace, vous pouvez créer votre propre organisation ou demander à en rejoindre une autre :",
                settings.Link("/espace"), "Ouvrir mon espace",
                "Pour toute question, répondez à l'équipe du centre de ressources."));
        await AuditLog.WriteAsync(conn, tx, admin.Actor, approve ? "issuer.claim_approved" : "issuer.claim_refused", "issuer",
            claim.IssuerId, $"{claim.UserEmail} → « {claim.IssuerName} »");
        await tx.CommitAsync();
        return (null, claim);
    }

    private const string DuplicatesSql = $"""
        SELECT array_agg(i.id ORDER BY i.id) AS ids, array_agg(i.name ORDER BY i.id) AS names,
               array_agg((SELECT count(*) FROM opportunities o WHERE o.issuer_id = i.id)::int ORDER BY i.id) AS offers
        FROM issuers i
        GROUP BY {FoldedName}
        HAVING count(*) > 1
        ORDER BY min(lower(i.name))
        LIMIT 50
        """;

    /// <summary>Organisations whose names differ only by accents, case or outer spaces.</summary>
    public async Task<IReadOnlyList<DuplicateGroup>> GetLikelyDuplicatesAsync()
    {
        await using var conn = await db.OpenConnectionAsync();
        return (await conn.QueryAsync<DuplicateGroup>(DuplicatesSql)).AsList();
    }

    private const string MergeSql = """
        UPDATE opportunities SET issuer_id = @target WHERE issuer_id = @source;
        UPDATE users SET issuer_id = @target WHERE issuer_id = @source;
        DELETE FROM issuer_claims c WHERE c.issuer_id = @source AND c.status = 'pending'
          AND EXISTS (SELECT 1 FROM users u WHERE u.id = c.user_id AND u.issuer_id = @target);
        UPDATE issuer_claims SET issuer_id = @target WHERE issuer_id = @source;
        DELETE FROM issuers WHERE id = @source;
        """;

    private const string MergeCountsSql = """
        SELECT (SELECT name FROM issuers WHERE id = @source) AS source_name,
               (SELECT name FROM issuers WHERE id = @target) AS target_name,
               (SELECT count(*) FROM opportunities WHERE issuer_id = @source)::int AS offers,
               (SELECT count(*) FROM users WHERE issuer_id = @source)::int AS users
        """;

    private sealed record MergeCounts(string? SourceName, string? TargetName, int Offers, int Users);

    /// <summary>
    /// Moves the source organisation's offers, accounts and requests to the target and deletes the source. The target
    /// keeps its name and its trust; the audit trail keeps the source's entries and records the merge on both.
    /// </summary>
    /// <returns>(null, summary) on success, else (French message, null).</returns>
    public async Task<(string? Error, string? Summary)> MergeAsync(CurrentUser admin, long source, long target)
    {
        EnsureAdmin(admin);
        if (source == target)
        {
            return ("Choisissez deux organisations différentes.", null);
        }

        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        // Both rows locked in id order: two merges of the same pair cannot deadlock or half-apply.
        await conn.ExecuteAsync("SELECT id FROM issuers WHERE id IN (@source, @target) ORDER BY id FOR UPDATE", new { source, target }, tx);
        var counts = await conn.QuerySingleAsync<MergeCounts>(MergeCountsSql, new { source, target }, tx);
        if (counts.SourceName is null || counts.TargetName is null)
        {
            return ("Une des deux organisations n'existe plus (déjà fusionnée ?).", null);
        }

        await conn.ExecuteAsync(MergeSql, new { source, target }, tx);
        var summary = $"« {counts.SourceName} » fusionnée dans « {counts.TargetName} » : {counts.Offers} offre(s), {counts.Users} compte(s) déplacés.";
        await AuditLog.WriteAsync(conn, tx, admin.Actor, "issuer.merged", "issuer", target, summary);
        await AuditLog.WriteAsync(conn, tx, admin.Actor, "issuer.merged", "issuer", source, summary);
        await tx.CommitAsync();
        return (null, summary);
    }

    /// <summary>An organisation by its exact name or, failing that, its only accent- and case-blind match.</summary>
    public async Task<Publishing.IssuerSummary?> ResolveAsync(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return null;
        }

        await using var conn = await db.OpenConnectionAsync();
        return await conn.QuerySingleOrDefaultAsync<Publishing.IssuerSummary>(
            "SELECT id, name, trusted FROM issuers WHERE lower(name) = lower(btrim(@name))", new { name })
            ?? await FindByNameAsync(conn, name);
    }

    private static void EnsureAdmin(CurrentUser user)
    {
        if (!user.IsAdmin)
        {
            throw new UnauthorizedAccessException("Réservé aux administrateurs.");
        }
    }
}
