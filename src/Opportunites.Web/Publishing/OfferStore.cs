using System.Text.Json;
using Dapper;
using Npgsql;
using Opportunites.Web.Accounts;
using Opportunites.Web.Moderation;
using Opportunites.Web.Opportunities;

namespace Opportunites.Web.Publishing;

public sealed class OfferDetail
{
    public long Id { get; init; }
    public string Kind { get; init; } = "";
    public string Title { get; init; } = "";
    public long IssuerId { get; init; }
    public string IssuerName { get; init; } = "";
    public bool IssuerTrusted { get; init; }
    public string Description { get; init; } = "";
    public string? Url { get; init; }
    public string? Contact { get; init; }
    public DateOnly? DeadlineDate { get; init; }
    public TimeOnly? DeadlineTime { get; init; }
    public DateTime? ClosesAt { get; init; }
    public string Status { get; init; } = "";
    public string? ContractType { get; init; }
    public string? Beneficiaries { get; init; }
    public decimal? AmountEur { get; init; }
    public string[] TerritoryCodes { get; init; } = [];
    public string? WorkTerritoryCode { get; init; }
    public string[] ThemeCodes { get; init; } = [];
    public string? ModerationNote { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
    public DateTime? PublishedAt { get; init; }

    /// <summary>The edit waiting for moderation while this (published) version stays public, as JSON.</summary>
    public string? RevisionJson { get; init; }

    public OfferData? Revision => RevisionJson is null ? null : OfferRevisions.Read(RevisionJson);

    public string EffectiveStatus(DateTimeOffset now) => OfferRules.EffectiveStatus(Status, ClosesAt, now);

    /// <summary>This version as the form's checked data (to compare with a revision, or to submit a draft).</summary>
    public OfferData ToData() => new(Kind, Title, Description, Url, Contact, DeadlineDate, TerritoryCodes, ContractType,
        Beneficiaries, AmountEur, DeadlineTime, ThemeCodes, WorkTerritoryCode);
}

/// <summary>What saving the form did, for the message the issuer reads.</summary>
public enum SaveOutcome
{
    NotFound,
    Draft,
    Pending,
    Published,

    /// <summary>A published offer of a non-trusted organisation: the change waits, the published version stays.</summary>
    RevisionPending,
}

public sealed class LikelyDuplicate
{
    public long Id { get; init; }
    public string Title { get; init; } = "";
    public string Status { get; init; } = "";
    public DateOnly? DeadlineDate { get; init; }
}

/// <summary>The issuer space's reads and writes. Every read by id carries the caller's scope in its WHERE clause.</summary>
public sealed class OfferStore(NpgsqlDataSource db, TimeProvider clock)
{
    private const string SelectDetail = """
        SELECT o.id, o.kind, o.title, o.issuer_id, i.name AS issuer_name, i.trusted AS issuer_trusted, o.description,
               o.url, o.contact, o.deadline_date, o.closes_at, o.status, o.contract_type, o.beneficiaries, o.amount_eur,
               o.territory_codes, o.work_territory_code, o.moderation_note, o.created_at, o.updated_at, o.published_at, o.deadline_time,
               ARRAY(SELECT th.theme_code FROM opportunity_themes th WHERE th.opportunity_id = o.id ORDER BY th.theme_code) AS theme_codes,
               (SELECT r.data::text FROM opportunity_revisions r WHERE r.opportunity_id = o.id) AS revision_json
        FROM opportunities o JOIN issuers i ON i.id = o.issuer_id
        """;

    // Another organisation's offer is "not found", never "forbidden": ids cannot be probed.
    private const string GetSql = SelectDetail + " WHERE o.id = @id AND (@isAdmin OR o.issuer_id = @issuerId)";

    public async Task<OfferDetail?> GetAsync(CurrentUser user, long id)
    {
        if (!user.IsAdmin && user.IssuerId is null)
        {
            return null;
        }

        await using var conn = await db.OpenConnectionAsync();
        return await GetAsync(conn, null, user, id);
    }

    private static Task<OfferDetail?> GetAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, CurrentUser user, long id) =>
        conn.QuerySingleOrDefaultAsync<OfferDetail>(GetSql, new { id, isAdmin = user.IsAdmin, issuerId = user.IssuerId ?? -1 }, tx);

    private const string ManySql = SelectDetail + " WHERE o.id = ANY (@ids)";

    /// <summary>Offers by id, whoever they belong to: for admin pages only.</summary>
    public static async Task<IReadOnlyList<OfferDetail>> GetManyAsync(NpgsqlConnection conn, long[] ids) =>
        (await conn.QueryAsync<OfferDetail>(ManySql, new { ids })).AsList();

    private const string ListSql = SelectDetail + " WHERE o.issuer_id = @issuerId ORDER BY o.updated_at DESC, o.id DESC LIMIT 1000";

