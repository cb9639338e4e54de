using Opportunites.Web.Shared;
using Opportunites.Web.Subscriptions;

namespace Opportunites.Web.Pages.Alertes;

/// <summary>The preference fields shared by the subscribe and manage forms.</summary>
public sealed record PreferenceFields(
    TerritoryFieldModel Territory,
    IReadOnlyList<ThemeOption> ThemeOptions,
    IReadOnlyList<string> Kinds,
    IReadOnlyList<string> Themes,
    string Frequency)
{
    /// <summary>The alert forms' territory field: several territories of any level, sent as repeated "territoire".</summary>
    public static TerritoryFieldModel TerritoryField(TerritorySelection selection, string? error) => new()
    {
        Id = "territoires",
        Name = "territoire",
        Label = "Territoires",
        Hint = "Commune, code postal, intercommunalité, département ou région ; ajoutez-en autant que vous voulez. "
            + "Un territoire inclut ce qu'il contient, et les offres régionales et nationales qui le couvrent.",
        Selection = selection,
        Error = error,
    };
}
