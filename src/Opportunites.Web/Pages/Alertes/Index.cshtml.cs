using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Opportunites.Web.Board;
using Opportunites.Web.Shared;
using Opportunites.Web.Subscriptions;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Pages.Alertes;

[EnableRateLimiting(SubscriptionsExtensions.FormRateLimit)]
public sealed partial class IndexModel(SubscriptionService subscriptions, AlertCatalog catalog, TerritoryDirectory territories) : PageModel
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

    /// <summary>"local": only the territories and what they contain; anything else: the wider offers too (default).</summary>
    [BindProperty(Name = "portee")]
    public string? Portee { get; set; }

    public bool IncludeWider => PreferenceFields.ReadIncludeWider(Portee);

    public TerritoryFieldModel TerritoryField { get; private set; } = PreferenceFields.TerritoryField(TerritorySelection.Empty, null);
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

    /// <summary>
    /// The form, prefilled from a board search when it links here ("Recevoir ces offres par email"): its territories,
    /// kinds, themes and scope use the board's own parameters (?territoire=33&amp;type=aap&amp;theme=numerique&amp;portee=local).
    /// </summary>
    public async Task OnGetAsync(string? demande, string? heure, CancellationToken ct)
    {
        Requested = demande == "1";
        Throttled = demande == "attente";
        ResendFrom = Throttled && heure is not null && TimeParameter().IsMatch(heure) ? heure : null;
        ThemeOptions = await catalog.GetThemesAsync(ct);
        var query = Request.Query;
        Portee = query["portee"].FirstOrDefault();
        var kinds = query["type"].Select(k => k?.Trim().ToLowerInvariant()).Where(Opportunities.Kinds.IsValid).ToList();
        if (kinds.Count > 0)
        {
            Kinds = kinds!;
        }

        var known = ThemeOptions.Select(t => t.Code).ToHashSet(StringComparer.Ordinal);
        Themes = [.. query["theme"].Select(t => t?.Trim().ToLowerInvariant() ?? "").Where(known.Contains).Distinct()];
        if (query["territoire"].Count > 0)
        {
            var selection = TerritorySelection.Resolve(territories, query["territoire"]);
            TerritoryField = PreferenceFields.TerritoryField(selection, null);
        }
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

        var selection = TerritorySelection.Resolve(territories, TerritoryValues);
        errors.AddRange(selection.Messages);
        var prefs = DigestPreferences.Canonical(selection.Codes, Kinds, Themes, Frequency, IncludeWider);
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

        var outcome = await subscriptions.SubscribeAsync(email!, prefs, HttpContext.Connection.RemoteIpAddress?.ToString(), ct);
        // Asked again within the resend delay: nothing was sent, and the page says so and until when, rather than
        // "an email was just sent" to someone who then waits for it.
        if (outcome == SubscribeOutcome.ConfirmationThrottled && await subscriptions.NextConfirmationAtAsync(email!, ct) is { } at)
        {
            return Redirect("/alertes?demande=attente&heure=" + ParisTime.ToParis(at).ToString("HH'h'mm", CultureInfo.InvariantCulture));
        }

        return Redirect("/alertes?demande=1");
    }
}
