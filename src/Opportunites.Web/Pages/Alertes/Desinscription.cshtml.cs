using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Subscriptions;

namespace Opportunites.Web.Pages.Alertes;

/// <summary>
/// RFC 8058 one-click unsubscribe: a POST with List-Unsubscribe=One-Click unsubscribes at once, without cookie,
/// login or antiforgery (the signed token is the authority), answers 200 and never redirects. A GET only shows
/// a button, because mail scanners prefetch links.
/// </summary>
[IgnoreAntiforgeryToken]
public sealed class DesinscriptionModel(SubscriptionService subscriptions, AlertTokens tokens) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "jeton")]
    public string? DigestToken { get; set; }

    [BindProperty(SupportsGet = true, Name = "rappel")]
    public string? ReminderToken { get; set; }

    public bool Valid { get; private set; }
    public bool Done { get; private set; }
    public bool IsReminder => ReminderToken is not null;
    public string? ManageUrl { get; private set; }

    /// <summary>The link was used already (or the alert deleted): nothing left to stop.</summary>
    public bool AlreadyDone { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (TargetId() is not { } id)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
            return Page();
        }

        Valid = true;
        AlreadyDone = !await subscriptions.HasSubscriptionAsync(id, IsReminder, ct);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (TargetId() is not { } id)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
            return Page();
        }

        Valid = true;
        if (!Request.HasFormContentType || Request.Form["List-Unsubscribe"] != "One-Click")
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        // Already gone is success too: the request is idempotent.
        if (IsReminder)
        {
            await subscriptions.UnsubscribeReminderAsync(id, ct);
        }
        else
        {
            await subscriptions.UnsubscribeDigestAsync(id, ct);
        }

        Done = true;
        return Page();
    }

    private long? TargetId() => ReminderToken is not null
        ? tokens.Read(TokenPurpose.UnsubscribeReminder, ReminderToken)
        : tokens.Read(TokenPurpose.UnsubscribeDigest, DigestToken);
}
