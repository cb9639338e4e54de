using Opportunites.Web.Shared;
using Opportunites.Web.Subscriptions;

namespace Opportunites.Web.Pages.Alertes;

/// <summary>The preference fields shared by the subscribe and manage forms.</summary>
public sealed record PreferenceFields(
    TerritoryFieldModel Territory,
    IReadOnlyList<ThemeOption> ThemeOptions,
    IReadOnlyList<string> Kinds,
    IReadOnlyList<string> Themes,
    string Frequency,
    bool IncludeWider = true)
{
    /// <summary>The form value of "portee" (the board's own parameter): "local" keeps only the territories and their contents.</summary>
    public static bool ReadIncludeWider(string? portee) => !string.Equals(portee?.Trim(), "local", StringComparison.OrdinalIgnoreCase);

    /// <summary>The alert forms' territory field: several territories of any level, sent as repeated "territoire".</summary>
    public static TerritoryFieldModel TerritoryField(TerritorySelection selection, string? error) => new()
    {
        Id = "territoires",
        Name = "territoire",
        Label = "Territoires",
        Hint = "Commune, code postal, intercommunalité, département ou région ; ajoutez-en autant que vous voulez. "
            + "Un territoire inclut ce qu'il contient (une intercommunalité, ses communes).",
        Selection = selection,
        Error = error,
    };
}
