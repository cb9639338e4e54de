using Dapper;
using Npgsql;

namespace Opportunites.Web.Moderation;

/// <summary>Who did it (null for the command line or the system).</summary>
public sealed record Actor(long? UserId, string? Email)
{
    public static readonly Actor CommandLine = new(null, "ligne de commande");
}

public sealed class AuditEntry
{
    public long Id { get; init; }
    public DateTime At { get; init; }
    public string? ActorEmail { get; init; }
    public string Action { get; init; } = "";
    public string SubjectType { get; init; } = "";
    public long? SubjectId { get; init; }
    public string Details { get; init; } = "";
}

/// <summary>The audit trail: one row per change, written in the transaction of the change.</summary>
public static class AuditLog
{
    private const string InsertSql = """
        INSERT INTO audit_log (actor_user_id, actor_email, action, subject_type, subject_id, details)
        VALUES (@userId, @email, @action, @subjectType, @subjectId, @details)
        """;

    public static Task WriteAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, Actor actor, string action,
        string subjectType, long? subjectId, string details = "") =>
        conn.ExecuteAsync(InsertSql, new
        {
            userId = actor.UserId,
            email = actor.Email,
            action,
            subjectType,
            subjectId,
            details = details.Length > 4000 ? details[..4000] : details,
        }, tx);

    private const string RecentSql = """
        SELECT id, at, actor_email, action, subject_type, subject_id, details
        FROM audit_log
        WHERE (@subjectType::text IS NULL OR (subject_type = @subjectType AND subject_id = @subjectId))
        ORDER BY at DESC, id DESC
        LIMIT @limit
        """;

    public static async Task<IReadOnlyList<AuditEntry>> GetRecentAsync(NpgsqlDataSource db, int limit,
        string? subjectType = null, long? subjectId = null)
    {
        await using var conn = await db.OpenConnectionAsync();
        return (await conn.QueryAsync<AuditEntry>(RecentSql, new { subjectType, subjectId, limit })).AsList();
    }

    public static string Label(string action) => action switch
    {
        "user.signup" => "Inscription",
        "user.verified" => "Adresse confirmée",
        "user.password_reset" => "Mot de passe réinitialisé",
        "user.email_changed" => "Adresse modifiée",
        "user.admin_created" => "Administrateur créé",
        "opportunity.created" => "Offre créée",
        "opportunity.updated" => "Offre modifiée",
        "opportunity.submitted" => "Offre soumise à validation",
        "opportunity.published" => "Offre publiée",
        "opportunity.rejected" => "Offre refusée",
        "opportunity.unpublished" => "Offre dépubliée",
        "opportunity.closed" => "Offre close",
        "opportunity.reopened" => "Offre rouverte",
        "opportunity.duplicated" => "Offre dupliquée",
        "opportunity.imported" => "Offre importée",
        "issuer.trusted" => "Organisation de confiance",
        "issuer.untrusted" => "Organisation soumise à validation",
        _ => action,
    };
}
