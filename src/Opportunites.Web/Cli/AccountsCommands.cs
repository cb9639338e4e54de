using Opportunites.Web.Accounts;
using Opportunites.Web.Data;
using Opportunites.Web.Import;
using Opportunites.Web.Moderation;
using Opportunites.Web.Publishing;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Cli;

/// <summary>The accounts feature's verbs: `admin create EMAIL`, `import FILE [--territoire CODE]`.</summary>
public static class AccountsCommands
{
    public static async Task AdminAsync(IServiceProvider services, string[] args)
    {
        if (args.Length != 3 || args[1] != "create")
        {
            await Console.Error.WriteLineAsync("Usage : admin create EMAIL");
            Environment.ExitCode = 2;
            return;
        }

        if (EmailAddress.Check(args[2]) is { } error)
        {
            await Console.Error.WriteLineAsync(error);
            Environment.ExitCode = 2;
            return;
        }

        await services.GetRequiredService<Migrator>().MigrateAsync();
        var link = await services.GetRequiredService<AccountService>().CreateAdminAsync(args[2]);
        Console.WriteLine($"Administrateur {args[2].Trim()} prêt. Lien à usage unique (valable 24 heures) pour choisir le mot de passe :");
        Console.WriteLine(link);
    }

    public static async Task ImportAsync(IServiceProvider services, string[] args)
    {
        string? file = null;
        // No territory by default: a line whose territory is not recognised is "à compléter", never France silently.
        string? territory = null;
        for (var i = 1; i < args.Length; i++)
        {
            if (args[i] is "--territoire" or "--territory" && i + 1 < args.Length)
            {
                territory = args[++i];
            }
            else if (file is null && !args[i].StartsWith("--", StringComparison.Ordinal))
            {
                file = args[i];
            }
        }

        // `dotnet run --project` starts in the project folder: a relative path is the caller's, from $PWD.
        if (file is not null && !Path.IsPathRooted(file) && !File.Exists(file)
            && Environment.GetEnvironmentVariable("PWD") is { Length: > 0 } pwd && File.Exists(Path.Combine(pwd, file)))
        {
            file = Path.Combine(pwd, file);
        }

        if (file is null || !File.Exists(file))
        {
            await Console.Error.WriteLineAsync(file is null ? "Usage : import FICHIER [--territoire CODE]" : $"Fichier introuvable : {file}");
            Environment.ExitCode = 2;
            return;
        }

        await services.GetRequiredService<Migrator>().MigrateAsync();
        if (territory is not null && services.GetRequiredService<TerritoryDirectory>().Resolve(territory) is null)
        {
            await Console.Error.WriteLineAsync($"Territoire inconnu : {territory} (ex. FR, R75, 33).");
            Environment.ExitCode = 2;
            return;
        }

        var text = await File.ReadAllTextAsync(file, System.Text.Encoding.UTF8);
        var result = await services.GetRequiredService<Importer>().ImportAsync(Actor.CommandLine, text, file, new ImportOptions(territory));
        Console.Write(ImportReport.Text(result));
        if (result.FileError is not null || result.Errors.Any())
        {
            Environment.ExitCode = 1;
        }
    }
}