    public async Task<IReadOnlyList<OfferDetail>> ListByIssuerAsync(long issuerId)
    {
        await using var conn = await db.OpenConnectionAsync();
        return (await conn.QueryAsync<OfferDetail>(ListSql, new { issuerId })).AsList();
    }

    private const string IssuerSql = "SELECT id, name, trusted, home_territory_code FROM issuers WHERE id = @id";

    public async Task<IssuerSummary?> GetIssuerAsync(long id)
    {
        await using var conn = await db.OpenConnectionAsync();
        return await conn.QuerySingleOrDefaultAsync<IssuerSummary>(IssuerSql, new { id });
    }

    private const string DuplicatesSql = """
        SELECT id, title, status, deadline_date
        FROM opportunities
        WHERE issuer_id = @issuerId AND id <> @exceptId
          AND deadline_date IS NOT DISTINCT FROM @deadline
          AND similarity(lower(title), lower(@title)) >= @threshold
        ORDER BY similarity(lower(title), lower(@title)) DESC, id
        LIMIT 5
        """;

    /// <summary>Title similarity (pg_trgm) at or above which two offers of one issuer with one deadline look the same.</summary>
    public const double DuplicateThreshold = 0.5;

    /// <summary>Offers of the same issuer, same deadline and a similar title (pg_trgm).</summary>
    public async Task<IReadOnlyList<LikelyDuplicate>> FindLikelyDuplicatesAsync(long issuerId, string title, DateOnly? deadline, long? exceptId)
    {
        await using var conn = await db.OpenConnectionAsync();
        return (await conn.QueryAsync<LikelyDuplicate>(DuplicatesSql,
            new { issuerId, title, deadline, exceptId = exceptId ?? 0, threshold = DuplicateThreshold })).AsList();
    }

    private const string InsertTerritoriesSql = """
        INSERT INTO opportunity_territories (opportunity_id, territory_code) SELECT @id, unnest(@codes::text[])
        """;

    /// <summary>Creates an offer of the user's organisation: a draft, or submitted (pending or published by the rules).</summary>
    public async Task<long> CreateAsync(CurrentUser user, OfferData data, bool submit)
    {
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var trusted = await conn.ExecuteScalarAsync<bool>("SELECT trusted FROM issuers WHERE id = @id", new { id = user.IssuerId }, tx);
        var status = submit ? OfferRules.StatusOnSubmit(user, trusted) : Statuses.Draft;
        var id = await OpportunityStore.CreateAsync(conn, new NewOpportunity(data.Kind, data.Title, user.IssuerId!.Value,
            data.TerritoryCodes, data.DeadlineDate, data.DeadlineTime, status, data.Description, data.Url, data.Contact,
            ThemeCodes: data.Themes, ContractType: data.ContractType, Beneficiaries: data.Beneficiaries, AmountEur: data.AmountEur,
            WorkTerritoryCode: data.WorkTerritoryCode, PublishedAt: status == Statuses.Published ? clock.GetUtcNow() : null), tx);
        await AuditLog.WriteAsync(conn, tx, user.Actor, "opportunity.created", "opportunity", id, $"{data.Title} ({Statuses.Label(status)})");
        await tx.CommitAsync();
        return id;
    }

    public static SaveOutcome OutcomeOf(string status) => status switch
    {
        Statuses.Published => SaveOutcome.Published,
        Statuses.Pending => SaveOutcome.Pending,
        _ => SaveOutcome.Draft,
    };

    private const string UpdateSql = """
        UPDATE opportunities SET
          kind = @Kind, title = @Title, description = @Description, url = @Url, contact = @Contact,
          deadline_date = @DeadlineDate, deadline_time = @DeadlineTime, contract_type = @ContractType,
          beneficiaries = @Beneficiaries, amount_eur = @AmountEur, work_territory_code = @WorkTerritoryCode,
          status = @status, updated_at = now(),
          published_at = CASE WHEN @status = 'published' THEN coalesce(published_at, now()) ELSE published_at END,
          closed_at = NULL
        WHERE id = @id
        """;

    private const string ReplaceThemesSql = """
        DELETE FROM opportunity_themes WHERE opportunity_id = @id AND theme_code <> ALL (@codes);
        INSERT INTO opportunity_themes (opportunity_id, theme_code) SELECT @id, unnest(@codes::text[]) ON CONFLICT DO NOTHING;
        """;

    private const string UpsertRevisionSql = """
        INSERT INTO opportunity_revisions (opportunity_id, data, submitted_by) VALUES (@id, @data::jsonb, @userId)
        ON CONFLICT (opportunity_id) DO UPDATE SET data = excluded.data, submitted_by = excluded.submitted_by, submitted_at = now()
        """;

