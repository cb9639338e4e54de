using System.Text.RegularExpressions;
using Dapper;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Playwright;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Opportunities;
using static Microsoft.Playwright.Assertions;

namespace Opportunites.Tests.Browser;

/// <summary>
/// The territory field everywhere (js/territoire-champ.js, Pages/Shared/_TerritoryField.cshtml): a combobox used with
/// the keyboard alone, the same field without JavaScript (a text the server resolves, a choice for a shared name), and
/// the alert form prefilled from a board search. A database of the fixture's own: it adds two communes named
/// Saint-Denis (93 and 974) and Bègles, which would change the other tests' territory counts.
/// </summary>
public sealed class TerritoryFieldTests : BrowserTest
{
    private PrivateDatabase? db;

    private PrivateDatabase Db => db ?? throw new InvalidOperationException("The database is not created.");

    protected override string ConnectionString => Db.ConnectionString;

    protected override async Task StartServicesAsync()
    {
        db = await PrivateDatabase.CreateAsync("opportunites_territoires");
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await conn.ExecuteAsync("""
            INSERT INTO territories (code, insee_code, name, level, parent_code, lineage) VALUES
              ('C93066', '93066', 'Saint-Denis', 'commune', '93', '{FR,R11,93,C93066}'),
              ('C97411', '97411', 'Saint-Denis', 'commune', '974', '{FR,R04,974,C97411}'),
              ('C33039', '33039', 'Bègles', 'commune', '33', '{FR,R75,33,C33039}')
            ON CONFLICT (code) DO NOTHING
            """);
    }

    protected override async Task StopServicesAsync()
    {
        if (db is not null)
        {
            await db.DisposeAsync();
        }
    }

    protected override void ConfigureApp(IWebHostBuilder builder) => BrowserAccounts.RaiseFormLimits(builder);

    private async Task<(string[] Territories, string[] Kinds, string[] Themes)?> SavedPreferencesAsync(string email)
    {
        await using var conn = await Db.DataSource.OpenConnectionAsync();
        var row = await conn.QuerySingleOrDefaultAsync<(string[], string[], string[])?>("""
            SELECT d.territory_codes, d.kinds, d.themes
            FROM digest_subscriptions d JOIN subscribers s ON s.id = d.subscriber_id
            WHERE s.email = @email
            """, new { email });
        return row;
    }

    private static ILocator LiveRegion(IPage page) => page.Locator(".territory-field [aria-live=polite]");

