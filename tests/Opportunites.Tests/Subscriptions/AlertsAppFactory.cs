using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Opportunites.Web.Accounts;

namespace Opportunites.Tests.Subscriptions;

/// <summary>
/// The real app on the shared test database, with links built on http://localhost, a form rate limit that the
/// tests can set, and a test-only sign-in endpoint (/test/connexion-admin) standing in for the admin login.
/// </summary>
public sealed class AlertsAppFactory(int formPermitLimit = 1000) : WebApplicationFactory<Program>
{
    public const string BaseUrl = "http://localhost";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("ConnectionStrings:Default", SharedDatabase.ConnectionString);
        builder.UseSetting("Site:BaseUrl", BaseUrl);
        builder.UseSetting("Alertes:FormPermitLimit", formPermitLimit.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.ConfigureServices(s => s.AddSingleton<IStartupFilter, TestSignInFilter>());
    }

    private sealed class TestSignInFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            // Not app.Map: that would move the path base, and the cookie path with it.
            app.Use(async (http, nextMiddleware) =>
            {
                if (http.Request.Path != "/test/connexion-admin")
                {
                    await nextMiddleware(http);
                    return;
                }

                var identity = new ClaimsIdentity(
                    [new Claim(ClaimTypes.Name, "admin-test"), new Claim(ClaimTypes.Role, Policies.AdminRole)], Policies.CookieScheme);
                await http.SignInAsync(Policies.CookieScheme, new ClaimsPrincipal(identity));
                http.Response.StatusCode = StatusCodes.Status204NoContent;
            });
            next(app);
        };
    }
}
