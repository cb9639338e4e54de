using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Opportunites.Web.Jobs;

namespace Opportunites.Web.Accounts;

public static class AccountsExtensions
{
    /// <summary>Forms whose POSTs are rate-limited per client address: guessing passwords, flooding mailboxes.</summary>
    public static readonly IReadOnlySet<string> LimitedPaths = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "/connexion", "/inscription", "/mot-de-passe-oublie", "/reinitialisation", "/compte/email",
    };

    public static void AddAccounts(this WebApplicationBuilder builder)
    {
        builder.Services.AddAuthentication(Policies.CookieScheme)
            .AddCookie(Policies.CookieScheme, o =>
            {
                o.Cookie.Name = "opportunites.auth";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.LoginPath = "/connexion";
                o.LogoutPath = "/deconnexion";
                o.AccessDeniedPath = "/acces-refuse";
                o.ReturnUrlParameter = "retour";
                o.SlidingExpiration = true;
                o.ExpireTimeSpan = TimeSpan.FromDays(14);
                o.Events.OnValidatePrincipal = CurrentUser.ValidateAsync;
            });
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Admin, p => p.RequireRole(Policies.AdminRole))
            .AddPolicy(Policies.Issuer, p => p.RequireRole(Policies.IssuerRole, Policies.AdminRole));

        builder.Services.AddSingleton(sp => AccountSettings.From(sp.GetRequiredService<IConfiguration>()));
        builder.Services.AddSingleton<AccountService>();
        builder.Services.AddSingleton<Publishing.OfferStore>();
        builder.Services.AddSingleton<Moderation.ModerationService>();
        builder.Services.AddSingleton<Moderation.OrganisationService>();
        // Admins hear of the moderation queue once a day, only when something waits.
        builder.AddClusteredJob<Moderation.ModerationQueueJob>(Moderation.ModerationQueueJob.Name, Moderation.ModerationQueueJob.DefaultCron,
            "Courriel quotidien aux administrateurs : file de modération", MisfirePolicy.FireOnceNow, requestRecovery: false);
        builder.Services.AddSingleton<Import.Importer>();
        builder.Services.AddSingleton<Import.NewsletterExport>();

        builder.Services.AddRateLimiter(o =>
        {
            // Only the POSTs of the account forms, one bucket per client address and form; everything else is free.
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(ctx =>
            {
                if (!HttpMethods.IsPost(ctx.Request.Method) || !LimitedPaths.Contains(ctx.Request.Path.Value ?? ""))
                {
                    return RateLimitPartition.GetNoLimiter("");
                }

                var settings = ctx.RequestServices.GetRequiredService<AccountSettings>();
                // Behind a reverse proxy, RemoteIpAddress is the client's only once forwarded headers are applied.
                var key = (ctx.Connection.RemoteIpAddress ?? IPAddress.None) + " " + ctx.Request.Path.Value!.ToLowerInvariant();
                return RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = settings.RateLimitPermits,
                    Window = TimeSpan.FromSeconds(settings.RateLimitWindowSeconds),
                    QueueLimit = 0,
                });
            });
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = (ctx, _) =>
            {
                // The body is left empty: the status-code page renders the French "Trop de tentatives" page.
                var settings = ctx.HttpContext.RequestServices.GetRequiredService<AccountSettings>();
                ctx.HttpContext.Response.Headers.RetryAfter = settings.RateLimitWindowSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return ValueTask.CompletedTask;
            };
        });
    }

    /// <summary>After UseRouting: rate limits of the account forms.</summary>
    public static void UseAccounts(this WebApplication app) => app.UseRateLimiter();
}
