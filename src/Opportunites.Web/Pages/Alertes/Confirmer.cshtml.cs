using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Subscriptions;

namespace Opportunites.Web.Pages.Alertes;

/// <summary>
/// Double opt-in. The GET only shows a button: link scanners that prefetch emails must not confirm on their own.
/// </summary>
public sealed class ConfirmerModel(SubscriptionService subscriptions) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "jeton")]
    public string? Token { get; set; }

    public bool Valid { get; private set; }
    public bool Confirmed { get; private set; }
    public bool AlreadyUsed { get; private set; }
    public string? ManageUrl { get; private set; }

    /// <summary>The confirmed address has a digest; false for an address that only asked for deadline reminders.</summary>
    public bool HasDigest { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var state = await subscriptions.ConfirmationStateAsync(Token, ct);
        Valid = state != ConfirmOutcome.Invalid;
        AlreadyUsed = state == ConfirmOutcome.AlreadyConfirmed;
        if (!Valid)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
        }

        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var result = await subscriptions.ConfirmAsync(Token, HttpContext.Connection.RemoteIpAddress?.ToString(), ct);
        if (result.Outcome == ConfirmOutcome.AlreadyConfirmed)
        {
            Valid = AlreadyUsed = true;
            return Page();
        }

        if (result.SubscriberId is not { } sid)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
            return Page();
        }

        Valid = Confirmed = true;
        HasDigest = await subscriptions.GetManagedAsync(sid, ct) is { HasDigest: true };
        // A link on the page the visitor is on: relative, so it stays on the host they reached (Site:BaseUrl is for emails).
        ManageUrl = new Uri(subscriptions.ManageUrl(sid)).PathAndQuery;
        return Page();
    }
}
