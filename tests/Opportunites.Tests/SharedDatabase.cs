using Npgsql;
using Opportunites.Tests.Infrastructure;

namespace Opportunites.Tests;

// In the root namespace so that NUnit runs it once before every test of the assembly.
/// <summary>The database shared by this run's tests: migrated once; every test still makes its own rows.</summary>
[SetUpFixture]
public sealed class SharedDatabase
{
    public static string ConnectionString { get; private set; } = "";
    public static NpgsqlDataSource DataSource { get; private set; } = null!;

    [OneTimeSetUp]
    public async Task CreateAsync()
    {
        // As the app does at start (AddData): tests that call stores directly map snake_case columns too.
        Dapper.DefaultTypeMap.MatchNamesWithUnderscores = true;
        ConnectionString = await TestDatabase.CreateEmptyAsync();
        DataSource = NpgsqlDataSource.Create(ConnectionString);
        await TestDatabase.MigrateAsync(DataSource);
    }

    [OneTimeTearDown]
    public async Task DropAsync()
    {
        await DataSource.DisposeAsync();
        if (Environment.GetEnvironmentVariable("KEEP_TEST_DATABASE") is null)
        {
            await TestDatabase.DropAsync(ConnectionString);
        }
    }
}
