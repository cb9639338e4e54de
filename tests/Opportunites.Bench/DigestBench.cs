using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Opportunites.Web.Data;
using Opportunites.Web.Digests;
using Opportunites.Web.Mail;
using Opportunites.Web.Shared;

namespace Opportunites.Bench;

/// <summary>
/// The digest benchmark (issue 8, item 3) as a verb and as rows of the report, with its targets; the measurement
/// itself is <see cref="DigestMeasurement"/> (Release build of the app, 10 k and 100 k subscribers by default).
/// </summary>
internal static class DigestBench
{
    // Issue 23: with MailKit, ≥ 0.45 × smtp-source over the same connections and message size.
    private const double RatioTarget = 0.45;
    private const double MinRate = 1_000;

    // The digest the issue measures (item 3): 100,000 confirmed subscribers.
    private const int RatioScale = 100_000;
    private const double MaxRssMb = 300;
    private const double RssSpread = 0.20;

    /// <summary><c>./bench.sh digest [--subscribers 10000,100000] [--open N] [--database NAME] [--connections 8] [--port P] [--fresh]
    /// [--app-configuration Release]</c></summary>
    public static async Task<int> RunAsync(string[] args)
    {
        string Opt(string name, string fallback) =>
            Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;

        var subscribers = ParseCounts(Opt("--subscribers", "10000,100000"));
        var open = int.Parse(Opt("--open", "100000"), CultureInfo.InvariantCulture);
        var database = Opt("--database", "opportunites_bench_digest");
        var connections = int.Parse(Opt("--connections", "8"), CultureInfo.InvariantCulture);
        var port = int.Parse(Opt("--port", "5187"), CultureInfo.InvariantCulture);
        var configuration = Opt("--app-configuration", "Release");
        DefaultTypeMap.MatchNamesWithUnderscores = true;

        var server = Environment.GetEnvironmentVariable("ConnectionStrings__Default") is { Length: > 0 } cs
            ? cs
            : "Host=127.0.0.1;Port=54329;Database=opportunites;Username=opportunites";
        var benchCs = new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString;
        await using (var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server) { Database = "postgres", Pooling = false }.ConnectionString))
        {
            await admin.OpenAsync();
            if (args.Contains("--fresh"))
            {
                await admin.ExecuteAsync($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
            }

            if (!await admin.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = @database)", new { database }))
            {
                await admin.ExecuteAsync($"CREATE DATABASE \"{database}\"");
            }
        }

        await using var db = DataExtensions.CreateDataSource(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Default"] = benchCs }).Build());
        await new Migrator(db, NullLogger<Migrator>.Instance).MigrateAsync();

        var report = new Report();
        await using (var conn = await db.OpenConnectionAsync())
        {
            var published = await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM opportunities WHERE status = 'published'");
            if (published < open)
            {
                // Reused across runs: only a database without enough open offers is (re)loaded.
                await conn.ExecuteAsync("TRUNCATE opportunities, issuers RESTART IDENTITY CASCADE");
                Console.Error.WriteLine($"Chargement de {open:N0} offres ouvertes…");
                var took = await new DatasetLoader(db).LoadAsync(open, 0, Math.Max(100, open / 20), Math.Max(2, Environment.ProcessorCount));
                report.Add("veille : chargement des offres", $"{open:N0} offres ouvertes", took.TotalSeconds, "s");
            }
        }

        await RunAsync(db, benchCs, FindRepoRoot(), subscribers, connections, port, report, configuration);
        report.Print();
        return 0;
    }

    public static int[] ParseCounts(string list) =>
        [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(x => int.Parse(x, CultureInfo.InvariantCulture))];

    /// <summary>
    /// The digest measurements on an already loaded database (open offers present), as rows of <paramref name="report"/>;
    /// called by the verb above and by the main benchmark run (<c>--digest 10000,100000</c>). Replaces the subscribers,
    /// ledgers and outbox of that database.
    /// </summary>
    public static async Task RunAsync(NpgsqlDataSource db, string connectionString, string repoRoot, IReadOnlyList<int> subscriberCounts,
        int connections, int port, Report report, string configuration = "Release")
    {
        if (!File.Exists(DigestMeasurement.SmtpSource))
        {
            throw new InvalidOperationException("smtp-source introuvable : apt-get install -y --no-install-recommends postfix (tools/provision.sh bench)");
        }

        report.Note(await DigestMeasurement.EnsureWeekOfNewAsync(db));
        var runs = new List<DigestFigures>();
        foreach (var n in subscriberCounts)
        {
            var f = await DigestMeasurement.MeasureAsync(db, connectionString, repoRoot, n, connections, port, configuration);
            runs.Add(f);
            var label = $"veille {n:N0} abonnés";
            report.Add($"{label} : génération des abonnés", "INSERT … SELECT, 40 % sur 50 jeux de préférences communs", f.Generated.TotalSeconds, "s");
            report.Check($"{label} : messages envoyés", f.Sent, "", $"= {f.Queued:N0} mis en file", f.Sent == f.Queued && f.Failed == 0,
                $"{f.Groups:N0} groupes de préférences, {f.Empty:N0} sans contenu, {f.Failed} en échec");
            report.Add($"{label} : du début de la tâche au dernier message accepté", "sélection, rendu, registre, file, envoi", f.Elapsed, "s");
            report.Add($"{label} : tâche veille seule", "sélection, rendu, registre, file (job_runs.duration_ms) ; dont lecture des offres "
                + $"{f.OffersSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s, écriture registre + file {f.WriteSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s",
                f.DigestSeconds, "s");
            report.Check($"{label} : débit de bout en bout", f.Rate, "msg/s", $"≥ {MinRate:N0}", f.Rate >= MinRate);
            report.Check($"{label} : connexions SMTP utilisées", f.ConnectionsUsed, "", "≤ 8", f.ConnectionsUsed <= 8,
                $"au plus {f.MaxConcurrentConnections} à la fois");
            report.Add($"{label} : CPU de l'application par message", "MailKit/MimeKit ; de la demande de la tâche au dernier message, veille comprise",
                f.CpuMicrosPerMessage, "µs");
            report.Add($"{label} : taille moyenne d'un message", "MIME complet, 300 messages tirés de la file", f.AverageSize, "o");
            report.Check($"{label} : RSS max de l'application (MailKit)", f.PeakRssMb, "Mo", $"< {MaxRssMb:0} Mo", f.PeakRssMb < MaxRssMb,
                $"{f.StartupRssMb:0} Mo après le démarrage (VmHWM)");
            if (f.Gc is { } gc)
            {
                report.Add($"{label} : collections de l'application (gen0 / gen1 / gen2)",
                    $"{gc.Gen0:N0} / {gc.Gen1:N0} / {gc.Gen2:N0} ; {gc.AllocatedBytes / 1e9:0.0} Go alloués ; tas à la fin {gc.HeapBytes / 1e6:0} Mo, "
                    + $"{gc.CommittedBytes / 1e6:0} Mo validés par le GC dont {gc.FragmentedBytes / 1e6:0} Mo libres",
                    gc.PauseMs / 1000, "s de pause");
            }

            report.Add($"{label} : smtp-source -d -s {f.SourceSessions} -l {f.AverageSize}", "même sink, même nombre, même taille", f.SourceRate, "msg/s");
            if (n >= RatioScale)
            {
                report.Check($"{label} : ratio veille / smtp-source", f.Ratio, "", $"≥ {RatioTarget:0.00}", f.Ratio >= RatioTarget);
            }
            else
            {
                // The issue sets the ratio for the run at 100,000 subscribers; a smaller run is here for its rate and its
                // memory, and its few seconds carry the fixed costs (job start, offers read, first batch) in full.
                report.Add($"{label} : ratio veille / smtp-source", $"pour information : l'objectif ≥ {RatioTarget:0.00} porte sur la veille de {RatioScale:N0} abonnés",
                    f.Ratio, "");
            }
        }

        report.Note("Veille, ce qui limite : le processeur (2 cœurs partagés entre PostgreSQL, l'application et smtp-sink, lui-même " +
                    "limité à un cœur : c'est ce qui borne smtp-source). Le corps de chaque groupe de préférences (~45 Ko ici : 40 " +
                    "nouveautés + 40 clôtures, plafond Alertes:MaxItemsPerSection) est écrit une fois (outbox_bodies, 0063), chaque abonné " +
                    "n'ayant que ses liens ; la tâche veille demande l'envoi dès son premier lot écrit ; la tâche deliver réclame un lot à " +
                    "l'avance, prépare chaque corps une fois, personnalise, encode et envoie sur la première connexion libre ; les marquages " +
                    "« envoyé » des connexions sont écrits ensemble (SentMarks), chaque connexion attendant le sien avant le suivant (un " +
                    "arrêt brutal ne renvoie au plus qu'un message par connexion). Réclamations et marquages sont planifiés à chaque " +
                    "exécution : un plan gardé depuis une file presque vide parcourait toute la table (docs/benchmarks-digest.md).");
        if (runs.Count >= 2)
        {
            var small = runs.MinBy(p => p.Subscribers)!;
            var large = runs.MaxBy(p => p.Subscribers)!;
            var spread = Math.Abs(large.PeakRssMb - small.PeakRssMb) / small.PeakRssMb;
            report.Check($"veille : écart de RSS max {small.Subscribers:N0} / {large.Subscribers:N0} abonnés", spread * 100, "%",
                $"≤ {RssSpread * 100:0} %", spread <= RssSpread, $"{small.PeakRssMb:0} Mo contre {large.PeakRssMb:0} Mo");
        }
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Opportunites.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? Directory.GetCurrentDirectory();
    }
}
