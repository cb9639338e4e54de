using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Opportunites.Web.Legal;

namespace Opportunites.Web.Pages.Legal;

public sealed class MentionsLegalesModel(IOptions<LegalSettings> settings) : PageModel
{
    public LegalSettings Legal => settings.Value;
}
