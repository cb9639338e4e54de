using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Accounts;
using Opportunites.Web.Moderation;

namespace Opportunites.Web.Pages.Admin.Moderation;

[Authorize(Policy = Policies.Admin)]
public sealed class OrganisationsModel(ModerationService moderation, OrganisationService organisations) : PageModel
{
    public IReadOnlyList<IssuerRow> Issuers { get; private set; } = [];
    public IReadOnlyList<DuplicateGroup> Duplicates { get; private set; } = [];
    public string? Q { get; private set; }
    public string? Error { get; private set; }

    [TempData] public string? Message { get; set; }

    public async Task OnGetAsync(string? q) => await LoadAsync(q);

    public async Task<IActionResult> OnPostAsync(long id, bool confiance)
    {
        return await moderation.SetTrustedAsync(CurrentUser.From(User)!, id, confiance)
            ? Redirect("/admin/moderation/organisations")
            : NotFound();
    }

    /// <summary>Merge by ids (the likely duplicates list) or by names typed in the merge form.</summary>
    public async Task<IActionResult> OnPostFusionnerAsync(long? source, long? cible, string? sourceNom, string? cibleNom)
    {
        if (source is null && (await organisations.ResolveAsync(sourceNom))?.Id is { } s)
        {
            source = s;
        }

        if (cible is null && (await organisations.ResolveAsync(cibleNom))?.Id is { } t)
        {
            cible = t;
        }

        if (source is null || cible is null)
        {
            Error = "Organisation introuvable : saisissez les deux noms tels qu'ils apparaissent dans la liste.";
            await LoadAsync(null);
            return Page();
        }

        var (error, summary) = await organisations.MergeAsync(CurrentUser.From(User)!, source.Value, cible.Value);
        if (error is not null)
        {
            Error = error;
            await LoadAsync(null);
            return Page();
        }

        Message = summary;
        return Redirect("/admin/moderation/organisations");
    }

    private async Task LoadAsync(string? q)
    {
        Q = q;
        Issuers = await moderation.ListIssuersAsync(q);
        Duplicates = await organisations.GetLikelyDuplicatesAsync();
    }
}
