using Opportunites.Web.Data;
using Opportunites.Web.Demo;
using Opportunites.Web.Digests;
using Opportunites.Web.Jobs;
using Opportunites.Web.Subscriptions;

namespace Opportunites.Web.Cli;

/// <summary>
/// Verbs of the app (`dotnet run --project src/Opportunites.Web -- migrate`). They use the app's own configuration
/// (appsettings + environment), so they work wherever `./run.sh` does, with no extra setting.
/// </summary>
public static class CommandLine
{
    private const string Usage = """
        Usage : Opportunites.Web [verbe]
          (aucun)   démarre le site
          migrate   applique les migrations de db/migrations puis s'arrête
          demo      applique les migrations et charge les données de démonstration si la base est vide
          admin create EMAIL
                    crée (ou promeut) un administrateur et affiche un lien à usage unique pour choisir son mot de passe
          import FICHIER [--territoire CODE]
                    importe des offres (lignes de lettre d'information .txt, ou CSV) ; CODE : territoire des lignes
                    dont le territoire n'est pas reconnu (défaut : FR)
          veille [hebdo|quotidienne]
                    met en file la veille par email de la période en cours (sans doublon si déjà faite)
          rappels   met en file les rappels de date limite dus (J-7, J-1) et efface les adresses non confirmées
          jobs list              liste les tâches planifiées
          jobs run <tâche>       exécute une tâche une fois, maintenant (expire, deliver, ...)
        """;

    /// <returns>true when a verb ran (the process should exit), false to start the web app.</returns>
    public static async Task<bool> TryRunAsync(WebApplication app, string[] args)
    {
        // The first argument is the verb; options (--urls x, Key=Value) belong to the host configuration.
        if (args.Length == 0 || args[0].StartsWith('-') || args[0].Contains('='))
        {
            return false;
        }

        var verbs = args;

        var services = app.Services;
        switch (verbs[0])
        {
            case "migrate":
                var applied = await services.GetRequiredService<Migrator>().MigrateAsync();
                Console.WriteLine($"Migrations : {applied} appliquée(s), base à jour.");
                break;
            case "demo":
                await services.GetRequiredService<Migrator>().MigrateAsync();
                var loaded = await ActivatorUtilities.CreateInstance<DemoData>(services).LoadIfEmptyAsync();
                Console.WriteLine(loaded > 0 ? $"Démonstration : {loaded} offres chargées." : "Démonstration : la base contient déjà des offres.");
                break;
            case "admin":
                await AccountsCommands.AdminAsync(services, verbs);
                break;
            case "import":
                await AccountsCommands.ImportAsync(services, verbs);
                break;
            case "veille":
                await services.GetRequiredService<Migrator>().MigrateAsync();
                var frequency = verbs.Length > 1 && verbs[1] == "quotidienne" ? Frequencies.Daily : Frequencies.Weekly;
                var digest = await services.GetRequiredService<DigestRunner>().RunAsync(DateTimeOffset.UtcNow, frequency);
                Console.WriteLine($"Veille {digest.Period} : {digest.Queued} email(s) en file, {digest.Empty} sans contenu, " +
                    $"{digest.AlreadySent} déjà servi(s), {digest.Groups} groupe(s) de préférences, {(int)digest.Duration.TotalMilliseconds} ms.");
                break;
            case "rappels":
                await services.GetRequiredService<Migrator>().MigrateAsync();
                var reminders = await services.GetRequiredService<ReminderRunner>().RunAsync(DateTimeOffset.UtcNow);
                Console.WriteLine($"Rappels : {reminders.Queued} email(s) en file, {reminders.Purged} adresse(s) non confirmée(s) effacée(s).");
                break;
            case "jobs":
                await RunJobsVerbAsync(services, verbs);
                break;
            case "help" or "aide":
                Console.WriteLine(Usage);
                break;
            default:
                await Console.Error.WriteLineAsync($"Verbe inconnu : {verbs[0]}\n{Usage}");
                Environment.ExitCode = 2;
                break;
        }

        return true;
    }

    private static async Task RunJobsVerbAsync(IServiceProvider services, string[] verbs)
    {
        var registry = services.GetRequiredService<JobsRegistry>();
        var names = string.Join(", ", registry.All.Select(j => j.Name).Order(StringComparer.Ordinal));
        if (verbs.Length >= 2 && verbs[1] == "list")
        {
            var settings = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<JobsSettings>>().Value;
            foreach (var job in registry.All.OrderBy(j => j.Name, StringComparer.Ordinal))
            {
                var cron = settings.CronFor(job);
                Console.WriteLine($"{job.Name,-20} {cron,-18} {JobSchedules.Describe(cron),-28} {job.Label}");
            }

            return;
        }

        if (verbs.Length != 3 || verbs[1] != "run" || registry.Find(verbs[2]) is null)
        {
            await Console.Error.WriteLineAsync($"Usage : jobs run <tâche> (tâches : {names}) | jobs list");
            Environment.ExitCode = 2;
            return;
        }

        // Same path as a Hangfire run (job_runs ledger included), in the foreground, on this process.
        var runner = services.GetRequiredService<JobRunner>();
        var result = await runner.RunAsync(new JobRunContext(verbs[2], DateTimeOffset.UtcNow, "cli", Environment.UserName), CancellationToken.None);
        var counts = string.Join(", ", result.Counts.Select(c => $"{c.Key} = {c.Value}"));
        Console.WriteLine($"Tâche {verbs[2]} : {result.Outcome} en {result.DurationMs} ms{(counts.Length > 0 ? " — " + counts : "")}");
        if (result.Error is not null)
        {
            await Console.Error.WriteLineAsync(result.Error);
            Environment.ExitCode = 1;
        }
    }
}
