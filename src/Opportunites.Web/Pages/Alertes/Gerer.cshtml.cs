using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Subscriptions;

namespace Opportunites.Web.Pages.Alertes;

/// <summary>The personal page behind the signed link of every alert email: change, pause, delete everything.</summary>
public sealed class GererModel(SubscriptionService subscriptions, AlertCatalog catalog, AlertTokens tokens) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "jeton")]
    public string? Token { get; set; }

    [BindProperty]
    public List<string> Territories { get; set; } = [];

    [BindProperty]
    public List<string> Kinds { get; set; } = [];

    [BindProperty]
    public List<string> Themes { get; set; } = [];

    [BindProperty]
    public string Frequency { get; set; } = Frequencies.Weekly;

    public ManagedSubscriber? Subscriber { get; private set; }
    public IReadOnlyList<TerritoryOption> TerritoryOptions { get; private set; } = [];
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

        Territories = [.. Subscriber!.TerritoryCodes ?? []];
        Kinds = [.. Subscriber.Kinds ?? [.. Opportunities.Kinds.All]];
        Themes = [.. Subscriber.Themes ?? []];
        Frequency = Subscriber.Frequency ?? Frequencies.Weekly;
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

        var prefs = DigestPreferences.Canonical(Territories, Kinds, Themes, Frequency);
        var errors = new List<string>();
        if (!Request.Form["Kinds"].Any(k => !string.IsNullOrWhiteSpace(k)))
        {
            errors.Add(IndexModel.NoKindError);
        }

        errors.AddRange(await catalog.ValidateAsync(prefs, ct));
        if (errors.Count > 0)
        {
            if (!await LoadAsync(ct))
            {
                return Invalid();
            }

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
        TerritoryOptions = await catalog.GetTerritoriesAsync(ct);
        ThemeOptions = await catalog.GetThemesAsync(ct);
        return true;
    }
}
