using Dapper;
using Npgsql;
using Opportunites.Web.Subscriptions;

namespace Opportunites.Web.Digests;

public sealed class TerritorySubscriberCount
{
    public string Code { get; init; } = "";
    public string Name { get; init; } = "";
    public string Level { get; init; } = "";
    public int Active { get; init; }
    public int Total { get; init; }
}

/// <summary>The email as it would be sent: subject, text and html with the links it would carry.</summary>
public sealed record DigestPreviewResult(string To, string Subject, string Text, string Html);

/// <summary>Admin preview of digests, through the same matching and rendering as the real run.</summary>
public sealed class DigestPreview(NpgsqlDataSource db, DigestRunner runner, SubscriptionService subscriptions)
{
    private sealed class SubscriberPrefs
    {
        public long Id { get; init; }
        public string Email { get; init; } = "";
        public string[] TerritoryCodes { get; init; } = [];
        public string[] Kinds { get; init; } = [];
        public string[] Themes { get; init; } = [];
        public string Frequency { get; init; } = Frequencies.Weekly;
        public bool IncludeWider { get; init; } = true;
    }

    private const string SubscriberSql = """
        SELECT s.id, s.email, d.territory_codes, d.kinds, d.themes, d.frequency, d.include_wider
        FROM subscribers s JOIN digest_subscriptions d ON d.subscriber_id = s.id
        WHERE s.email = @email
        """;

    /// <returns>null when the address has no digest; Result null when this period's digest would be empty.</returns>
    public async Task<(DigestPreviewResult? Result, bool Found)> ForSubscriberAsync(string email, DateTimeOffset now, CancellationToken ct = default)
    {
        SubscriberPrefs? s;
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            s = await conn.QuerySingleOrDefaultAsync<SubscriberPrefs>(new CommandDefinition(SubscriberSql, new { email }, cancellationToken: ct));
        }

        if (s is null)
        {
            return (null, false);
        }

        var prefs = new DigestPreferences(s.TerritoryCodes, s.Kinds, s.Themes, s.Frequency, s.IncludeWider);
        var (since, hasPrevious) = await runner.NextWindowStartAsync(s.Id, now, ct);
        if (await runner.PreviewAsync(prefs, now, since, hasPrevious, ct) is not { } digest)
        {
            return (null, true);
        }

        var (text, html) = digest.Personalize(subscriptions.ManageUrl(s.Id), subscriptions.DigestUnsubscribeUrl(s.Id));
        return (new DigestPreviewResult(s.Email, digest.Subject, text, html), true);
    }

    /// <summary>The digest a new subscriber with these preferences would receive now (first digest: 7 days back).</summary>
    public async Task<DigestPreviewResult?> ForPreferencesAsync(DigestPreferences prefs, DateTimeOffset now, CancellationToken ct = default)
    {
        var (since, _) = await runner.NextWindowStartAsync(0, now, ct);
        if (await runner.PreviewAsync(prefs, now, since, hasPrevious: false, ct) is not { } digest)
        {
            return null;
        }

        var (text, html) = digest.Personalize("(lien personnel de gestion)", "(lien personnel de désinscription)");
        return new DigestPreviewResult("(abonné fictif)", digest.Subject, text, html);
    }

    private const string CountsSql = """
        SELECT t.code, t.name, t.level,
               count(*) FILTER (WHERE s.confirmed_at IS NOT NULL AND d.paused_at IS NULL)::int AS active,
               count(*)::int AS total
        FROM digest_subscriptions d
        JOIN subscribers s ON s.id = d.subscriber_id
        CROSS JOIN LATERAL unnest(d.territory_codes) AS c(code)
        JOIN territories t ON t.code = c.code
        GROUP BY t.code, t.name, t.level
        ORDER BY active DESC, total DESC, t.name
        """;

    /// <summary>Subscribers per chosen territory: active (confirmed, not paused) and all.</summary>
    public async Task<IReadOnlyList<TerritorySubscriberCount>> GetSubscriberCountsAsync(CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<TerritorySubscriberCount>(new CommandDefinition(CountsSql, cancellationToken: ct))).AsList();
    }
}
