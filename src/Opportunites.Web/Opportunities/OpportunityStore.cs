using Dapper;
using Npgsql;

namespace Opportunites.Web.Opportunities;

/// <summary>What it takes to create an opportunity (demo data, tests, publishing and import share it).</summary>
public sealed record NewOpportunity(
    string Kind,
    string Title,
    long IssuerId,
    IReadOnlyList<string> TerritoryCodes,
    DateOnly? DeadlineDate = null,
    TimeOnly? DeadlineTime = null,
    string Status = Statuses.Published,
    string Description = "",
    string? Url = null,
    string? Contact = null,
    IReadOnlyList<string>? ThemeCodes = null,
    string? ContractType = null,
    string? Beneficiaries = null,
    decimal? AmountEur = null,
    DateTimeOffset? PublishedAt = null,
    DateTimeOffset? CreatedAt = null,
    string? WorkTerritoryCode = null);

public static class OpportunityStore
{
    // Names compared without accents or case ("Ville de Begles" is "Ville de Bègles", index issuers_name_folded of 0090);
    // the unique lower(name) index settles a race between two creations of one spelling.
    private const string GetOrCreateIssuerSql = """
        WITH found AS (
          SELECT id FROM issuers
          WHERE lower(immutable_unaccent(btrim(name))) = lower(immutable_unaccent(btrim(@name)))
          ORDER BY id LIMIT 1),
        ins AS (
          INSERT INTO issuers (name, type) SELECT @name, @type WHERE NOT EXISTS (SELECT 1 FROM found)
          ON CONFLICT (lower(name)) DO NOTHING
          RETURNING id)
        SELECT id FROM found
        UNION ALL
        SELECT id FROM ins
        UNION ALL
        SELECT id FROM issuers WHERE lower(name) = lower(@name)
        LIMIT 1
        """;

    /// <summary>The issuer of that name (accent- and case-insensitive), created with the given type if new.</summary>
    public static Task<long> GetOrCreateIssuerIdAsync(NpgsqlConnection conn, string name, string type = "autre",
        NpgsqlTransaction? tx = null) =>
        conn.ExecuteScalarAsync<long>(GetOrCreateIssuerSql, new { name = name.Trim(), type }, tx);

    private const string InsertSql = """
        WITH o AS (
          INSERT INTO opportunities (kind, title, issuer_id, description, url, contact, deadline_date, deadline_time,
                                     status, contract_type, beneficiaries, amount_eur, created_at, updated_at, published_at,
                                     work_territory_code)
          VALUES (@Kind, @Title, @IssuerId, @Description, @Url, @Contact, @DeadlineDate, @DeadlineTime,
                  @Status, @ContractType, @Beneficiaries, @AmountEur, @CreatedAt, @CreatedAt,
                  CASE WHEN @Status = 'published' THEN coalesce(@PublishedAt, @CreatedAt) ELSE @PublishedAt END,
                  @WorkTerritoryCode)
          RETURNING id),
        t AS (
          INSERT INTO opportunity_territories (opportunity_id, territory_code)
          SELECT o.id, c FROM o, unnest(@TerritoryCodes::text[]) AS c),
        th AS (
          INSERT INTO opportunity_themes (opportunity_id, theme_code)
          SELECT o.id, c FROM o, unnest(@ThemeCodes::text[]) AS c)
        SELECT id FROM o
        """;

    /// <summary>Inserts the opportunity with its territories and themes in one statement; returns its id.</summary>
    public static Task<long> CreateAsync(NpgsqlConnection conn, NewOpportunity o, NpgsqlTransaction? tx = null)
    {
        var now = DateTimeOffset.UtcNow;
        return conn.ExecuteScalarAsync<long>(InsertSql, new
        {
            o.Kind,
            Title = o.Title.Trim(),
            o.IssuerId,
            o.Description,
            o.Url,
            o.Contact,
            DeadlineDate = o.DeadlineDate,
            DeadlineTime = o.DeadlineTime,
            o.Status,
            o.ContractType,
            o.Beneficiaries,
            o.AmountEur,
            CreatedAt = o.CreatedAt ?? now,
            o.PublishedAt,
            o.WorkTerritoryCode,
            TerritoryCodes = o.TerritoryCodes.Distinct().ToArray(),
            ThemeCodes = (o.ThemeCodes ?? []).Distinct().ToArray(),
        }, tx);
    }
}
