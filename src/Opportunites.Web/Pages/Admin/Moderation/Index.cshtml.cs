using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Accounts;
using Opportunites.Web.Moderation;
using Opportunites.Web.Opportunities;

namespace Opportunites.Web.Pages.Admin.Moderation;

[Authorize(Policy = Policies.Admin)]
public sealed class IndexModel(ModerationService moderation) : PageModel
{
    public IReadOnlyList<QueueItem> Pending { get; private set; } = [];
    public IReadOnlyList<QueueItem>? Results { get; private set; }
    public string? Q { get; private set; }
    public string? Message { get; private set; }
    public string? Error { get; private set; }

    private CurrentUser Me => CurrentUser.From(User)!;

    public async Task OnGetAsync(string? q, string? info)
    {
        Message = info switch
        {
            "publiee" => "Offre publiée.",
            "refusee" => "Offre refusée : le motif a été envoyé à l'émetteur.",
            "depubliee" => "Offre retirée du site : le motif a été envoyé à l'émetteur.",
            _ => null,
        };
        await LoadAsync(q);
    }

    public async Task<IActionResult> OnPostPublierAsync(long id)
    {
        if (!await moderation.PublishAsync(Me, id))
        {
            Error = "Cette offre n'est plus en attente.";
            await LoadAsync(null);
            return Page();
        }

        return Redirect("/admin/moderation?info=publiee");
    }

    public Task<IActionResult> OnPostRefuserAsync(long id, string? motif) => DecideAsync(id, motif, unpublish: false);

    public Task<IActionResult> OnPostDepublierAsync(long id, string? motif) => DecideAsync(id, motif, unpublish: true);

    private async Task<IActionResult> DecideAsync(long id, string? motif, bool unpublish)
    {
        var error = await moderation.RejectAsync(Me, id, motif, unpublish);
        if (error is not null)
        {
            Error = error;
            await LoadAsync(null);
            return Page();
        }

        return Redirect("/admin/moderation?info=" + (unpublish ? "depubliee" : "refusee"));
    }

    private async Task LoadAsync(string? q)
    {
        Pending = await moderation.GetByStatusAsync(Statuses.Pending);
        Q = q?.Trim();
        if (!string.IsNullOrEmpty(Q))
        {
            Results = await moderation.SearchAsync(Q.Length > 200 ? Q[..200] : Q);
        }
    }
}
