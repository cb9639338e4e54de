using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Accounts;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Publishing;

namespace Opportunites.Web.Pages.Espace;

[Authorize(Policy = Policies.Issuer)]
public sealed class IndexModel(OfferStore offers, TimeProvider clock) : PageModel
{
    public static readonly string[] StatusOrder = [Statuses.Draft, Statuses.Pending, Statuses.Published, Statuses.Closed, Statuses.Expired];

    public IssuerSummary? Issuer { get; private set; }
    public Dictionary<string, List<OfferDetail>> ByStatus { get; private set; } = [];

    public async Task OnGetAsync()
    {
        var me = CurrentUser.From(User)!;
        if (me.IssuerId is not { } issuerId)
        {
            return;
        }

        Issuer = await offers.GetIssuerAsync(issuerId);
        var now = clock.GetUtcNow();
        ByStatus = (await offers.ListByIssuerAsync(issuerId))
            .GroupBy(o => o.EffectiveStatus(now))
            .ToDictionary(g => g.Key, g => g.ToList());
    }
}
