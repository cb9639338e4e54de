using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Accounts;
using Opportunites.Web.Mail;
using Opportunites.Web.Shared;

namespace Opportunites.Web.Pages.Admin.Outbox;

[Authorize(Policy = Policies.Admin)]
public sealed class IndexModel(OutboxAdmin outbox) : PageModel
{
    public const int MaxResults = 100;

    public OutboxCounts Counts { get; private set; } = new(0, 0, 0, 0);

    public IReadOnlyList<FailedEmail> Failed { get; private set; } = [];

    public IReadOnlyList<RetryingEmail> Retrying { get; private set; } = [];

    /// <summary>The address searched (?adresse=…), as typed.</summary>
    public string? Adresse { get; private set; }

    /// <summary>Emails to that address, newest first; null when no search was made.</summary>
    public IReadOnlyList<AddressEmail>? Found { get; private set; }

    public string? SearchError { get; private set; }

    [TempData]
    public string? Message { get; set; }

    public async Task OnGetAsync(string? adresse, CancellationToken ct)
    {
        Counts = await outbox.GetCountsAsync(ct);
        Failed = await outbox.GetFailedAsync(100, ct);
        Retrying = await outbox.GetRetryingAsync(100, ct);
        Adresse = adresse?.Trim();
        if (string.IsNullOrEmpty(Adresse))
        {
            return;
        }

        if (Adresse.Length > 320 || Adresse.IndexOf('@', StringComparison.Ordinal) is <= 0 || Adresse.EndsWith('@'))
        {
            SearchError = "Saisissez une adresse complète, par exemple prenom.nom@exemple.fr.";
            return;
        }

        Found = await outbox.GetByAddressAsync(Adresse, MaxResults, ct);
    }

    public async Task<IActionResult> OnPostRetryAsync(long id, CancellationToken ct)
    {
        Message = await outbox.RetryAsync(id, ct)
            ? $"Le courriel n° {id} est remis dans la file : il partira au prochain envoi."
            : $"Le courriel n° {id} n'est pas en échec.";
        return RedirectToPage();
    }

    /// <summary>What an email is, in words (outbox.category); an unknown category is shown as it is.</summary>
    public static string CategoryLabel(string category) => category switch
    {
        "verification" => "Confirmation de compte",
        "account_exists" => "Compte déjà existant",
        "reset" => "Mot de passe oublié",
        "email_change" => "Changement d'adresse",
        "moderation" => "Décision de modération",
        "renewal" => "Offre bientôt archivée",
        "alert_confirmation" => "Confirmation d'alerte",
        "alert_notice" => "Avis sur une alerte",
        "digest" => "Veille (sélection d'offres)",
        "reminder" => "Rappel de date limite",
        _ => category,
    };

    public static string StatusLabel(AddressEmail e) => e.Status switch
    {
        "sent" when e.SentAt is { } at => "Envoyé le " + ParisTime.FormatDateTime(new DateTimeOffset(at, TimeSpan.Zero)),
        "sent" => "Envoyé",
        "failed" => "En échec",
        _ when e.LastError is not null => "En reprise",
        _ => "En attente d'envoi",
    };
}
