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
    }
}
