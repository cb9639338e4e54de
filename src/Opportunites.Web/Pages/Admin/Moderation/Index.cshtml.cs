using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Accounts;
using Opportunites.Web.Board;
using Opportunites.Web.Moderation;
using Opportunites.Web.Publishing;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Pages.Admin.Moderation;

[Authorize(Policy = Policies.Admin)]
public sealed class IndexModel(ModerationService moderation, OrganisationService organisations,
    TerritoryDirectory territories, ThemeCatalog themes) : PageModel
{
    public IReadOnlyList<QueueItem> Queue { get; private set; } = [];
    public IReadOnlyList<ClaimRow> Claims { get; private set; } = [];
    public IReadOnlyList<QueueItem>? Results { get; private set; }
    public string? Q { get; private set; }
    public string? Error { get; private set; }
    public TerritoryDirectory Territories => territories;
    public IReadOnlyDictionary<string, string> ThemeLabels { get; private set; } = new Dictionary<string, string>();

    [TempData] public string? Message { get; set; }

    private CurrentUser Me => CurrentUser.From(User)!;

    public async Task OnGetAsync(string? q) => await LoadAsync(q);

    public async Task<IActionResult> OnPostPublierAsync(long id)
    {
        if (await moderation.PublishAsync(Me, id) is not { } title)
        {
            return await ShowErrorAsync("Cette offre n'est plus en attente.");
        }

        return Done($"Offre « {title} » publiée : l'émetteur est prévenu par courriel.");
    }

    public async Task<IActionResult> OnPostAccepterModificationAsync(long id)
    {
        if (await moderation.ApproveRevisionAsync(Me, id) is not { } title)
        {
            return await ShowErrorAsync("Aucune modification n'attend plus de décision pour cette offre.");
        }

        return Done($"Modifications de « {title} » publiées : l'émetteur est prévenu par courriel.");
    }

    public async Task<IActionResult> OnPostRefuserModificationAsync(long id, string? motif)
    {
        var (error, title) = await moderation.RejectRevisionAsync(Me, id, motif);
        return error is not null
            ? await ShowErrorAsync(error)
            : Done($"Modifications de « {title} » refusées : la version publiée reste en ligne, le motif a été envoyé à l'émetteur.");
    }

    public Task<IActionResult> OnPostRefuserAsync(long id, string? motif) => DecideAsync(id, motif, unpublish: false);

    public Task<IActionResult> OnPostDepublierAsync(long id, string? motif) => DecideAsync(id, motif, unpublish: true);

    public async Task<IActionResult> OnPostRattacherAsync(long demande) => await ClaimAsync(demande, approve: true);

    public async Task<IActionResult> OnPostRefuserRattachementAsync(long demande) => await ClaimAsync(demande, approve: false);

    private async Task<IActionResult> ClaimAsync(long claimId, bool approve)
    {
        var (error, claim) = await organisations.DecideClaimAsync(Me, claimId, approve);
        return error is not null
            ? await ShowErrorAsync(error)
            : Done(approve
                ? $"{claim!.UserEmail} est rattaché(e) à « {claim.IssuerName} » et prévenu(e) par courriel."
                : $"Demande de {claim!.UserEmail} pour « {claim.IssuerName} » refusée ; la personne est prévenue par courriel.");
    }

    private async Task<IActionResult> DecideAsync(long id, string? motif, bool unpublish)
    {
        var (error, title) = await moderation.RejectAsync(Me, id, motif, unpublish);
        if (error is not null)
        {
            return await ShowErrorAsync(error);
        }

        return Done(unpublish
            ? $"Offre « {title} » retirée du site : le motif a été envoyé à l'émetteur."
            : $"Offre « {title} » refusée : le motif a été envoyé à l'émetteur.");
    }

    private RedirectResult Done(string message)
    {
        Message = message;
        return Redirect("/admin/moderation");
    }

    private async Task<IActionResult> ShowErrorAsync(string error)
    {
        Error = error;
        await LoadAsync(null);
        return Page();
    }

    private async Task LoadAsync(string? q)
    {
        Queue = await moderation.GetQueueAsync();
        Claims = await organisations.GetPendingClaimsAsync();
        ThemeLabels = (await themes.GetAllAsync()).ToDictionary(t => t.Code, t => t.Label);
        Q = q?.Trim();
        if (!string.IsNullOrEmpty(Q))
        {
            Results = await moderation.SearchAsync(Q.Length > 200 ? Q[..200] : Q);
        }
    }

    /// <summary>What an edit changes, field by field, names instead of codes.</summary>
    public IReadOnlyList<FieldChange> Changes(QueueItem item) =>
        item is { RevisionJson: { } json, Current: { } current }
            ? OfferRevisions.Diff(current.ToData(), OfferRevisions.Read(json), territories.Label, c => ThemeLabels.GetValueOrDefault(c, c))
            : [];

    public static string ReasonLabel(QueueReason reason) => reason switch
    {
        QueueReason.Edited => "Modifiée après publication",
        QueueReason.Reopened => "Rouverte (déjà publiée auparavant)",
        _ => "Nouvelle",
    };
}
