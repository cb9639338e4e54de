using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Accounts;
using Opportunites.Web.Board;
using Opportunites.Web.Digests;
using Opportunites.Web.Shared;
using Opportunites.Web.Subscriptions;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Pages.Alertes;

/// <summary>Admin: the digest a subscriber (or a territory + kinds) would receive this week, and subscribers per territory.</summary>
[Authorize(Policy = Policies.Admin)]
public sealed class AdminModel(DigestPreview preview, AlertCatalog catalog, TerritoryDirectory territories, TimeProvider clock)
    : PageModel
{
    [BindProperty(SupportsGet = true, Name = "email")]
    public string? Email { get; set; }

    [BindProperty(SupportsGet = true, Name = "territoire")]
    public List<string> Territories { get; set; } = [];

    [BindProperty(SupportsGet = true, Name = "type")]
    public List<string> Kinds { get; set; } = [];

    [BindProperty(SupportsGet = true, Name = "theme")]
    public List<string> Themes { get; set; } = [];

    [BindProperty(SupportsGet = true, Name = "frequence")]
    public string? Frequency { get; set; }

    /// <summary>"local": only the territories and what they contain, as a subscriber may choose.</summary>
    [BindProperty(SupportsGet = true, Name = "portee")]
    public string? Portee { get; set; }

    public bool IncludeWider => PreferenceFields.ReadIncludeWider(Portee);

    public TerritoryFieldModel TerritoryField { get; private set; } = Field(TerritorySelection.Empty);
    public IReadOnlyList<TerritorySubscriberCount> Counts { get; private set; } = [];
    public DigestPreviewResult? Result { get; private set; }
    public string? Message { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        Counts = await preview.GetSubscriberCountsAsync(ct);
        var now = clock.GetUtcNow();
        if (!string.IsNullOrWhiteSpace(Email))
        {
            var email = SubscriptionService.NormalizeEmail(Email);
            var (result, found) = email is null ? (null, false) : await preview.ForSubscriberAsync(email, now, ct);
            Result = result;
            Message = !found ? "Aucune veille n'est enregistrée pour cette adresse."
                : result is null ? "Rien à envoyer cette semaine : aucune nouveauté ni clôture proche (aucun email ne partirait)." : null;
        }
        else if (Territories.Any(t => !string.IsNullOrWhiteSpace(t)))
        {
            var selection = TerritorySelection.Resolve(territories, Territories);
            TerritoryField = Field(selection);
            var prefs = DigestPreferences.Canonical(selection.Codes, Kinds, Themes, Frequency, IncludeWider);
            var errors = selection.IsResolved ? await catalog.ValidateAsync(prefs, ct) : [.. selection.Messages];
            if (errors.Count > 0)
            {
                Message = string.Join(" ", errors);
                Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }

            Result = await preview.ForPreferencesAsync(prefs, now, ct);
            Message = Result is null ? "Rien à envoyer cette semaine pour ces critères (aucun email ne partirait)." : null;
        }
    }

    private static TerritoryFieldModel Field(TerritorySelection selection) => new()
    {
        Id = "territoires",
        Name = "territoire",
        Label = "Ou des territoires",
        Hint = "Commune, code postal, intercommunalité, département ou région.",
        Selection = selection,
    };
}
