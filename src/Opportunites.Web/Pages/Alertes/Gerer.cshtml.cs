using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Board;
using Opportunites.Web.Shared;
using Opportunites.Web.Subscriptions;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Pages.Alertes;

/// <summary>The personal page behind the signed link of every alert email: change, pause, delete everything.</summary>
public sealed class GererModel(SubscriptionService subscriptions, AlertCatalog catalog, AlertTokens tokens,
    TerritoryDirectory territories) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "jeton")]
    public string? Token { get; set; }

    /// <summary>Codes of the chosen chips, or names typed without JavaScript.</summary>
    [BindProperty(Name = "territoire")]
    public List<string> TerritoryValues { get; set; } = [];

    [BindProperty]
    public List<string> Kinds { get; set; } = [];

    [BindProperty]
    public List<string> Themes { get; set; } = [];

    [BindProperty]
    public string Frequency { get; set; } = Frequencies.Weekly;

    /// <summary>"local": only the territories and what they contain; anything else: the wider offers too.</summary>
    [BindProperty(Name = "portee")]
    public string? Portee { get; set; }

    public bool IncludeWider => PreferenceFields.ReadIncludeWider(Portee);

    public ManagedSubscriber? Subscriber { get; private set; }
    public TerritoryFieldModel TerritoryField { get; private set; } = PreferenceFields.TerritoryField(TerritorySelection.Empty, null);

    /// <summary>The territories of the saved preferences, for the summary above the form.</summary>
    public IReadOnlyList<Territory> SavedTerritories { get; private set; } = [];
    public IReadOnlyList<ThemeOption> ThemeOptions { get; private set; } = [];
    public IReadOnlyList<string> Errors { get; private set; } = [];
    public string? Message { get; private set; }
    public bool Deleted { get; private set; }

    /// <summary>The link is genuine but its subscriber is gone (unsubscribed with nothing left, or deleted).</summary>
    public bool Gone { get; private set; }

    public async Task<IActionResult> OnGetAsync(string? ok, CancellationToken ct)
    {
        if (!await LoadAsync(ct))
        {
            return Invalid();
        }

        TerritoryField = PreferenceFields.TerritoryField(new TerritorySelection { Chosen = SavedTerritories }, null);
        Kinds = [.. Subscriber!.Kinds ?? [.. Opportunities.Kinds.All]];
        Themes = [.. Subscriber.Themes ?? []];
        Frequency = Subscriber.Frequency ?? Frequencies.Weekly;
        Portee = Subscriber.IncludeWider ? "tout" : "local";
        Message = ok switch
        {
            "enregistre" => "Vos préférences sont enregistrées : elles s'appliquent dès la prochaine veille.",
            "pause" => "Votre veille est en pause : vous ne la recevrez plus jusqu'à sa reprise.",
            "reprise" => "Votre veille reprend dès la prochaine date prévue.",
            "rappel" => "Le rappel est supprimé.",
            _ => null,
        };
        return Page();
    }

    public async Task<IActionResult> OnPostSaveAsync(CancellationToken ct)
    {
        if (SubscriberId() is not { } id)
        {
            return Invalid();
        }

        var selection = TerritorySelection.Resolve(territories, TerritoryValues);
        var prefs = DigestPreferences.Canonical(selection.Codes, Kinds, Themes, Frequency, IncludeWider);
        var errors = new List<string>(selection.Messages);
        if (!Request.Form["Kinds"].Any(k => !string.IsNullOrWhiteSpace(k)))
        {
            errors.Add(IndexModel.NoKindError);
        }

        var invalid = await catalog.ValidateAsync(prefs, ct);
        // A name still to choose already says what to do: "at least one territory" would only repeat it.
        var territoryError = selection.IsResolved ? invalid.FirstOrDefault(DigestPreferences.IsTerritoryError) : null;
        errors.AddRange(invalid.Where(e => !DigestPreferences.IsTerritoryError(e) || e == territoryError));
        if (errors.Count > 0)
        {
            if (!await LoadAsync(ct))
            {
                return Invalid();
            }

            TerritoryField = PreferenceFields.TerritoryField(selection, territoryError);
            Errors = errors;
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        return await subscriptions.SavePreferencesAsync(id, prefs, ct) ? Back("enregistre") : Invalid();
    }

    public async Task<IActionResult> OnPostPauseAsync(CancellationToken ct) =>
        SubscriberId() is { } id && await subscriptions.SetPausedAsync(id, true, ct) ? Back("pause") : Invalid();

    public async Task<IActionResult> OnPostResumeAsync(CancellationToken ct) =>
        SubscriberId() is { } id && await subscriptions.SetPausedAsync(id, false, ct) ? Back("reprise") : Invalid();

    public async Task<IActionResult> OnPostRemoveReminderAsync(long reminderId, CancellationToken ct)
    {
        if (SubscriberId() is not { } id || await subscriptions.GetManagedAsync(id, ct) is not { } s)
        {
            return Invalid();
        }

        // Only one of this subscriber's own reminders.
        if (s.Reminders.Any(r => r.Id == reminderId))
        {
            await subscriptions.UnsubscribeReminderAsync(reminderId, ct);
        }

        return Back("rappel");
    }

    public async Task<IActionResult> OnPostDeleteAsync(CancellationToken ct)
    {
        if (SubscriberId() is not { } id || !await subscriptions.DeleteEverythingAsync(id, ct))
        {
            return Invalid();
        }

        Deleted = true;
        return Page();
    }

    private long? SubscriberId() => tokens.Read(TokenPurpose.Manage, Token);

    private IActionResult Back(string ok) => Redirect($"/alertes/gerer?jeton={Uri.EscapeDataString(Token!)}&ok={ok}");

    private PageResult Invalid()
    {
        Subscriber = null;
        Response.StatusCode = StatusCodes.Status404NotFound;
        return Page();
    }

    private async Task<bool> LoadAsync(CancellationToken ct)
    {
        if (SubscriberId() is not { } id)
        {
            return false;
        }

        if (await subscriptions.GetManagedAsync(id, ct) is not { } s)
        {
            Gone = true;
            return false;
        }

        Subscriber = s;
        SavedTerritories = TerritorySelection.GetByCodes(territories, s.TerritoryCodes ?? []);
        ThemeOptions = await catalog.GetThemesAsync(ct);
        return true;
    }
}
