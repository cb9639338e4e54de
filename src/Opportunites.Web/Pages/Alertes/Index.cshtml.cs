using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Opportunites.Web.Shared;
using Opportunites.Web.Subscriptions;

namespace Opportunites.Web.Pages.Alertes;

[EnableRateLimiting(SubscriptionsExtensions.FormRateLimit)]
public sealed partial class IndexModel(SubscriptionService subscriptions, AlertCatalog catalog) : PageModel
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

    /// <summary>Asked again too soon: no email was sent.</summary>
    public bool Throttled { get; private set; }

    /// <summary>When another email can be asked for (Paris time, "14h32"); from the redirect's query, so checked.</summary>
    public string? ResendFrom { get; private set; }

    [GeneratedRegex(@"^[0-2][0-9]h[0-5][0-9]$")]
    private static partial Regex TimeParameter();

    public async Task OnGetAsync(string? demande, string? heure, CancellationToken ct)
    {
        Requested = demande == "1";
        Throttled = demande == "attente";
        ResendFrom = Throttled && heure is not null && TimeParameter().IsMatch(heure) ? heure : null;
        await LoadOptionsAsync(ct);
    }

    /// <summary>Unticking every type is a mistake to point out, not a silent "all types".</summary>
    internal const string NoKindError = "Choisissez au moins un type d'offre (emploi, appel à projets ou appel à manifestation d'intérêt).";

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var errors = new List<string>();
        var email = SubscriptionService.NormalizeEmail(Email);
        if (email is null)
        {
            EmailError = "Saisissez une adresse email valide (exemple : prenom.nom@association.fr).";
            errors.Add(EmailError);
        }

        if (!Request.Form["Kinds"].Any(k => !string.IsNullOrWhiteSpace(k)))
        {
            errors.Add(NoKindError);
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

        var outcome = await subscriptions.SubscribeAsync(email!, prefs, HttpContext.Connection.RemoteIpAddress?.ToString(), ct);
        // Asked again within the resend delay: nothing was sent, and the page says so and until when, rather than
        // "an email was just sent" to someone who then waits for it.
        if (outcome == SubscribeOutcome.ConfirmationThrottled && await subscriptions.NextConfirmationAtAsync(email!, ct) is { } at)
        {
            return Redirect("/alertes?demande=attente&heure=" + ParisTime.ToParis(at).ToString("HH'h'mm", CultureInfo.InvariantCulture));
        }

        return Redirect("/alertes?demande=1");
    }

    private async Task LoadOptionsAsync(CancellationToken ct)
    {
        TerritoryOptions = await catalog.GetTerritoriesAsync(ct);
        ThemeOptions = await catalog.GetThemesAsync(ct);
    }
}
