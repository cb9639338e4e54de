using Npgsql;
using Opportunites.Web.Opportunities;

namespace Opportunites.Tests.Infrastructure;

/// <summary>Rows a test makes for itself, with unique names so tests never see each other's data by accident.</summary>
public static class TestData
{
    public static string Unique(string text) => $"{text} {Guid.NewGuid().ToString("N")[..8]}";

    public static async Task<long> CreateIssuerAsync(NpgsqlDataSource db, string? name = null, string type = "association")
    {
        await using var conn = await db.OpenConnectionAsync();
        return await OpportunityStore.GetOrCreateIssuerIdAsync(conn, name ?? Unique("Association test"), type);
    }

    public static async Task<long> CreateOpportunityAsync(NpgsqlDataSource db, string title, string[] territories,
        string kind = Kinds.Aap, DateOnly? deadline = null, string status = Statuses.Published, long? issuerId = null,
        string description = "", string[]? themes = null, TimeOnly? deadlineTime = null, DateTimeOffset? publishedAt = null)
    {
        var issuer = issuerId ?? await CreateIssuerAsync(db);
        await using var conn = await db.OpenConnectionAsync();
        return await OpportunityStore.CreateAsync(conn, new NewOpportunity(kind, title, issuer, territories,
            deadline, deadlineTime, status, description, ThemeCodes: themes,
            PublishedAt: status == Statuses.Published ? publishedAt ?? DateTimeOffset.UtcNow : publishedAt));
    }
}