    /// <summary>
    /// Saves the form. A published offer is never taken off the board by an edit: trusted organisations and admins
    /// change it at once; for the others the change waits as a revision while the published version stays public.
    /// </summary>
    public async Task<SaveOutcome> UpdateAsync(CurrentUser user, long id, OfferData data, bool submit)
    {
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var offer = await GetForUpdateAsync(conn, tx, user, id);
        if (offer is null)
        {
            return SaveOutcome.NotFound;
        }

        var live = offer.EffectiveStatus(clock.GetUtcNow()) == Statuses.Published;
        if (live && OfferRules.EditWaitsForModeration(user, offer.IssuerTrusted))
        {
            await conn.ExecuteAsync(UpsertRevisionSql, new { id, data = OfferRevisions.Write(data), userId = user.Id }, tx);
            await AuditLog.WriteAsync(conn, tx, user.Actor, "opportunity.revision_submitted", "opportunity", id,
                OfferRevisions.Describe(offer.ToData(), data));
            await tx.CommitAsync();
            return SaveOutcome.RevisionPending;
        }

        // A live offer stays live: "Enregistrer le brouillon" would take it off the board.
        var status = live ? Statuses.Published : submit ? OfferRules.StatusOnSubmit(user, offer.IssuerTrusted) : Statuses.Draft;
        await ApplyAsync(conn, tx, id, data, status);
        await AuditLog.WriteAsync(conn, tx, user.Actor, "opportunity.updated", "opportunity", id,
            $"{data.Title} ({Statuses.Label(offer.Status)} → {Statuses.Label(status)})");
        await tx.CommitAsync();
        return OutcomeOf(status);
    }