    [Test]
    public async Task Combobox_KeyboardOnly_SuggestsChoosesRemovesAndSubscribes()
    {
        var email = $"combobox-{Guid.NewGuid():N}@example.org";
        await Page.GotoAsync("/alertes");
        await TabToAsync(Page, Page.GetByLabel("Adresse email"));
        await Page.Keyboard.TypeAsync(email);

        var field = TerritoryCombobox.Field(Page, "Territoires");
        await TabToAsync(Page, field, maxPresses: 3);
        await AssertFocusVisibleAsync(Page, "champ Territoires");
        await Expect(field).ToHaveAttributeAsync("aria-expanded", "false");
        await Expect(field).ToHaveAttributeAsync("aria-autocomplete", "list");
        var listbox = Page.Locator("#" + await field.GetAttributeAsync("aria-controls"));
        await Expect(listbox).ToHaveAttributeAsync("role", "listbox");

        // Typing opens the list and the live region says how many places match.
        await Page.Keyboard.TypeAsync("saint-d");
        await Expect(field).ToHaveAttributeAsync("aria-expanded", "true");
        var options = listbox.GetByRole(AriaRole.Option);
        await Expect(options).Not.ToHaveCountAsync(0);
        var count = await options.CountAsync();
        Assert.That(count, Is.GreaterThanOrEqualTo(3), "both Saint-Denis and Seine-Saint-Denis");
        await Expect(LiveRegion(Page)).ToContainTextAsync($"{count} territoires proposés");
        await AssertNoSeriousAxeViolationsAsync(Page, "/alertes, liste des territoires ouverte");

        // Arrows move the highlighted option (aria-activedescendant), Home and End jump to the ends, and it wraps.
        var first = await options.First.GetAttributeAsync("id");
        var last = await options.Last.GetAttributeAsync("id");
        await Page.Keyboard.PressAsync("ArrowDown");
        await Expect(field).ToHaveAttributeAsync("aria-activedescendant", first!);
        await Expect(options.First).ToHaveAttributeAsync("aria-selected", "true");
        await Page.Keyboard.PressAsync("End");
        await Expect(field).ToHaveAttributeAsync("aria-activedescendant", last!);
        await Page.Keyboard.PressAsync("Home");
        await Expect(field).ToHaveAttributeAsync("aria-activedescendant", first!);
        await Page.Keyboard.PressAsync("ArrowUp");
        await Expect(field).ToHaveAttributeAsync("aria-activedescendant", last!);

        // Escape closes the list, then empties the text.
        await Page.Keyboard.PressAsync("Escape");
        await Expect(field).ToHaveAttributeAsync("aria-expanded", "false");
        await Expect(field).Not.ToHaveAttributeAsync("aria-activedescendant", new Regex("."));
        await Expect(field).ToHaveValueAsync("saint-d");
        await Page.Keyboard.PressAsync("Escape");
        await Expect(field).ToHaveValueAsync("");

        // The Saint-Denis of La Réunion, reached with the arrows, becomes a chip.
        await Page.Keyboard.TypeAsync("Saint-Denis");
        var reunion = listbox.GetByRole(AriaRole.Option).Filter(new() { HasText = "974" });
        await Expect(reunion).ToHaveCountAsync(1);
        var reunionId = await reunion.GetAttributeAsync("id");
        for (var i = 0; i < 10 && await field.GetAttributeAsync("aria-activedescendant") != reunionId; i++)
        {
            await Page.Keyboard.PressAsync("ArrowDown");
        }

        var reunionLabel = (await reunion.Locator(".territory-option-label").TextContentAsync())!.Trim();
        await Page.Keyboard.PressAsync("Enter");
        await Expect(TerritoryCombobox.Chip(Page, reunionLabel)).ToBeVisibleAsync();
        await Expect(field).ToBeFocusedAsync();
        await Expect(field).ToHaveValueAsync("");
        await Expect(field).ToHaveAttributeAsync("aria-expanded", "false");
        await Expect(LiveRegion(Page)).ToContainTextAsync(reunionLabel + " ajouté");

        // A département by its number.
        await Page.Keyboard.TypeAsync("33");
        await Expect(field).ToHaveAttributeAsync("aria-expanded", "true");
        await Page.Keyboard.PressAsync("ArrowDown");
        await Page.Keyboard.PressAsync("Enter");
        await Expect(TerritoryCombobox.Chip(Page, "Gironde (33)")).ToBeVisibleAsync();
        await Expect(LiveRegion(Page)).ToContainTextAsync("2 territoires choisis");

        // Tab reaches the first chip; Enter removes it and focus moves to the next chip.
        var reunionChip = TerritoryCombobox.Chip(Page, reunionLabel);
        await TabToAsync(Page, reunionChip, maxPresses: 2);
        await AssertFocusVisibleAsync(Page, "puce " + reunionLabel);
        await Page.Keyboard.PressAsync("Enter");
        await Expect(reunionChip).ToHaveCountAsync(0);
        await Expect(TerritoryCombobox.Chip(Page, "Gironde (33)")).ToBeFocusedAsync();
        await Expect(LiveRegion(Page)).ToContainTextAsync(reunionLabel + " retiré");

        var submit = Page.GetByRole(AriaRole.Button, new() { Name = "M'abonner" });
        await TabToAsync(Page, submit, maxPresses: 40);
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Page.GetByRole(AriaRole.Status)).ToContainTextAsync("Vérifiez votre boîte mail");
        var saved = await SavedPreferencesAsync(email);
        Assert.That(saved?.Territories, Is.EqualTo(new[] { "33" }));
    }

    [Test]
    public async Task WithoutJavaScript_SharedNameShowsChoice_ChosenOneIsSaved()
    {
        var email = $"sans-js-{Guid.NewGuid():N}@example.org";
        var page = await NewPageAsync(new BrowserNewContextOptions { JavaScriptEnabled = false });
        await page.GotoAsync("/alertes");
        await page.GetByLabel("Adresse email").FillAsync(email);
        // A plain text box: no combobox without the script.
        await Expect(page.GetByRole(AriaRole.Combobox)).ToHaveCountAsync(0);
        await page.GetByRole(AriaRole.Textbox, new() { Name = "Territoires", Exact = true }).FillAsync("saint denis, begles");
        await page.GetByRole(AriaRole.Button, new() { Name = "M'abonner" }).ClickAsync();

        // Bègles is known at once; Saint-Denis is two places: the page asks which, and never says "inconnu".
        var choice = page.GetByRole(AriaRole.Group, new() { Name = "Plusieurs territoires correspondent à « saint denis » : choisissez" });
        await Expect(choice).ToBeVisibleAsync();
        await Expect(page.GetByText("inconnu")).ToHaveCountAsync(0);
        await Expect(page.GetByRole(AriaRole.Checkbox, new() { Name = "Bègles (33)" })).ToBeCheckedAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Plusieurs territoires correspondent à « saint denis »");
        Assert.That(await SavedPreferencesAsync(email), Is.Null, "nothing is saved before the choice");

        await choice.GetByRole(AriaRole.Checkbox, new() { Name = "Saint-Denis (93)", Exact = false }).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "M'abonner" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Vérifiez votre boîte mail");
        var saved = await SavedPreferencesAsync(email);
        Assert.That(saved?.Territories, Is.EqualTo(new[] { "C33039", "C93066" }));
    }

    [Test]
    public async Task WithoutJavaScript_BoardTypedTerritory_ResolvedAndKeptAsChoice()
    {
        var page = await NewPageAsync(new BrowserNewContextOptions { JavaScriptEnabled = false });
        await page.GotoAsync("/offres");
        // Without the script the filters stay folded (a <details>) until opened.
        await page.Locator("details.filters-fold > summary").ClickAsync();
        await page.GetByRole(AriaRole.Textbox, new() { Name = "Territoires", Exact = true }).FillAsync("Saint-Denis");
        await page.GetByRole(AriaRole.Button, new() { Name = "Rechercher" }).First.ClickAsync();

        await Expect(page.GetByRole(AriaRole.Group, new() { Name = "Plusieurs territoires correspondent à « Saint-Denis » : choisissez" }))
            .ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Checkbox, new() { Name = "Saint-Denis (974)", Exact = false }).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Rechercher" }).First.ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex("territoire=C97411"));
        // Kept as the field's chosen territory (inside the folded filters).
        await Expect(page.Locator("input[type=checkbox][name=territoire][value=C97411]")).ToBeCheckedAsync();
        await Expect(page.Locator("#resultats-titre")).ToBeVisibleAsync();
    }

    [Test]
    public async Task AlertFromSearch_BoardParameters_FormPrefilled()
    {
        await Page.GotoAsync("/alertes?territoire=33&territoire=C33039&type=aap&type=ami&theme=numerique");

        await Expect(TerritoryCombobox.Chip(Page, "Gironde (33)")).ToBeVisibleAsync();
        await Expect(TerritoryCombobox.Chip(Page, "Bègles (33)")).ToBeVisibleAsync();
        await Expect(Page.GetByRole(AriaRole.Checkbox, new() { Name = "Offre d'emploi" })).Not.ToBeCheckedAsync();
        await Expect(Page.GetByRole(AriaRole.Checkbox, new() { Name = "Appel à projets" })).ToBeCheckedAsync();
        await Expect(Page.GetByRole(AriaRole.Checkbox, new() { Name = "Appel à manifestation d'intérêt" })).ToBeCheckedAsync();
        await Expect(Page.GetByRole(AriaRole.Checkbox, new() { Name = "Numérique" })).ToBeCheckedAsync();
        await AssertNoSeriousAxeViolationsAsync(Page, "/alertes préremplie depuis une recherche");

        // axe-core needs JavaScript: the choice for a shared name is checked here, as the server renders it.
        var choicePage = await NewPageAsync();
        await choicePage.GotoAsync("/alertes?territoire=Saint-Denis");
        await Expect(choicePage.GetByRole(AriaRole.Group, new() { Name = "Plusieurs territoires correspondent à « Saint-Denis » : choisissez" }))
            .ToBeVisibleAsync();
        await AssertNoSeriousAxeViolationsAsync(choicePage, "/alertes, choix entre deux Saint-Denis");

        var email = $"depuis-recherche-{Guid.NewGuid():N}@example.org";
        await Page.GetByLabel("Adresse email").FillAsync(email);
        await Page.GetByRole(AriaRole.Button, new() { Name = "M'abonner" }).ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Status)).ToContainTextAsync("Vérifiez votre boîte mail");
        var saved = await SavedPreferencesAsync(email);
        Assert.That(saved?.Territories, Is.EqualTo(new[] { "33", "C33039" }));
        Assert.That(saved?.Kinds, Is.EqualTo(new[] { Kinds.Aap, Kinds.Ami }));
        Assert.That(saved?.Themes, Is.EqualTo(new[] { "numerique" }));
    }

    [Test]
    public async Task TerritoryField_OnPhone_ListAndChipsFitTheScreen()
    {
        var phone = await NewPhonePageAsync();
        await phone.GotoAsync("/alertes?territoire=C97411");
        var field = TerritoryCombobox.Field(phone, "Territoires");
        await field.FillAsync("saint");
        await Expect(field).ToHaveAttributeAsync("aria-expanded", "true");
        await AssertNoHorizontalScrollAsync(phone, "/alertes sur téléphone, liste ouverte");
        await AssertNoSeriousAxeViolationsAsync(phone, "/alertes sur téléphone, liste ouverte");
    }
}
