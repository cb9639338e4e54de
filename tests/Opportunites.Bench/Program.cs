using System.Diagnostics;
using System.Globalization;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Opportunites.Bench;
using Opportunites.Web.Data;

// Benchmark command: builds its own database at a chosen scale, measures, prints one table and writes docs/benchmarks.md.
// ./bench.sh [--open N] [--archived N] [--sessions N] [--reuse] [--database NAME] [--duration S] [--connections 16,2]
//            [--urls N] [--scripts N] [--warmup S] [--port P] [--load-duration S (64 connections; 0: none)] [--no-sql] [--no-http]
//            [--report docs/benchmarks.md] [--app-configuration Release]
//            [--digest 10000,100000] [--digest-granularity départements,communes] [--digest-dkim 10000] [--failover 30000]
//            [--no-expiry] [--overdue N] [--start]
// Mail transport benchmark: dotnet run -c Release --project tests/Opportunites.Bench -- mail [--messages N] [--connections C] [--items 80]
// Digest benchmark alone: ./bench.sh digest [--subscribers 10000,100000] [--open N] [--database NAME] [--connections 8]
// Start time of ./run.sh to the first 200 on /: ./bench.sh start [--start-runs N] [--start-no-stop]
if (args is ["mail", .. var mailArgs])
{
    return await MailBench.RunAsync(mailArgs);
}

if (args is ["digest", .. var digestArgs])
{
    return await DigestBench.RunAsync(digestArgs);
}

if (args is ["start", .. var startArgs])
{
    return await StartBench.RunAsync(startArgs, FindRepoRoot());
}

var options = BenchOptions.Parse(args);
DefaultTypeMap.MatchNamesWithUnderscores = true;

var server = Environment.GetEnvironmentVariable("ConnectionStrings__Default") is { Length: > 0 } cs
    ? cs
    : "Host=127.0.0.1;Port=54329;Database=opportunites;Username=opportunites";
var benchCs = new NpgsqlConnectionStringBuilder(server) { Database = options.Database }.ConnectionString;

var report = new Report();
// Figures from a busy machine are not the product's: say how busy it was, at the start and at the end.
var loadAtStart = LoadAverage();
if (!options.Reuse)
{
    await using (var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server) { Database = "postgres", Pooling = false }.ConnectionString))
    {
        await admin.OpenAsync();
        await admin.ExecuteAsync($"DROP DATABASE IF EXISTS \"{options.Database}\" WITH (FORCE)");
        await admin.ExecuteAsync($"CREATE DATABASE \"{options.Database}\"");
    }
}

