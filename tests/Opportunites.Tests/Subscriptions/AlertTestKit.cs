using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Opportunites.Web.Digests;
using Opportunites.Web.Shared;
using Opportunites.Web.Subscriptions;

namespace Opportunites.Tests.Subscriptions;

public sealed class OutboxRow
{
    public long Id { get; init; }
    public string Category { get; init; } = "";
    public string ToAddress { get; init; } = "";
    public string Subject { get; init; } = "";
    public string TextBody { get; init; } = "";
    public string HtmlBody { get; init; } = "";
    public string HeadersJson { get; init; } = "{}";
    public string? DedupeKey { get; init; }

    public Dictionary<string, string> Headers => JsonSerializer.Deserialize<Dictionary<string, string>>(HeadersJson)!;

    /// <summary>The first link of the text body that starts with this path (e.g. "/alertes/gerer").</summary>
    public string Link(string path)
    {
        var m = Regex.Match(TextBody, Regex.Escape(AlertsAppFactory.BaseUrl + path) + @"\?[A-Za-z0-9_=&%-]+");
        Assert.That(m.Success, Is.True, $"lien {path} absent de : {TextBody}");
        return m.Value[AlertsAppFactory.BaseUrl.Length..];
    }
}

/// <summary>Shortcuts for alert tests: own subscribers (unique emails), their outbox rows, explicit run times.</summary>
public static partial class AlertTestKit
{
    public static string UniqueEmail(string prefix) => $"{prefix}-{Guid.NewGuid():N}@example.org";

    private const string OutboxSql = """
        SELECT id, category, to_address, subject, text_body, html_body, headers::text AS headers_json, dedupe_key
        FROM outbox_messages WHERE to_address = @email ORDER BY id
        """;

    /// <param name="db">The database to read (a fixture's own); the shared test database by default.</param>
    public static async Task<List<OutboxRow>> OutboxAsync(string email, NpgsqlDataSource? db = null)
    {
        await using var conn = await (db ?? SharedDatabase.DataSource).OpenConnectionAsync();
        return (await conn.QueryAsync<OutboxRow>(OutboxSql, new { email })).AsList();
    }

    public static async Task<List<OutboxRow>> DigestsAsync(string email) =>
        (await OutboxAsync(email)).Where(r => r.Category == "digest").ToList();

    /// <summary>Subscribes through the service and confirms through the emailed link; returns the subscriber id.</summary>
    public static async Task<long> SubscribeConfirmedAsync(IServiceProvider services, string email, string[] territories,
        string[]? kinds = null, string[]? themes = null, string frequency = Frequencies.Weekly, NpgsqlDataSource? db = null)
    {
        var subscriptions = services.GetRequiredService<SubscriptionService>();
        await subscriptions.SubscribeAsync(email, DigestPreferences.Canonical(territories, kinds, themes, frequency), "192.0.2.1");
        var confirmation = (await OutboxAsync(email, db)).Single(r => r.Category == "alert_confirmation");
        var token = Regex.Match(confirmation.TextBody, @"jeton=([A-Za-z0-9_-]+)").Groups[1].Value;
        var result = await subscriptions.ConfirmAsync(token, "192.0.2.1");
        Assert.That(result.Outcome, Is.EqualTo(ConfirmOutcome.Confirmed));
        return result.SubscriberId!.Value;
    }

    public static DigestRunner Runner(IServiceProvider services) => services.GetRequiredService<DigestRunner>();

    /// <summary>The next Monday 07:00 Paris after the real clock (subscribers confirmed now are due then).</summary>
    public static DateTimeOffset NextMonday0700()
    {
        var today = DateOnly.FromDateTime(ParisTime.ToParis(DateTimeOffset.UtcNow));
        var monday = today.AddDays(7 - (((int)today.DayOfWeek + 6) % 7));
        return ParisInstant(monday, new TimeOnly(7, 0));
    }

    public static DateTimeOffset ParisInstant(DateOnly day, TimeOnly time)
    {
        var local = day.ToDateTime(time);
        return new DateTimeOffset(local, ParisTime.Zone.GetUtcOffset(local)).ToUniversalTime();
    }

    public static DateOnly ParisDay(DateTimeOffset instant) => DateOnly.FromDateTime(ParisTime.ToParis(instant));

    /// <summary>The hidden antiforgery field of a page's form.</summary>
    public static string AntiforgeryToken(string html)
    {
        var m = AntiforgeryField().Match(html);
        Assert.That(m.Success, Is.True, "jeton antiforgery absent du formulaire");
        return m.Groups[1].Value;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
