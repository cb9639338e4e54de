using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Opportunites.Web.Legal;

namespace Opportunites.Web.Pages.Legal;

public sealed class ContactModel(IOptions<LegalSettings> settings) : PageModel
{
    public LegalSettings Legal => settings.Value;
}
