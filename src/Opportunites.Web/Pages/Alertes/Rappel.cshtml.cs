using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Opportunites.Web.Subscriptions;

namespace Opportunites.Web.Pages.Alertes;

/// <summary>Receives the "me rappeler la date limite" form of opportunity pages (partial Shared/_Reminder).</summary>
[EnableRateLimiting(SubscriptionsExtensions.FormRateLimit)]
public sealed class RappelModel(SubscriptionService subscriptions) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "offre")]
    public long OpportunityId { get; set; }

    [BindProperty]
    public string? Email { get; set; }

    public string? Error { get; private set; }
    public bool Done { get; private set; }

    public IActionResult OnGet() => OpportunityId > 0 ? Page() : NotFound();

    public async Task<IActionResult> OnPostAsync([FromForm(Name = "OpportunityId")] long opportunityId, CancellationToken ct)
    {
        OpportunityId = opportunityId;
        var email = SubscriptionService.NormalizeEmail(Email);
        Error = email is null
            ? "Saisissez une adresse email valide (exemple : prenom.nom@association.fr)."
            : await subscriptions.RequestReminderAsync(email, opportunityId, HttpContext.Connection.RemoteIpAddress?.ToString(), ct);
        if (Error is not null)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        Done = true;
        return Page();
    }
}