// The app's own data source settings (prepared statements, plan cache mode…), so one-client timings match what it runs.
await using var db = DataExtensions.CreateDataSource(new ConfigurationBuilder()
    .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Default"] = benchCs }).Build());
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

// Realistic URLs (written to files for wrk), from the territory codes in the dataset's own Zipf order.
var repoRoot = FindRepoRoot();
var workDir = Path.Combine(repoRoot, "var", "bench");
Directory.CreateDirectory(workDir);
List<string> departements, regions;
List<Place> places;
await using (var conn = await db.OpenConnectionAsync())
{
    departements = (await conn.QueryAsync<string>("SELECT code FROM territories WHERE level = 'departement' ORDER BY code")).AsList();
    regions = (await conn.QueryAsync<string>("SELECT code FROM territories WHERE level = 'region' ORDER BY code")).AsList();
    // Communes by population (the loader's slots, one per 200 inhabitants), every 97th slot: ~3,700 places.
    await conn.ExecuteAsync(DatasetLoader.PlacesSql);
    places = (await conn.QueryAsync<Place>("SELECT commune, epci, departement, region FROM bench_places WHERE slot % 97 = 0 ORDER BY slot")).AsList();
}

// The mixes of the previous runs (départements and régions), then the same shapes at commune granularity (issue 22).
var browse = BoardUrls.Browse(options.Urls, departements, regions);
var mix = BoardUrls.Mix(options.Urls, departements, regions, DatasetLoader.Vocabulary);
var browseCommunes = BoardUrls.BrowseCommunes(options.Urls, places);
var mixCommunes = BoardUrls.MixCommunes(options.Urls, places, DatasetLoader.Vocabulary);
var mixes = new[]
{
    new Workload("parcours", browse, Path.Combine(workDir, "browse.txt"), 30), new Workload("mixte", mix, Path.Combine(workDir, "mix.txt"), 80),
    new Workload("parcours communes", browseCommunes, Path.Combine(workDir, "browse-communes.txt"), 30),
    new Workload("mixte communes", mixCommunes, Path.Combine(workDir, "mix-communes.txt"), 80),
};
foreach (var w in mixes)
{
    await File.WriteAllLinesAsync(w.File, w.Urls);
}

report.Note($"URL : {browse.Count:N0} de parcours (territoire, type, page 1 à 3) et {mix.Count:N0} mixtes (moitié recherche plein texte), " +
            "filtrés par département ou région ; les mêmes « communes » : territoire tiré par population, commune (55 %), son EPCI (25 %), " +
            "son département (15 %) ou sa région (5 %) ; var/bench/*.txt.");

var autocomplete = Path.Combine(workDir, "territoires.txt");
await AutocompleteBench.RunAsync(db, report, autocomplete);

if (!options.NoSql)
{
    await new SqlMeasurements(db, report).RunAsync(mixes);
}

if (!options.NoHttp)
{
    await new HttpMeasurements(db, benchCs, report, options, repoRoot, workDir).RunAsync(mixes, autocomplete);
}

if (options.Digest.Length > 0)
{
    await DigestBench.RunAsync(db, benchCs, repoRoot, options.Digest, 8, options.Port + 1, report, options.AppConfiguration,
        options.DigestGranularities, options.DigestDkim);
}

if (options.Failover > 0)
{
    await FailoverBench.RunAsync(db, benchCs, repoRoot, options.Failover, options.Port + 2, report, options.AppConfiguration);
}

// Last: it changes then restores 100 k offers (and vacuums), which must not disturb the board's measurements.
if (!options.NoExpiry)
{
    Console.Error.WriteLine($"Expiration : {options.Overdue:N0} offres échues…");
    ExpiryReport.Add(report, await new ExpiryBench(db).RunAsync(options.Overdue));
}

if (options.Start)
{
    await new StartBench(repoRoot, StartOptions.Parse(args)).MeasureAsync(report);
}

report.Note($"Charge de la machine (loadavg 1 min) : {loadAtStart} au début, {LoadAverage()} à la fin, {Environment.ProcessorCount} cœurs" +
            " ; au-delà du nombre de cœurs, les latences et débits mesurés reflètent surtout la file d'attente du processeur.");
report.Print();
report.WriteMarkdown(Path.Combine(repoRoot, options.ReportPath), options);
return 0;

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";

static string FindRepoRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Opportunites.sln")))
    {
        dir = dir.Parent;
    }

    return dir?.FullName ?? Directory.GetCurrentDirectory();
}

internal sealed record Workload(string Name, IReadOnlyList<string> Urls, string File, double P99TargetMs);

internal sealed record BenchOptions(int Open, int Archived, int Issuers, int Sessions, bool Reuse, string Database)
{
    public int Duration { get; init; } = 20;

    /// <summary>Seconds of wrk before the measurements of each mix (JIT, prepared statements, buffers).</summary>
    public int Warmup { get; init; } = 20;
    public int[] Connections { get; init; } = [16, 2];
    public int Urls { get; init; } = 1000;
    public int Port { get; init; } = 5186;
    public int Scripts { get; init; } = 100;

    /// <summary>Where the Markdown report goes, relative to the repository (the smoke test writes elsewhere).</summary>
    public string ReportPath { get; init; } = Path.Combine("docs", "benchmarks.md");

