using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Board;

namespace Opportunites.Web.Pages;

public sealed class IndexModel(BoardQueries board) : PageModel
{
    public IReadOnlyList<OpportunityListItem> Items { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct)
    {
        Items = await board.GetOpenAsync(20, ct);
    }
}
