using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Opportunites.Tests.Browser;

/// <summary>Drives the shared territory field (a combobox with chips, js/territoire-champ.js) as a visitor would.</summary>
public static class TerritoryCombobox
{
    public static ILocator Field(IPage page, string label) =>
        page.GetByRole(AriaRole.Combobox, new() { Name = label, Exact = true });

    /// <summary>The chip of a chosen territory: a button "Retirer Gironde (33)".</summary>
    public static ILocator Chip(IPage page, string territoryLabel) =>
        page.GetByRole(AriaRole.Button, new() { Name = "Retirer " + territoryLabel, Exact = true });

    /// <summary>Types <paramref name="typed"/>, picks the suggestion <paramref name="territoryLabel"/> with the arrow
    /// keys and Enter, and waits for its chip.</summary>
    public static async Task ChooseAsync(IPage page, string fieldLabel, string typed, string territoryLabel)
    {
        var field = Field(page, fieldLabel);
        await field.FillAsync(typed);
        var option = page.GetByRole(AriaRole.Option).Filter(new() { HasText = territoryLabel }).First;
        await Expect(option).ToBeVisibleAsync();
        var target = await option.GetAttributeAsync("id");
        for (var i = 0; i < 12 && await field.GetAttributeAsync("aria-activedescendant") != target; i++)
        {
            await field.PressAsync("ArrowDown");
        }

        await field.PressAsync("Enter");
        await Expect(Chip(page, territoryLabel)).ToBeVisibleAsync();
    }
}
