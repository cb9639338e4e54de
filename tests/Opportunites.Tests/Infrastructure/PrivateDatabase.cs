using Npgsql;

namespace Opportunites.Tests.Infrastructure;

/// <summary>
/// A migrated database for one fixture, for tests of jobs that act on every row (expiry, outbox delivery,
/// schedulers): on the shared database they would send or expire other tests' rows.
/// </summary>
public sealed class PrivateDatabase : IAsyncDisposable
{
    private PrivateDatabase(string connectionString, NpgsqlDataSource dataSource)
    {
        ConnectionString = connectionString;
        DataSource = dataSource;
    }

    public string ConnectionString { get; }

    public NpgsqlDataSource DataSource { get; }

    public static async Task<PrivateDatabase> CreateAsync(string prefix = "opportunites_jobs")
    {
        // As the app does at startup (AddData): snake_case columns onto PascalCase properties.
        Dapper.DefaultTypeMap.MatchNamesWithUnderscores = true;
        var cs = await TestDatabase.CreateEmptyAsync(prefix);
        var db = NpgsqlDataSource.Create(cs);
        await TestDatabase.MigrateAsync(db);
        return new PrivateDatabase(cs, db);
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        if (Environment.GetEnvironmentVariable("KEEP_TEST_DATABASE") is null)
        {
            await TestDatabase.DropAsync(ConnectionString);
        }
    }
}
