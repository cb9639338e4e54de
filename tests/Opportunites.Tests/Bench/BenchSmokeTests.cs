using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Dapper;
using Npgsql;

namespace Opportunites.Tests.Bench;

/// <summary>
/// The whole benchmark command at a tiny size (a few seconds), so that it cannot rot between full runs: dataset,
/// SQL timings and plans, wrk and pgbench on both mixes, the static endpoint and the 64-connection load run.
/// The figures themselves mean nothing at this size; the run must finish and write every section of its report.
/// </summary>
public sealed class BenchSmokeTests
{
    [Test]
    [CancelAfter(240_000)]
    public async Task BenchCommand_TinyDataset_RunsEveryPartAndWritesTheReport(CancellationToken ct)
    {
        if (!File.Exists("/usr/bin/wrk"))
        {
            Assert.Ignore("wrk n'est pas installé (tools/provision.sh test).");
        }

        var root = BenchToolsTests.FindRepoRoot();
        var dll = Path.Combine(root, "tests", "Opportunites.Bench", "bin", "Debug", "net10.0", "Opportunites.Bench.dll");
        var database = "opportunites_bench_smoke_" + Guid.NewGuid().ToString("N")[..8];
        var report = Path.Combine("var", "bench", database + ".md");
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = root,
        };
        foreach (var a in new[]
                 {
                     dll, "--open", "400", "--archived", "1200", "--issuers", "50", "--sessions", "2", "--database", database,
                     "--duration", "1", "--warmup", "1", "--connections", "2", "--urls", "60", "--scripts", "5",
                     "--load-duration", "3", "--overdue", "150", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--report", report, "--app-configuration", "Debug",
                 })
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["ConnectionStrings__Default"] = SharedDatabase.ConnectionString;
        try
        {
            using var bench = Process.Start(psi)!;
            var stdout = bench.StandardOutput.ReadToEndAsync(ct);
            var stderr = bench.StandardError.ReadToEndAsync(ct);
            await bench.WaitForExitAsync(ct);
            var output = await stdout;
            Assert.That(bench.ExitCode, Is.Zero, output + await stderr);

            var markdown = await File.ReadAllTextAsync(Path.Combine(root, report), ct);
            Assert.That(markdown, Does.Contain("| chargement |")
                .And.Contain("1,600 offres dont 400 publiées")
                .And.Contain("| SQL recherche + Gironde + AAP : compte p50 |")
                .And.Contain("| HTTP mixte, 2 conn. : p99 |")
                .And.Contain("| ratio (a) app avec cache de pages / pgbench, parcours, 2 conn. |")
                .And.Contain("| ratio (a) app sans cache de pages / pgbench, mixte, 2 conn. |")
                .And.Contain("| ratio (b) app / statique, mixte, 2 conn. |")
                .And.Contain("| charge mixte, 64 conn., 3 s : erreurs | 0 |")
                .And.Contain("## EXPLAIN (ANALYZE, BUFFERS)")
                .And.Contain("expiration"));
            Assert.That(output, Does.Contain("HTTP parcours, 2 conn. : débit"));
        }
        finally
        {
            if (File.Exists(Path.Combine(root, report)))
            {
                File.Delete(Path.Combine(root, report));
            }
            await using var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(SharedDatabase.ConnectionString)
            { Database = "postgres", Pooling = false }.ConnectionString);
            await admin.OpenAsync(CancellationToken.None);
            await admin.ExecuteAsync($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
        }
    }
}
