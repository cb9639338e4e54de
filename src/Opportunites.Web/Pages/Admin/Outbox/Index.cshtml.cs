using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Accounts;
using Opportunites.Web.Mail;

namespace Opportunites.Web.Pages.Admin.Outbox;

[Authorize(Policy = Policies.Admin)]
public sealed class IndexModel(OutboxAdmin outbox) : PageModel
{
    public OutboxCounts Counts { get; private set; } = new(0, 0, 0, 0);

    public IReadOnlyList<FailedEmail> Failed { get; private set; } = [];

    public IReadOnlyList<RetryingEmail> Retrying { get; private set; } = [];

    [TempData]
    public string? Message { get; set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        Counts = await outbox.GetCountsAsync(ct);
        Failed = await outbox.GetFailedAsync(100, ct);
        Retrying = await outbox.GetRetryingAsync(100, ct);
    }

    public async Task<IActionResult> OnPostRetryAsync(long id, CancellationToken ct)
    {
        Message = await outbox.RetryAsync(id, ct)
            ? $"Le courriel n° {id} est remis dans la file : il partira au prochain envoi."
            : $"Le courriel n° {id} n'est pas en échec.";
        return RedirectToPage();
    }
}
