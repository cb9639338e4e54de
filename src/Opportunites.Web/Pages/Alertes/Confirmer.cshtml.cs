using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Subscriptions;

namespace Opportunites.Web.Pages.Alertes;

/// <summary>
/// Double opt-in. The GET only shows a button: link scanners that prefetch emails must not confirm on their own.
/// </summary>
public sealed class ConfirmerModel(SubscriptionService subscriptions, AlertTokens tokens) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "jeton")]
    public string? Token { get; set; }

    public bool Valid { get; private set; }
    public bool Confirmed { get; private set; }
    public string? ManageUrl { get; private set; }

    public IActionResult OnGet()
    {
        Valid = tokens.Read(TokenPurpose.Confirm, Token, timeLimited: true) is not null;
        if (!Valid)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
        }

        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var id = await subscriptions.ConfirmAsync(Token, HttpContext.Connection.RemoteIpAddress?.ToString(), ct);
        if (id is not { } sid)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
            return Page();
        }

        Valid = Confirmed = true;
        // A link on the page the visitor is on: relative, so it stays on the host they reached (Site:BaseUrl is for emails).
        ManageUrl = new Uri(subscriptions.ManageUrl(sid)).PathAndQuery;
        return Page();
    }
}
