using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Opportunites.Web.Data;

namespace Opportunites.Tests.Infrastructure;

/// <summary>
/// A throwaway database per test run, in the cluster of ConnectionStrings__Default (./test.sh sets it to the
/// project-local cluster), built with the app's own migrations and runner, dropped at the end.
/// Never the demo database.
/// </summary>
public static class TestDatabase
{
    public const string DefaultServer = "Host=127.0.0.1;Port=54329;Database=postgres;Username=opportunites";

    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable("ConnectionStrings__Default") is { Length: > 0 } cs ? cs : DefaultServer;

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public static async Task<string> CreateEmptyAsync(string prefix = "opportunites_test")
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 60)];
        var server = new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = "postgres", Pooling = false };
        await using (var conn = new NpgsqlConnection(server.ConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", conn);
            await cmd.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name }.ConnectionString;
    }

    public static async Task DropAsync(string connectionString)
    {
        NpgsqlConnection.ClearAllPools();
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        var server = new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = "postgres", Pooling = false };
        // FORCE cannot stop a backend it has no right to signal (an autovacuum worker, on a cluster where the role
        // lacks pg_signal_backend): such a worker ends by itself within moments, so try again.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var conn = new NpgsqlConnection(server.ConnectionString);
                await conn.OpenAsync();
                await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", conn);
                await cmd.ExecuteNonQueryAsync();
                return;
            }
            catch (PostgresException ex) when (ex.SqlState is "42501" or "55006" && attempt < 10)
            {
                await Task.Delay(500);
            }
        }
    }

    public static Task<int> MigrateAsync(NpgsqlDataSource db, string? directory = null) =>
        new Migrator(db, NullLogger<Migrator>.Instance).MigrateAsync(directory);
}
