using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Shared;
using static Microsoft.Playwright.Assertions;

namespace Opportunites.Tests.Browser;

/// <summary>The list of offers used with the keyboard alone (Tab, Space, Enter), focus visible at every step.</summary>
public sealed class BoardKeyboardTests : BrowserTest
{
    [Test]
    public async Task KeyboardOnly_FillsFiltersSubmitsAndOpensResult_FocusVisibleAtEachStep()
    {
        var db = SharedDatabase.DataSource;
        var deadline = ParisTime.Today(TimeProvider.System).AddDays(4);
        var word = UniqueWord();
        var wanted = TestData.Unique($"AAP clavier {word}");
        var job = TestData.Unique($"Emploi clavier {word}");
        await TestData.CreateOpportunityAsync(db, wanted, ["33"], Kinds.Aap, deadline);
        await TestData.CreateOpportunityAsync(db, job, ["33"], Kinds.Emploi, deadline);

        await Page.GotoAsync("/offres");

        var search = Page.GetByRole(AriaRole.Searchbox, new() { Name = "Rechercher" });
        await TabToAsync(Page, search);
        await AssertFocusVisibleAsync(Page, "champ de recherche");
        await Page.Keyboard.TypeAsync(word);

        var aap = Page.GetByRole(AriaRole.Checkbox, new() { Name = "Appel à projets", Exact = true });
        await TabToAsync(Page, aap, maxPresses: 5);
        await AssertFocusVisibleAsync(Page, "case Appel à projets");
        await Page.Keyboard.PressAsync("Space");
        await Expect(aap).ToBeCheckedAsync();

        var territory = TerritoryCombobox.Field(Page, "Territoires");
        await TabToAsync(Page, territory, maxPresses: 5);
        await AssertFocusVisibleAsync(Page, "champ Territoire");
        await Page.Keyboard.TypeAsync("Gironde");
        await Expect(territory).ToHaveAttributeAsync("aria-expanded", "true");
        await Page.Keyboard.PressAsync("ArrowDown");
        await Page.Keyboard.PressAsync("Enter");
        await Expect(TerritoryCombobox.Chip(Page, "Gironde (33)")).ToBeVisibleAsync();

        // The filters' own button, at the end of the fold (the one beside the search box comes before them).
        var submit = Page.GetByRole(AriaRole.Button, new() { Name = "Appliquer les filtres" });
        await TabToAsync(Page, submit, maxPresses: 40);
        await AssertFocusVisibleAsync(Page, "bouton Rechercher");
        await Page.Keyboard.PressAsync("Enter");

        await Expect(Page).ToHaveURLAsync(new Regex($@"/offres\?.*q={word}"));
        await Expect(Page.GetByRole(AriaRole.Heading, new() { Name = "1 offre", Exact = true })).ToBeVisibleAsync();
        await Expect(Page.GetByText(job)).ToHaveCountAsync(0);
        // Every stop of the page with its results (filters kept, feeds, result links) shows where focus is.
        var stops = await AssertEveryTabStopShowsFocusAsync(Page, "liste filtrée");
        Assert.That(stops, Does.Contain($"a: {wanted}"));

        var result = Page.GetByRole(AriaRole.Link, new() { Name = wanted });
        await TabToAsync(Page, result, maxPresses: 40);
        await AssertFocusVisibleAsync(Page, "lien du résultat");
        await Page.Keyboard.PressAsync("Enter");

        await Expect(Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(wanted);
        var detailStops = await AssertEveryTabStopShowsFocusAsync(Page, "fiche");
        Assert.That(detailStops, Does.Contain("a: Ajouter à mon agenda"));
    }

    /// <summary>Letters only, found by the French full-text search and by nobody else's rows.</summary>
    private static string UniqueWord() =>
        "zk" + string.Concat(Guid.NewGuid().ToString("N")[..10].Select(c => (char)('a' + (c % 26))));
}
