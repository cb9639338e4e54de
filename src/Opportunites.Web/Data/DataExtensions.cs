using Dapper;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Opportunites.Web.Data;

public static class DataExtensions
{
    public static void AddData(this WebApplicationBuilder builder)
    {
        // Columns are snake_case, C# properties PascalCase.
        DefaultTypeMap.MatchNamesWithUnderscores = true;

        // Resolved lazily so that tests (and verbs) can override the connection string after Program runs.
        builder.Services.AddSingleton(sp => CreateDataSource(sp.GetRequiredService<IConfiguration>()));
        builder.Services.AddSingleton<Migrator>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database");
    }

    public static NpgsqlDataSource CreateDataSource(IConfiguration configuration)
    {
        var cs = configuration.GetConnectionString("Default");
        if (string.IsNullOrWhiteSpace(cs))
        {
            throw new InvalidOperationException(
                "Aucune base configurée : définissez ConnectionStrings__Default (voir README).");
        }

        var csb = new NpgsqlConnectionStringBuilder(cs);
        // Fewer round trips per page view: keep session state across pooled opens and prepare hot statements.
        csb.NoResetOnClose = true;
        if (csb.MaxAutoPrepare == 0)
        {
            csb.MaxAutoPrepare = 50;
        }

        // Prepared statements are planned for their actual values every time: after five runs PostgreSQL may switch a
        // prepared statement to a generic plan, and for a text search the generic plan of "open offers matching $q in
        // Gironde" scanned every offer (archived ones included) matching the words: 678 ms instead of 7.5 ms (issue 8
        // benchmark, docs/benchmarks.md). Planning costs a fraction of a millisecond; parsing is still saved.
        // JIT off: the planner's row estimates over the million archived offers pass its cost threshold for statements
        // that read a few rows, and compiling them cost 100 ms for an expiry run with nothing to do and 1.5 s of a digest
        // run; no statement here runs long enough to repay it.
        if (string.IsNullOrEmpty(csb.Options))
        {
            csb.Options = "-c plan_cache_mode=force_custom_plan -c jit=off";
        }

        csb.ApplicationName ??= "opportunites";
        // Fail fast when PostgreSQL is down (a French 503 page) instead of hanging 15 s per request.
        if (csb.Timeout == 15)
        {
            csb.Timeout = 3;
        }

        return NpgsqlDataSource.Create(csb.ConnectionString);
    }

    /// <summary>True for errors that mean "PostgreSQL is unreachable right now", not a bug.</summary>
    public static bool IsDatabaseUnavailable(Exception error) => error switch
    {
        NpgsqlException { IsTransient: true } => true,
        NpgsqlException { InnerException: System.Net.Sockets.SocketException or TimeoutException or IOException } => true,
        PostgresException { SqlState: "57P01" or "57P02" or "57P03" or "53300" } => true,
        TimeoutException => true,
        _ when error.InnerException is not null => IsDatabaseUnavailable(error.InnerException),
        _ => false,
    };

    public static async Task MigrateDatabaseAsync(this WebApplication app)
    {
        await app.Services.GetRequiredService<Migrator>().MigrateAsync();
    }
}

internal sealed class DatabaseHealthCheck(NpgsqlDataSource db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            await conn.ExecuteScalarAsync<int>(new CommandDefinition("SELECT 1", cancellationToken: ct));
            return HealthCheckResult.Healthy("base de données joignable");
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy("base de données injoignable", ex);
        }
    }
}
