using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Opportunites.Web.Board;
using Opportunites.Web.Shared;
using Opportunites.Web.Subscriptions;

namespace Opportunites.Web.Pages.Alertes;

[EnableRateLimiting(SubscriptionsExtensions.FormRateLimit)]
public sealed class IndexModel(SubscriptionService subscriptions, AlertCatalog catalog, TerritoryDirectory territories) : PageModel
{
    [BindProperty]
    public string? Email { get; set; }

    /// <summary>Codes of the chosen chips, or names typed without JavaScript.</summary>
    [BindProperty(Name = "territoire")]
    public List<string> TerritoryValues { get; set; } = [];

    [BindProperty]
    public List<string> Kinds { get; set; } = [.. Opportunities.Kinds.All];

    [BindProperty]
    public List<string> Themes { get; set; } = [];

    [BindProperty]
    public string Frequency { get; set; } = Frequencies.Weekly;

    public TerritoryFieldModel TerritoryField { get; private set; } = PreferenceFields.TerritoryField(TerritorySelection.Empty, null);
    public IReadOnlyList<ThemeOption> ThemeOptions { get; private set; } = [];
    public IReadOnlyList<string> Errors { get; private set; } = [];

    /// <summary>The address's own message, also tied to the field for screen readers.</summary>
    public string? EmailError { get; private set; }
    public bool Requested { get; private set; }

    /// <summary>
    /// The form, prefilled from a board search when it links here ("Recevoir ces offres par email"): its territories,
    /// kinds and themes use the board's own parameters (?territoire=33&amp;type=aap&amp;theme=numerique).
    /// </summary>
    public async Task OnGetAsync(string? demande, CancellationToken ct)
    {
        Requested = demande == "1";
        ThemeOptions = await catalog.GetThemesAsync(ct);
        var query = Request.Query;
        var kinds = query["type"].Select(k => k?.Trim().ToLowerInvariant()).Where(Opportunities.Kinds.IsValid).ToList();
        if (kinds.Count > 0)
        {
            Kinds = kinds!;
        }

        var known = ThemeOptions.Select(t => t.Code).ToHashSet(StringComparer.Ordinal);
        Themes = [.. query["theme"].Select(t => t?.Trim().ToLowerInvariant() ?? "").Where(known.Contains).Distinct()];
        if (query["territoire"].Count > 0)
        {
            var selection = await TerritorySelection.ResolveAsync(territories, query["territoire"], ct: ct);
            TerritoryField = PreferenceFields.TerritoryField(selection, null);
        }
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var errors = new List<string>();
        var email = SubscriptionService.NormalizeEmail(Email);
        if (email is null)
        {
            EmailError = "Saisissez une adresse email valide (exemple : prenom.nom@association.fr).";
            errors.Add(EmailError);
        }

        var selection = await TerritorySelection.ResolveAsync(territories, TerritoryValues, ct: ct);
        errors.AddRange(selection.Messages);
        var prefs = DigestPreferences.Canonical(selection.Codes, Kinds, Themes, Frequency);
        var invalid = await catalog.ValidateAsync(prefs, ct);
        // A name still to choose already says what to do: "at least one territory" would only repeat it.
        var territoryError = selection.IsResolved ? invalid.FirstOrDefault(DigestPreferences.IsTerritoryError) : null;
        errors.AddRange(invalid.Where(e => !DigestPreferences.IsTerritoryError(e) || e == territoryError));
        if (errors.Count > 0)
        {
            Errors = errors;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            TerritoryField = PreferenceFields.TerritoryField(selection, territoryError);
            ThemeOptions = await catalog.GetThemesAsync(ct);
            return Page();
        }

        await subscriptions.SubscribeAsync(email!, prefs, HttpContext.Connection.RemoteIpAddress?.ToString(), ct);
        // Same answer whether the address was known or not.
        return Redirect("/alertes?demande=1");
    }
}
