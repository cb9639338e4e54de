using System.Threading.RateLimiting;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Npgsql;
using Opportunites.Web.Digests;
using Opportunites.Web.Jobs;
using Opportunites.Web.Shared;

namespace Opportunites.Web.Subscriptions;

public static class SubscriptionsExtensions
{
    /// <summary>Rate-limiting policy of the alert forms (subscribe, reminder): per client address, POST only.</summary>
    public const string FormRateLimit = "alertes";

    public static void AddSubscriptions(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AlertSettings>()
            .BindConfiguration("Alertes")
            .Configure<IConfiguration>((s, c) =>
            {
                if (c["Site:BaseUrl"] is { Length: > 0 } baseUrl)
                {
                    s.BaseUrl = baseUrl.TrimEnd('/');
                }
            });

        // Signed links and auth cookies must survive restarts and work on every node: keys live in PostgreSQL.
        builder.Services.AddDataProtection().SetApplicationName("opportunites");
        builder.Services.AddOptions<KeyManagementOptions>()
            .Configure<NpgsqlDataSource>((o, db) => o.XmlRepository = new PostgresXmlRepository(db));

        builder.Services.AddSingleton<AlertTokens>();
        builder.Services.AddSingleton<AlertCatalog>();
        builder.Services.AddSingleton<SubscriptionService>();
        builder.Services.AddSingleton<DigestRunner>();
        builder.Services.AddSingleton<ReminderRunner>();
        builder.Services.AddSingleton<DigestPreview>();

        builder.Services.AddRateLimiter(o =>
        {
            // The status code pages re-execute /erreur?code=429, which explains it in French.
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy(FormRateLimit, http =>
            {
                if (!HttpMethods.IsPost(http.Request.Method))
                {
                    return RateLimitPartition.GetNoLimiter("lecture");
                }

                var s = http.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<AlertSettings>>().Value;
                var client = http.Connection.RemoteIpAddress?.ToString() ?? "inconnu";
                return RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = Math.Max(1, s.FormPermitLimit),
                    Window = s.FormWindow,
                    QueueLimit = 0,
                });
            });
        });

        // Clustered jobs (Europe/Paris, one run per occurrence, run ledger, admin page, `jobs run <name>`). Idempotent (the
        // digest ledger, the reminders' dedupe keys): a failure (PostgreSQL restarting) is retried by Hangfire, 5 attempts
        // over ~10 minutes, rather than waiting a day or a week.
        builder.AddClusteredJob<WeeklyDigestJob>(WeeklyDigestJob.Name, WeeklyDigestJob.Cron, "Veille hebdomadaire par email", retries: 5);
        builder.AddClusteredJob<DailyDigestJob>(DailyDigestJob.Name, DailyDigestJob.Cron, "Veille quotidienne par email", retries: 5);
        builder.AddClusteredJob<DeadlineReminderJob>(DeadlineReminderJob.Name, DeadlineReminderJob.Cron,
            "Rappels de date limite J-7 / J-1 et purge des adresses non confirmées", retries: 5);
    }
}
