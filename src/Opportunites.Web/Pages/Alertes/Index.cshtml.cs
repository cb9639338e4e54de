using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Opportunites.Web.Subscriptions;

namespace Opportunites.Web.Pages.Alertes;

[EnableRateLimiting(SubscriptionsExtensions.FormRateLimit)]
public sealed class IndexModel(SubscriptionService subscriptions, AlertCatalog catalog) : PageModel
{
    [BindProperty]
    public string? Email { get; set; }

    [BindProperty]
    public List<string> Territories { get; set; } = [];

    [BindProperty]
    public List<string> Kinds { get; set; } = [.. Opportunities.Kinds.All];

    [BindProperty]
    public List<string> Themes { get; set; } = [];

    [BindProperty]
    public string Frequency { get; set; } = Frequencies.Weekly;

    public IReadOnlyList<TerritoryOption> TerritoryOptions { get; private set; } = [];
    public IReadOnlyList<ThemeOption> ThemeOptions { get; private set; } = [];
    public IReadOnlyList<string> Errors { get; private set; } = [];

    /// <summary>The address's own message, also tied to the field for screen readers.</summary>
    public string? EmailError { get; private set; }
    public bool Requested { get; private set; }

    public async Task OnGetAsync(string? demande, CancellationToken ct)
    {
        Requested = demande == "1";
        await LoadOptionsAsync(ct);
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

        var prefs = DigestPreferences.Canonical(Territories, Kinds, Themes, Frequency);
        errors.AddRange(await catalog.ValidateAsync(prefs, ct));
        if (errors.Count > 0)
        {
            Errors = errors;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            await LoadOptionsAsync(ct);
            return Page();
        }

        await subscriptions.SubscribeAsync(email!, prefs, HttpContext.Connection.RemoteIpAddress?.ToString(), ct);
        // Same answer whether the address was known or not.
        return Redirect("/alertes?demande=1");
    }

    private async Task LoadOptionsAsync(CancellationToken ct)
    {
        TerritoryOptions = await catalog.GetTerritoriesAsync(ct);
        ThemeOptions = await catalog.GetThemesAsync(ct);
    }
}
