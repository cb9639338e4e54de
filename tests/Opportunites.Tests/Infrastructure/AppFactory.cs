using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Opportunites.Tests;

namespace Opportunites.Tests.Infrastructure;

/// <summary>The real app (real PostgreSQL) in memory, on the test database.</summary>
public sealed class AppFactory(string connectionString) : WebApplicationFactory<Program>
{
    public AppFactory() : this(SharedDatabase.ConnectionString)
    {
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("ConnectionStrings:Default", connectionString);
        // The test database is shared by all tests: no scheduler sending its outbox or expiring its offers behind
        // their backs. Tests of the jobs start schedulers on databases of their own.
        builder.UseSetting("Jobs:Enabled", "false");
    }
}
