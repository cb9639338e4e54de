using System.Diagnostics;
using Npgsql;

namespace Opportunites.Tests.Faults;

/// <summary>
/// A throwaway PostgreSQL 15 cluster of one test (initdb into a temp folder, a free port, no fsync), which the test
/// may stop and start at will: the shared cluster of the other tests is never touched. As root, the server commands
/// run as the postgres user (initdb refuses root), as db/pg.sh does.
/// </summary>
public sealed class PrivateCluster : IAsyncDisposable
{
    private const string Bin = "/usr/lib/postgresql/15/bin";

    private PrivateCluster(string root, int port)
    {
        Root = root;
        Port = port;
    }

    public string Root { get; }

    public int Port { get; }

    private string Data => Path.Combine(Root, "data");

    /// <summary>The app's database in this cluster (created empty; the app migrates it at start).</summary>
    public string ConnectionString =>
        $"Host=127.0.0.1;Port={Port};Database=opportunites;Username=opportunites";

    public static async Task<PrivateCluster> StartAsync()
    {
        var root = Path.Combine(Path.GetTempPath(), "pg-faults-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Path.Combine(root, "sock"));
        var cluster = new PrivateCluster(root, AppProcess.FreePort());
        if (IsRoot)
        {
            await RunAsync("chown", "-R", "postgres:postgres", root);
        }

        await cluster.AsPostgresAsync(Path.Combine(Bin, "initdb"), "-D", cluster.Data, "-U", "postgres", "-E", "UTF8",
            "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=trust", "--no-sync");
        await File.AppendAllTextAsync(Path.Combine(cluster.Data, "postgresql.auto.conf"), $"""

            listen_addresses = '127.0.0.1'
            port = {cluster.Port}
            unix_socket_directories = '{Path.Combine(root, "sock")}'
            timezone = 'UTC'
            max_connections = 100
            fsync = off
            synchronous_commit = off
            full_page_writes = off

            """);
        await cluster.StartAgainAsync();
        var admin = new NpgsqlConnectionStringBuilder(cluster.ConnectionString) { Database = "postgres", Username = "postgres", Pooling = false };
        await using var conn = new NpgsqlConnection(admin.ConnectionString);
        await conn.OpenAsync();
        await using (var cmd = new NpgsqlCommand("CREATE ROLE opportunites LOGIN CREATEDB", conn))
        {
            await cmd.ExecuteNonQueryAsync();
        }

        await using (var cmd = new NpgsqlCommand("CREATE DATABASE opportunites OWNER opportunites", conn))
        {
            await cmd.ExecuteNonQueryAsync();
        }

        return cluster;
    }

    /// <summary>Starts the server and returns once it accepts connections.</summary>
    public Task StartAgainAsync() =>
        AsPostgresAsync(Path.Combine(Bin, "pg_ctl"), "-D", Data, "-l", Path.Combine(Root, "server.log"), "-w", "-t", "60", "start");

    /// <summary>Fast shutdown: sessions are terminated (57P01), then the port closes.</summary>
    public Task StopAsync() => AsPostgresAsync(Path.Combine(Bin, "pg_ctl"), "-D", Data, "-m", "fast", "-w", "-t", "60", "stop");

    private static bool IsRoot => Environment.UserName == "root";

    private Task AsPostgresAsync(string program, params string[] args) =>
        IsRoot ? RunAsync("runuser", ["-u", "postgres", "--", program, .. args]) : RunAsync(program, args);

    private static async Task RunAsync(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program)
        {
            WorkingDirectory = "/",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} : code {p.ExitCode}\n{await stdout}\n{await stderr}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            await AsPostgresAsync(Path.Combine(Bin, "pg_ctl"), "-D", Data, "-m", "immediate", "-w", "stop");
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }
}
