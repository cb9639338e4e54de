using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Opportunites.Tests;

namespace Opportunites.Tests.Infrastructure;

/// <summary>The real app (real PostgreSQL) in memory, on the test database.</summary>
public sealed class AppFactory(string connectionString, IReadOnlyDictionary<string, string>? extraSettings = null)
    : WebApplicationFactory<Program>
{
    private readonly IReadOnlyDictionary<string, string> settings = extraSettings ?? new Dictionary<string, string>();

    public AppFactory() : this(SharedDatabase.ConnectionString)
    {
    }

    /// <summary>The shared test database with extra configuration keys (e.g. a low rate limit).</summary>
    public AppFactory(IReadOnlyDictionary<string, string> extraSettings) : this(SharedDatabase.ConnectionString, extraSettings)
    {
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("ConnectionStrings:Default", connectionString);
        // All tests share one client address: a generous login/sign-up limit keeps them independent;
        // the lockout tests build their own factory with a low limit (see RateLimitTests).
        builder.UseSetting("Accounts:RateLimitPermits", "100000");
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
        // The test database is shared by all tests: no scheduler sending its outbox or expiring its offers behind
        // their backs. Tests of the jobs start schedulers on databases of their own.
        builder.UseSetting("Jobs:Enabled", "false");
    }
}
