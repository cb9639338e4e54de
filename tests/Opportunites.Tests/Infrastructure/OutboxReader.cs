using System.Text.RegularExpressions;
using Dapper;
using Npgsql;

namespace Opportunites.Tests.Infrastructure;

public sealed class OutboxRow
{
    public long Id { get; init; }
    public string Category { get; init; } = "";
    public string ToAddress { get; init; } = "";
    public string Subject { get; init; } = "";
    public string TextBody { get; init; } = "";
    public string HtmlBody { get; init; } = "";
}

/// <summary>Reads what the app queued for an address (the delivery job is another feature).</summary>
public static partial class OutboxReader
{
    public static async Task<IReadOnlyList<OutboxRow>> GetAsync(NpgsqlDataSource db, string to, string? category = null)
    {
        await using var conn = await db.OpenConnectionAsync();
        return (await conn.QueryAsync<OutboxRow>("""
            SELECT id, category, to_address, subject, text_body, html_body FROM outbox_messages
            WHERE lower(to_address) = lower(@to) AND (@category::text IS NULL OR category = @category)
            ORDER BY id
            """, new { to, category })).AsList();
    }

    /// <summary>The path and query of the first link in the latest email of that category (to GET it on the test server).</summary>
    public static async Task<string> GetLatestLinkAsync(NpgsqlDataSource db, string to, string category)
    {
        var rows = await GetAsync(db, to, category);
        if (rows.Count == 0)
        {
            throw new InvalidOperationException($"Aucun courriel « {category} » pour {to}.");
        }

        var url = LinkRegex().Match(rows[^1].TextBody).Value;
        return new Uri(url).PathAndQuery;
    }

    [GeneratedRegex(@"https?://\S+")]
    private static partial Regex LinkRegex();
}
