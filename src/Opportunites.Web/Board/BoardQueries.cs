using Dapper;
using Npgsql;

namespace Opportunites.Web.Board;

/// <summary>One row of the public list (a class: Dapper maps text[] columns to properties, not to record constructors).</summary>
public sealed class OpportunityListItem
{
    public long Id { get; init; }
    public string Kind { get; init; } = "";
    public string Title { get; init; } = "";
    public string IssuerName { get; init; } = "";
    public DateOnly? DeadlineDate { get; init; }
    public DateTime? ClosesAt { get; init; }
    public string[] TerritoryNames { get; init; } = [];
}

public sealed class BoardQueries(NpgsqlDataSource db)
{
    // Open = published and not past its closing instant; served by opportunities_open_deadline.
    private const string OpenSql = """
        SELECT o.id, o.kind, o.title, o.issuer_name, o.deadline_date, o.closes_at,
               ARRAY(SELECT t.name FROM territories t WHERE t.code = ANY (o.territory_codes) ORDER BY t.name) AS territory_names
        FROM opportunities o
        WHERE o.status = 'published' AND o.deadline_sort > now()
        ORDER BY o.deadline_sort, o.id
        LIMIT @limit
        """;

    public async Task<IReadOnlyList<OpportunityListItem>> GetOpenAsync(int limit, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<OpportunityListItem>(new CommandDefinition(OpenSql, new { limit }, cancellationToken: ct));
        return rows.AsList();
    }
}
