using Microsoft.AspNetCore.Hosting;
using Microsoft.Playwright;
using Opportunites.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Opportunites.Tests.Browser;

/// <summary>The subscribe form and the post form on a 375×667 phone: no sideways scrolling, errors shown included.</summary>
public sealed class AccountAlertPagesPhoneTests : BrowserTest
{
    protected override void ConfigureApp(IWebHostBuilder builder) => BrowserAccounts.RaiseFormLimits(builder);

    [Test]
    public async Task SubscribePage_OnPhone_NoHorizontalScroll()
    {
        var phone = await NewPhonePageAsync();
        await phone.GotoAsync("/alertes");
        await AssertNoHorizontalScrollAsync(phone, "/alertes sur téléphone");

        await phone.GetByLabel("Adresse email").FillAsync("marie@association");
        await phone.GetByLabel("Territoires").SelectOptionAsync("33");
        await phone.GetByRole(AriaRole.Button, new() { Name = "M'abonner" }).ClickAsync();

        await Expect(phone.GetByRole(AriaRole.Alert)).ToBeVisibleAsync();
        await AssertNoHorizontalScrollAsync(phone, "/alertes avec erreurs sur téléphone");
    }

    [Test]
    public async Task PostForm_OnPhone_NoHorizontalScroll()
    {
        var user = await TestUsers.CreateAsync(SharedDatabase.DataSource);
        var phone = await NewPhonePageAsync();
        await BrowserAccounts.LogInAsync(phone, user.Email, user.Password);
        await phone.GotoAsync("/espace/offres/nouvelle");
        await AssertNoHorizontalScrollAsync(phone, "/espace/offres/nouvelle sur téléphone");

        await phone.GetByRole(AriaRole.Button, new() { Name = "Soumettre à validation" }).ClickAsync();

        await Expect(phone.GetByRole(AriaRole.Alert).First).ToContainTextAsync("erreur");
        await AssertNoHorizontalScrollAsync(phone, "/espace/offres/nouvelle avec erreurs sur téléphone");
    }
}