    /// <summary>Writes the form's data over the offer, with its territories and themes; drops any waiting revision.</summary>
    internal static async Task ApplyAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long id, OfferData data, string status)
    {
        await conn.ExecuteAsync(UpdateSql, new
        {
            id,
            data.Kind,
            data.Title,
            data.Description,
            data.Url,
            data.Contact,
            data.DeadlineDate,
            data.DeadlineTime,
            data.ContractType,
            data.Beneficiaries,
            data.AmountEur,
            data.WorkTerritoryCode,
            status,
        }, tx);
        var codes = data.TerritoryCodes.ToArray();
        await conn.ExecuteAsync("DELETE FROM opportunity_territories WHERE opportunity_id = @id AND territory_code <> ALL (@codes)", new { id, codes }, tx);
        await conn.ExecuteAsync(InsertTerritoriesSql + " ON CONFLICT DO NOTHING", new { id, codes }, tx);
        await conn.ExecuteAsync(ReplaceThemesSql, new { id, codes = data.Themes.ToArray() }, tx);
        await conn.ExecuteAsync("DELETE FROM opportunity_revisions WHERE opportunity_id = @id", new { id }, tx);
    }

    private const string LockSql = GetSql + " FOR UPDATE OF o";

    private static Task<OfferDetail?> GetForUpdateAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CurrentUser user, long id) =>
        conn.QuerySingleOrDefaultAsync<OfferDetail>(LockSql, new { id, isAdmin = user.IsAdmin, issuerId = user.IssuerId ?? -1 }, tx);

    private const string DuplicateSql = """
        WITH o AS (
          INSERT INTO opportunities (kind, title, issuer_id, description, url, contact, deadline_date, deadline_time,
                                     status, contract_type, beneficiaries, amount_eur, work_territory_code)
          -- "Copie de …" until the issuer edits it: two offers with one title look like a mistake on the board.
          SELECT kind, left('Copie de ' || title, 300), issuer_id, description, url, contact,
                 CASE WHEN deadline_date >= @today THEN deadline_date END,
                 CASE WHEN deadline_date >= @today THEN deadline_time END,
                 'draft', contract_type, beneficiaries, amount_eur, work_territory_code
          FROM opportunities WHERE id = @id
          RETURNING id),
        t AS (
          INSERT INTO opportunity_territories (opportunity_id, territory_code)
          SELECT o.id, ot.territory_code FROM o, opportunity_territories ot WHERE ot.opportunity_id = @id),
        th AS (
          INSERT INTO opportunity_themes (opportunity_id, theme_code)
          SELECT o.id, ot.theme_code FROM o, opportunity_themes ot WHERE ot.opportunity_id = @id)
        SELECT id FROM o
        """;

    /// <returns>The new draft's id, or null when the offer is not the user's.</returns>
    public async Task<long?> DuplicateAsync(CurrentUser user, long id)
    {
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        if (await GetAsync(conn, tx, user, id) is null)
        {
            return null;
        }

        var copy = await conn.ExecuteScalarAsync<long>(DuplicateSql, new { id, today = Shared.ParisTime.Today(clock) }, tx);
        await AuditLog.WriteAsync(conn, tx, user.Actor, "opportunity.duplicated", "opportunity", copy, $"Copie de l'offre n°{id}");
        await tx.CommitAsync();
        return copy;
    }

    private const string DeleteDraftSql = """
        DELETE FROM opportunities WHERE id = @id AND status = 'draft' RETURNING title
        """;

    /// <returns>false when not the user's offer or not a draft (only drafts, never seen by anyone, are deleted).</returns>
    public async Task<bool> DeleteDraftAsync(CurrentUser user, long id)
    {
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        if (await GetForUpdateAsync(conn, tx, user, id) is null
            || await conn.ExecuteScalarAsync<string?>(DeleteDraftSql, new { id }, tx) is not { } title)
        {
            return false;
        }

        await AuditLog.WriteAsync(conn, tx, user.Actor, "opportunity.deleted", "opportunity", id, title);
        await tx.CommitAsync();
        return true;
    }

    private const string SubmitDraftSql = """
        UPDATE opportunities SET status = @status, updated_at = now(), closed_at = NULL,
          published_at = CASE WHEN @status = 'published' THEN coalesce(published_at, now()) ELSE published_at END
        WHERE id = @id AND status = 'draft'
        """;

    /// <summary>Submits a draft already checked as complete (OfferForm.Validate): pending or published by the rules.</summary>
    public async Task<SaveOutcome> SubmitDraftAsync(CurrentUser user, long id)
    {
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var offer = await GetForUpdateAsync(conn, tx, user, id);
        if (offer is null || offer.Status != Statuses.Draft)
        {
            return SaveOutcome.NotFound;
        }

        var status = OfferRules.StatusOnSubmit(user, offer.IssuerTrusted);
        await conn.ExecuteAsync(SubmitDraftSql, new { id, status }, tx);
        await AuditLog.WriteAsync(conn, tx, user.Actor, "opportunity.submitted", "opportunity", id,
            $"{offer.Title} ({Statuses.Label(status)})");
        await tx.CommitAsync();
        return OutcomeOf(status);
    }

    private const string CloseSql = """
        UPDATE opportunities SET status = 'closed', closed_at = now(), updated_at = now() WHERE id = @id
        """;

    /// <returns>false when not the user's offer or not open/pending.</returns>
    public async Task<bool> CloseAsync(CurrentUser user, long id)
    {
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var offer = await GetForUpdateAsync(conn, tx, user, id);
        if (offer is null || !OfferRules.CanClose(offer.EffectiveStatus(clock.GetUtcNow())))
        {
            return false;
        }

        await conn.ExecuteAsync(CloseSql, new { id }, tx);
        await AuditLog.WriteAsync(conn, tx, user.Actor, "opportunity.closed", "opportunity", id, offer.Title);
        await tx.CommitAsync();
        return true;
    }

    private const string ReopenSql = """
        UPDATE opportunities SET status = @status, deadline_date = @deadline, deadline_time = NULL, closed_at = NULL,
          updated_at = now(),
          published_at = CASE WHEN @status = 'published' THEN now() ELSE published_at END
        WHERE id = @id
        """;

    /// <returns>null on success; else a French message (or "" when the offer is not the user's).</returns>
    public async Task<string?> ReopenAsync(CurrentUser user, long id, string? deadlineText)
    {
        var today = Shared.ParisTime.Today(clock);
        if (!Shared.ParisTime.TryParseDate(deadlineText, out var deadline))
        {
            return "Indiquez la nouvelle date limite au format JJ/MM/AAAA.";
        }

        if (deadline < today)
        {
            return "La date limite ne peut pas être dans le passé.";
        }

        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var offer = await GetForUpdateAsync(conn, tx, user, id);
        if (offer is null)
        {
            return "";
        }

        if (!OfferRules.CanReopen(offer.EffectiveStatus(clock.GetUtcNow())))
        {
            return "Seule une offre close ou expirée peut être rouverte.";
        }

        var status = OfferRules.StatusOnSubmit(user, offer.IssuerTrusted);
        await conn.ExecuteAsync(ReopenSql, new { id, status, deadline }, tx);
        await AuditLog.WriteAsync(conn, tx, user.Actor, "opportunity.reopened", "opportunity", id,
            $"{offer.Title} — jusqu'au {Shared.ParisTime.FormatDate(deadline)}");
        await tx.CommitAsync();
        return null;
    }
}

public sealed class IssuerSummary
{
    public long Id { get; init; }
    public string Name { get; init; } = "";
    public bool Trusted { get; init; }

    /// <summary>Where the organisation works (chosen at sign-up): a new offer's territory starts from it.</summary>
    public string? HomeTerritoryCode { get; init; }
}
