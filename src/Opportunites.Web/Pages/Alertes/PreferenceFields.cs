using Opportunites.Web.Subscriptions;

namespace Opportunites.Web.Pages.Alertes;

/// <summary>The preference fields shared by the subscribe and manage forms.</summary>
public sealed record PreferenceFields(
    IReadOnlyList<TerritoryOption> TerritoryOptions,
    IReadOnlyList<ThemeOption> ThemeOptions,
    IReadOnlyList<string> Territories,
    IReadOnlyList<string> Kinds,
    IReadOnlyList<string> Themes,
    string Frequency);
