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
/// The real app on the shared test database, with links built on http://localhost and a form rate limit that the
/// tests can set. Admins log in through the real login form (TestUsers).
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
        // No cap on digest sections: the shared test database holds other tests' offers, which must not push
        // a test's own offers out of a capped list.
        builder.UseSetting("Alertes:MaxItemsPerSection", "100000");
        // Rate limits of the account forms must not trip while tests log admins in.
        builder.UseSetting("Accounts:RateLimitPermits", "100000");
        // No scheduler delivering or expiring the shared database's rows behind other tests' backs.
        builder.UseSetting("Jobs:Enabled", "false");
    }
}
