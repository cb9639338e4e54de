using System.Diagnostics;
using System.Globalization;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Opportunites.Bench;
using Opportunites.Web.Data;

// Benchmark command: builds its own database at a chosen scale, measures, prints one table and writes docs/benchmarks.md.
// dotnet run -c Release --project tests/Opportunites.Bench -- [--open N] [--archived N] [--sessions N] [--reuse]
var options = BenchOptions.Parse(args);
DefaultTypeMap.MatchNamesWithUnderscores = true;

var server = Environment.GetEnvironmentVariable("ConnectionStrings__Default") is { Length: > 0 } cs
    ? cs
    : "Host=127.0.0.1;Port=54329;Database=opportunites;Username=opportunites";
var benchCs = new NpgsqlConnectionStringBuilder(server) { Database = options.Database, MaxAutoPrepare = 50, NoResetOnClose = true }.ConnectionString;

var report = new Report();
if (!options.Reuse)
{
    await using (var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server) { Database = "postgres", Pooling = false }.ConnectionString))
    {
        await admin.OpenAsync();
        await admin.ExecuteAsync($"DROP DATABASE IF EXISTS \"{options.Database}\" WITH (FORCE)");
        await admin.ExecuteAsync($"CREATE DATABASE \"{options.Database}\"");
    }
}

await using var db = NpgsqlDataSource.Create(benchCs);
await new Migrator(db, NullLogger<Migrator>.Instance).MigrateAsync();

if (!options.Reuse)
{
    Console.Error.WriteLine($"Chargement de {options.Open:N0} offres ouvertes et {options.Archived:N0} archivées…");
    var took = await new DatasetLoader(db).LoadAsync(options.Open, options.Archived, options.Issuers, options.Sessions);
    report.Add("chargement", $"{options.Open + options.Archived:N0} offres, {options.Sessions} sessions", took.TotalSeconds, "s");
}

await using (var conn = await db.OpenConnectionAsync())
{
    var size = await conn.ExecuteScalarAsync<string>("SELECT pg_size_pretty(pg_total_relation_size('opportunities'))");
    var counts = await conn.QuerySingleAsync<(long Open, long All)>(
        "SELECT count(*) FILTER (WHERE status = 'published'), count(*) FROM opportunities");
    report.Note($"Jeu de données : {counts.All:N0} offres dont {counts.Open:N0} publiées ; table opportunities {size}.");
}

await new SqlMeasurements(db, report).RunAsync();

report.Print();
report.WriteMarkdown(Path.Combine(FindRepoRoot(), "docs", "benchmarks.md"), options);
return 0;

static string FindRepoRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Opportunites.sln")))
    {
        dir = dir.Parent;
    }

    return dir?.FullName ?? Directory.GetCurrentDirectory();
}

internal sealed record BenchOptions(int Open, int Archived, int Issuers, int Sessions, bool Reuse, string Database)
{
    public static BenchOptions Parse(string[] args)
    {
        int Int(string name, int fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
        }

        var db = Array.IndexOf(args, "--database") is var d and >= 0 && d + 1 < args.Length ? args[d + 1] : "opportunites_bench";
        return new BenchOptions(Int("--open", 100_000), Int("--archived", 1_000_000), Int("--issuers", 5_000),
            Int("--sessions", Math.Max(2, Environment.ProcessorCount)), args.Contains("--reuse"), db);
    }
}

internal sealed class Report
{
    private readonly List<(string Name, string Detail, double Value, string Unit)> _rows = [];
    private readonly List<string> _notes = [];
    private readonly List<(string Title, string Plan)> _plans = [];

    public void Add(string name, string detail, double value, string unit) => _rows.Add((name, detail, value, unit));

    public void Note(string note) => _notes.Add(note);

    public void Plan(string title, string plan) => _plans.Add((title, plan));

    public void Print()
    {
        Console.WriteLine();
        foreach (var n in _notes)
        {
            Console.WriteLine(n);
        }

        Console.WriteLine($"{"mesure",-48} {"valeur",12}  détail");
        foreach (var r in _rows)
        {
            Console.WriteLine($"{r.Name,-48} {r.Value.ToString("0.###", CultureInfo.InvariantCulture),10} {r.Unit,-4} {r.Detail}");
        }
    }

    public void WriteMarkdown(string path, BenchOptions o)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var w = new StreamWriter(path);
        w.WriteLine("# Benchmarks");
        w.WriteLine();
        w.WriteLine($"Produit par `dotnet run -c Release --project tests/Opportunites.Bench -- --open {o.Open} --archived {o.Archived}` " +
                    $"le {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cœurs.");
        w.WriteLine();
        foreach (var n in _notes)
        {
            w.WriteLine(n);
            w.WriteLine();
        }

        w.WriteLine("| mesure | valeur | unité | détail |");
        w.WriteLine("|---|---:|---|---|");
        foreach (var r in _rows)
        {
            w.WriteLine($"| {r.Name} | {r.Value.ToString("0.###", CultureInfo.InvariantCulture)} | {r.Unit} | {r.Detail} |");
        }

        foreach (var (title, plan) in _plans)
        {
            w.WriteLine();
            w.WriteLine($"## EXPLAIN (ANALYZE, BUFFERS) — {title}");
            w.WriteLine();
            w.WriteLine("```");
            w.WriteLine(plan);
            w.WriteLine("```");
        }
    }
}

internal static class Timing
{
    public static async Task<(double P50, double P99)> MeasureAsync(int runs, Func<int, Task> action)
    {
        var samples = new double[runs];
        for (var i = 0; i < runs; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await action(i);
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(samples);
        return (samples[runs / 2], samples[Math.Min(runs - 1, (int)(runs * 0.99))]);
    }
}
