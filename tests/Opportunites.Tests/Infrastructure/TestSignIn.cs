using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Opportunites.Web.Accounts;

namespace Opportunites.Tests.Infrastructure;

/// <summary>
/// Test-only sign-in: <c>GET /test/connexion?role=admin&amp;email=x</c> issues the app's real auth cookie (scheme
/// "opportunites", role claim), so page tests need no login form. Registered only in a test's
/// WebApplicationFactory with <see cref="AddTestSignIn"/>; the app itself has no such endpoint.
/// </summary>
public static class TestSignIn
{
    public const string Path = "/test/connexion";

    public static void AddTestSignIn(this IServiceCollection services) =>
        services.AddSingleton<IStartupFilter, StartupFilter>();

    /// <summary>Signs the client in (its cookie container keeps the cookie).</summary>
    public static async Task SignInAsync(this HttpClient client, string role, string email)
    {
        var response = await client.GetAsync($"{Path}?role={Uri.EscapeDataString(role)}&email={Uri.EscapeDataString(email)}");
        response.EnsureSuccessStatusCode();
    }

    private sealed class StartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            // Not app.Map: it would move the path into PathBase and scope the cookie to /test/connexion.
            app.Use(async (http, nextMiddleware) =>
            {
                if (http.Request.Path != Path)
                {
                    await nextMiddleware();
                    return;
                }

                var email = http.Request.Query["email"].ToString();
                var identity = new ClaimsIdentity(
                [
                    new Claim(ClaimTypes.Name, email),
                    new Claim(ClaimTypes.Email, email),
                    new Claim(ClaimTypes.Role, http.Request.Query["role"].ToString()),
                ], Policies.CookieScheme);
                await http.SignInAsync(Policies.CookieScheme, new ClaimsPrincipal(identity));
                http.Response.StatusCode = StatusCodes.Status204NoContent;
            });
            next(app);
        };
    }
}
