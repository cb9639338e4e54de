using Microsoft.AspNetCore.Http.Features;

namespace Opportunites.Web.Shared;

public static class SecurityExtensions
{
    // Everything the pages need comes from this origin; no inline script, no framing by other sites.
    public const string ContentSecurityPolicy =
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; " +
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    // Hangfire's dashboard (/admin/hangfire, admins only) writes style="" attributes from its scripts (the charts and
    // progress bars of its home page): inline styles allowed there, and only there. Its scripts stay 'self' only.
    private const string JobsDashboardPolicy =
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; " +
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>Request size limits: forms are small; the largest upload (a CSV import) stays under 2 MB.</summary>
    public static void AddRequestLimits(this WebApplicationBuilder builder)
    {
        const int maxBody = 2 * 1024 * 1024;
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = maxBody;
            k.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
        });
        builder.Services.Configure<FormOptions>(o =>
        {
            o.MultipartBodyLengthLimit = maxBody;
            o.ValueLengthLimit = 256 * 1024;
            o.ValueCountLimit = 500;
        });
    }

    public static void UseSecurityHeaders(this WebApplication app)
    {
        // HTTPS only when the public address is HTTPS (a local ./run.sh is plain HTTP on 127.0.0.1).
        var baseUrl = app.Configuration["Site:BaseUrl"] ?? "";
        if (!app.Environment.IsDevelopment() && baseUrl.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            app.UseHsts();
            app.UseHttpsRedirection();
        }

        app.Use((context, next) =>
        {
            // Decided now: the dashboard moves the path into PathBase before its response starts.
            var dashboard = context.Request.Path.StartsWithSegments(Jobs.JobsExtensions.DashboardPath);
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                headers.ContentSecurityPolicy = dashboard ? JobsDashboardPolicy : ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
                headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()";
                return Task.CompletedTask;
            });
            return next(context);
        });
    }
}
