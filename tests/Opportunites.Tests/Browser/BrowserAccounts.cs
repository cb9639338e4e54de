using Microsoft.AspNetCore.Hosting;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Opportunites.Tests.Browser;

/// <summary>What account and alert journeys in the browser share: logging in through the real form, test settings.</summary>
public static class BrowserAccounts
{
    /// <summary>Rate limits of the account and alert forms are for people, not for a test run that logs in many users.</summary>
    public static void RaiseFormLimits(IWebHostBuilder builder)
    {
        builder.UseSetting("Accounts:RateLimitPermits", "100000");
        builder.UseSetting("Alertes:FormPermitLimit", "100000");
    }

    /// <summary>Logs in through /connexion as a user would (types the address and password, clicks the button).</summary>
    public static async Task LogInAsync(IPage page, string email, string password)
    {
        await page.GotoAsync("/connexion");
        await page.GetByLabel("Adresse email").FillAsync(email);
        await page.GetByLabel("Mot de passe", new() { Exact = true }).FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Se connecter" }).ClickAsync();
        // Logged in: the navigation offers to log out.
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Déconnexion" })).ToBeVisibleAsync();
    }
}
