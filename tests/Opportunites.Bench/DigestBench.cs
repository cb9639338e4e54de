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
    /// [--app-configuration Release] [--granularity départements,communes] [--dkim 10000] [--failover 30000]</c></summary>
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

        await RunAsync(db, benchCs, FindRepoRoot(), subscribers, connections, port, report, configuration,
            Opt("--granularity", $"{DigestMeasurement.Departements},{DigestMeasurement.Communes}").Split(','),
            int.Parse(Opt("--dkim", "0"), CultureInfo.InvariantCulture));
        if (int.Parse(Opt("--failover", "0"), CultureInfo.InvariantCulture) is > 0 and var failover)
        {
            await FailoverBench.RunAsync(db, benchCs, FindRepoRoot(), failover, port + 1, report, configuration);
        }

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
        int connections, int port, Report report, string configuration = "Release", IReadOnlyList<string>? granularities = null,
        int dkimSubscribers = 0)
    {
        if (!File.Exists(DigestMeasurement.SmtpSource))
        {
            throw new InvalidOperationException("smtp-source introuvable : apt-get install -y --no-install-recommends postfix (tools/provision.sh bench)");
        }

        report.Note(await DigestMeasurement.EnsureWeekOfNewAsync(db));
        var all = new List<DigestFigures>();
        foreach (var granularity in granularities ?? [DigestMeasurement.Departements, DigestMeasurement.Communes])
        {
            var runs = new List<DigestFigures>();
            foreach (var n in subscriberCounts)
            {
                var f = await DigestMeasurement.MeasureAsync(db, connectionString, repoRoot, n, connections, port, configuration, granularity: granularity);
                runs.Add(f);
                AddRows(report, f, $"veille {n:N0} abonnés ({granularity})");
            }

            if (runs.Count >= 2)
            {
                var small = runs.MinBy(p => p.Subscribers)!;
                var large = runs.MaxBy(p => p.Subscribers)!;
                var spread = Math.Abs(large.PeakRssMb - small.PeakRssMb) / small.PeakRssMb;
                report.Check($"veille ({granularity}) : écart de RSS max {small.Subscribers:N0} / {large.Subscribers:N0} abonnés", spread * 100, "%",
                    $"≤ {RssSpread * 100:0} %", spread <= RssSpread, $"{small.PeakRssMb:0} Mo contre {large.PeakRssMb:0} Mo");
            }

            all.AddRange(runs);
        }

        if (dkimSubscribers > 0)
        {
            await DkimRunAsync(db, connectionString, repoRoot, dkimSubscribers, connections, port, report, configuration, all);
        }

        report.Note("Veille, ce qui limite : le processeur (2 cœurs partagés entre PostgreSQL, l'application et smtp-sink, lui-même " +
                    "limité à un cœur : c'est ce qui borne smtp-source). Le corps de chaque groupe de préférences (~45 Ko ici : 40 " +
                    "nouveautés + 40 clôtures, plafond Alertes:MaxItemsPerSection) est écrit une fois (outbox_bodies, 0063), chaque abonné " +
                    "n'ayant que ses liens, et les lignes de chaque offre une fois pour tous les corps qui la citent (outbox_fragments, " +
                    "0107) ; la tâche veille demande l'envoi dès son premier lot écrit ; la livraison (MailKit, connexions " +
                    "NoDelay gardées, un fil chacune) encode chaque fragment et chaque corps une fois (MimeKit), personnalise et envoie sur la première " +
                    "connexion libre. Abonnés « communes » : la commune de chacun tirée par population (10 % deux communes) : bien plus de " +
                    "groupes de préférences, donc de corps rendus, qu'avec des départements.");
    }

    /// <summary>
    /// The same digest with DKIM on (a 2048-bit key made for the run, the app's .NET RSA signer): CPU per message against
    /// the run without DKIM at the same count and granularity, and the in-process cost of one signature.
    /// </summary>
    private static async Task DkimRunAsync(NpgsqlDataSource db, string connectionString, string repoRoot, int n, int connections, int port,
        Report report, string configuration, IReadOnlyList<DigestFigures> plain)
    {
        var folder = Directory.CreateTempSubdirectory("bench-dkim-").FullName;
        try
        {
            using (var rsa = System.Security.Cryptography.RSA.Create(2048))
            {
                await File.WriteAllTextAsync(Path.Combine(folder, "dkim.pem"), rsa.ExportRSAPrivateKeyPem());
            }

            var settings = new Dictionary<string, string>
            {
                ["Mail__Dkim__Domain"] = "opportunites.test",
                ["Mail__Dkim__Selector"] = "bench",
                ["Mail__Dkim__PrivateKeyPath"] = Path.Combine(folder, "dkim.pem"),
            };
            var f = await DigestMeasurement.MeasureAsync(db, connectionString, repoRoot, n, connections, port, configuration, settings,
                DigestMeasurement.Communes);
            var label = $"veille {n:N0} abonnés ({f.Granularity}), DKIM activé";
            report.Check($"{label} : messages envoyés", f.Sent, "", $"= {f.Queued:N0} mis en file", f.Sent == f.Queued && f.Failed == 0, $"{f.Failed} en échec");
            report.Add($"{label} : débit de bout en bout", $"smtp-source {f.SourceRate:0} msg/s, ratio {f.Ratio.ToString("0.00", CultureInfo.InvariantCulture)}", f.Rate, "msg/s");
            report.Add($"{label} : CPU de l'application par message", "signature rsa-sha256 (clé 2048 bits, RSA de .NET) comprise", f.CpuMicrosPerMessage, "µs");
            if (plain.FirstOrDefault(p => p.Subscribers == n && p.Granularity == f.Granularity) is { } without)
            {
                report.Add($"{label} : surcoût de CPU par message", $"contre {without.CpuMicrosPerMessage:0} µs sans DKIM dans la même exécution",
                    f.CpuMicrosPerMessage - without.CpuMicrosPerMessage, "µs");
                report.Add($"{label} : ratio débit avec / sans DKIM", "", f.Rate / without.Rate, "");
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void AddRows(Report report, DigestFigures f, string label)
    {
        var n = f.Subscribers;
        report.Add($"{label} : génération des abonnés", f.Granularity == DigestMeasurement.Communes
            ? "INSERT … SELECT, une commune tirée par population (10 % deux), 40 % avec un choix de types commun"
            : "INSERT … SELECT, 40 % sur 50 jeux de préférences communs", f.Generated.TotalSeconds, "s");
        report.Check($"{label} : messages envoyés", f.Sent, "", $"= {f.Queued:N0} mis en file", f.Sent == f.Queued && f.Failed == 0,
            $"{f.Empty:N0} sans contenu, {f.Failed} en échec");
        report.Add($"{label} : groupes de préférences distincts", $"{f.Bodies:N0} corps distincts écrits (outbox_bodies : un par contenu, des groupes aux mêmes offres le partagent ; "
            + $"les lignes de chaque offre une fois, {f.Fragments:N0} fragments) pour {f.Sent:N0} messages, "
            + $"{(f.Bodies == 0 ? 0 : (double)f.Sent / f.Bodies).ToString("0.0", CultureInfo.InvariantCulture)} messages par corps", f.Groups, "");
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

        report.Add($"{label} : smtp-source -d -s {f.SourceSessions} -l {f.AverageSize}",
            $"même sink, même nombre, même taille ; médiane de {f.SourceRates.Count} exécutions : "
            + string.Join(" / ", f.SourceRates.Select(r => r.ToString("N0", CultureInfo.InvariantCulture))) + " msg/s", f.SourceRate, "msg/s");
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
