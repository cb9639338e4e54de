using Opportunites.Web.Accounts;
using Opportunites.Web.Data;

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

    public static Task ImportAsync(IServiceProvider services, string[] args)
    {
        _ = services;
        _ = args;
        throw new NotImplementedException();
    }
}
