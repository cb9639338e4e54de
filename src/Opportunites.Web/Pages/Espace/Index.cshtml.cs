using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Npgsql;
using Opportunites.Web.Accounts;
using Opportunites.Web.Moderation;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Publishing;

namespace Opportunites.Web.Pages.Espace;

[Authorize(Policy = Policies.Issuer)]
public sealed class IndexModel(OfferStore offers, OrganisationService organisations, NpgsqlDataSource db, TimeProvider clock) : PageModel
{
    public static readonly string[] StatusOrder = [Statuses.Draft, Statuses.Pending, Statuses.Published, Statuses.Closed, Statuses.Expired];

    public IssuerSummary? Issuer { get; private set; }
    public Dictionary<string, List<OfferDetail>> ByStatus { get; private set; } = [];

    /// <summary>An issuer account without organisation: its latest request to join one.</summary>
    public ClaimRow? Claim { get; private set; }

    public string? Error { get; private set; }
    public CurrentUser Me => CurrentUser.From(User)!;

    [TempData] public string? Message { get; set; }

    public async Task OnGetAsync() => await LoadAsync();

    public async Task<IActionResult> OnPostRejoindreAsync(string? organisation) =>
        await AfterAsync(await organisations.RequestJoinByNameAsync(Me, organisation),
            "Demande envoyée : l'équipe vous préviendra par courriel.");

    public async Task<IActionResult> OnPostCreerAsync(string? organisation, string? type)
    {
        var error = await organisations.CreateOwnAsync(Me, organisation, type);
        if (error is null)
        {
            // The account changed organisation, so its cookie stamp changed: a fresh cookie keeps the user signed in.
            await using var conn = await db.OpenConnectionAsync();
            if (await AccountStore.GetByIdAsync(conn, Me.Id) is { } user)
            {
                await HttpContext.SignInAsync(Policies.CookieScheme, CurrentUser.ToPrincipal(user));
            }
        }

        return await AfterAsync(error, "Organisation créée : vous pouvez publier vos offres.");
    }

    private async Task<IActionResult> AfterAsync(string? error, string done)
    {
        if (error is not null)
        {
            Error = error;
            await LoadAsync();
            return Page();
        }

        Message = done;
        return Redirect("/espace");
    }

    private async Task LoadAsync()
    {
        if (Me.IssuerId is not { } issuerId)
        {
            Claim = Me.IsAdmin ? null : await organisations.GetLatestClaimAsync(Me.Id);
            return;
        }

        Issuer = await offers.GetIssuerAsync(issuerId);
        var now = clock.GetUtcNow();
        ByStatus = (await offers.ListByIssuerAsync(issuerId))
            .GroupBy(o => o.EffectiveStatus(now))
            .ToDictionary(g => g.Key, g => g.ToList());
    }
}