    /// <summary>The app build to start: Release for figures; the smoke test runs the Debug build `dotnet test` made.</summary>
    public string AppConfiguration { get; init; } = "Release";

    /// <summary>Seconds of the 64-connection load run (issue 9); 0 skips it.</summary>
    public int LoadDuration { get; init; } = 60;
    public bool NoHttp { get; init; }
    public bool NoSql { get; init; }
    public bool NoExpiry { get; init; }
    public int Overdue { get; init; } = 100_000;
    public bool Start { get; init; }

    /// <summary>Subscriber counts of the digest benchmark (--digest 10000,100000); none: not run.</summary>
    public int[] Digest { get; init; } = [];

    /// <summary>Where the digest's subscribers live: départements (the earlier runs), communes (issue 22), or both.</summary>
    public string[] DigestGranularities { get; init; } = ["départements", "communes"];

    /// <summary>Subscribers of a digest run with DKIM on (communes); 0: none.</summary>
    public int DigestDkim { get; init; }

    /// <summary>Subscribers of the two-node SIGKILL takeover measurement (issue 23, item 3); 0: not run.</summary>
    public int Failover { get; init; }

    public static BenchOptions Parse(string[] args)
    {
        int Int(string name, int fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
        }

        string? Text(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

        var db = Text("--database") ?? "opportunites_bench";
        var conns = Array.IndexOf(args, "--connections") is var c and >= 0 && c + 1 < args.Length
            ? args[c + 1].Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray()
            : [16, 2];
        return new BenchOptions(Int("--open", 100_000), Int("--archived", 1_000_000), Int("--issuers", 5_000),
            Int("--sessions", Math.Max(2, Environment.ProcessorCount)), args.Contains("--reuse"), db)
        {
            Duration = Int("--duration", 20),
            Warmup = Int("--warmup", Math.Max(10, Int("--duration", 20))),
            Connections = conns,
            Urls = Int("--urls", 1000),
            Port = Int("--port", 5186),
            Scripts = Math.Min(120, Int("--scripts", 100)),
            LoadDuration = Int("--load-duration", 60),
            ReportPath = Text("--report") ?? Path.Combine("docs", "benchmarks.md"),
            AppConfiguration = Text("--app-configuration") ?? "Release",
            NoHttp = args.Contains("--no-http"),
            NoSql = args.Contains("--no-sql"),
            Digest = Array.IndexOf(args, "--digest") is var g and >= 0 && g + 1 < args.Length ? DigestBench.ParseCounts(args[g + 1]) : [],
            DigestGranularities = Text("--digest-granularity")?.Split(',') ?? ["départements", "communes"],
            DigestDkim = Int("--digest-dkim", 0),
            Failover = Int("--failover", 0),
            NoExpiry = args.Contains("--no-expiry"),
            Overdue = Int("--overdue", 100_000),
            Start = args.Contains("--start"),
        };
    }
}

internal sealed class Report
{
    private readonly List<(string Name, string Detail, double Value, string Unit)> _rows = [];
    private readonly List<string> _notes = [];
    private readonly List<(string Title, string Plan)> _plans = [];

    public void Add(string name, string detail, double value, string unit) => _rows.Add((name, detail, value, unit));

    public void Note(string note) => _notes.Add(note);

    /// <summary>A figure with its target (null when none applies) and whether it is met.</summary>
    public void Check(string name, double value, string unit, string? target, bool? met, string detail = "")
    {
        var verdict = target is null ? "" : $"objectif {target} : {(met == true ? "atteint" : "NON atteint")}";
        Add(name, string.Join(" ; ", new[] { verdict, detail }.Where(x => x.Length > 0)), value, unit);
    }

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
        w.WriteLine($"Produit par `./bench.sh --open {o.Open} --archived {o.Archived} --duration {o.Duration}` " +
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
