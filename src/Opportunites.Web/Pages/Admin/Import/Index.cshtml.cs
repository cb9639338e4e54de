using System.Text;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Accounts;
using Opportunites.Web.Import;
using Opportunites.Web.Publishing;

namespace Opportunites.Web.Pages.Admin.Import;

/// <summary>Admins import for anyone; a trusted issuer imports for its own organisation only.</summary>
[Authorize(Policy = Policies.Issuer)]
public sealed class IndexModel(Importer importer, OfferStore offers, TerritoryDirectory territories) : PageModel
{
    public const int MaxBytes = 1_000_000;

    [BindProperty] public string? Texte { get; set; }
    [BindProperty] public string? NomFichier { get; set; }
    [BindProperty] public string? TerritoireParDefaut { get; set; }
    [BindProperty] public IFormFile? Fichier { get; set; }

    public ImportResult? Preview { get; private set; }
    public ImportResult? Done { get; private set; }
    public string? Error { get; private set; }
    public string? OwnIssuerName { get; private set; }
    public TerritoryDirectory Territories => territories;

    public async Task<IActionResult> OnGetAsync() => await AllowedAsync() ? Page() : Forbid();

    public async Task<IActionResult> OnPostApercuAsync()
    {
        if (!await AllowedAsync())
        {
            return Forbid();
        }

        if (Fichier is { Length: > 0 })
        {
            if (Fichier.Length > MaxBytes)
            {
                Error = "Fichier trop volumineux (1 Mo au plus).";
                return Page();
            }

            using var reader = new StreamReader(Fichier.OpenReadStream(), new UTF8Encoding(false));
            Texte = await reader.ReadToEndAsync();
            NomFichier = Path.GetFileName(Fichier.FileName);
        }

        if (string.IsNullOrWhiteSpace(Texte))
        {
            Error = "Collez des lignes ou choisissez un fichier.";
            return Page();
        }

        Preview = await importer.PreviewAsync(Texte, NomFichier, Options(null));
        if (Preview.FileError is not null)
        {
            Error = Preview.FileError;
            Preview = null;
        }

        return Page();
    }

    public async Task<IActionResult> OnPostConfirmerAsync()
    {
        if (!await AllowedAsync())
        {
            return Forbid();
        }

        if (string.IsNullOrWhiteSpace(Texte) || Texte.Length > MaxBytes)
        {
            Error = "Rien à importer : recommencez depuis l'aperçu.";
            return Page();
        }

        Done = await importer.ImportAsync(CurrentUser.From(User)!.Actor, Texte, NomFichier,
            Options(Choices("territoire_"), Choices("type_")));
        Error = Done.FileError;
        return Page();
    }

    /// <summary>The per-line choices of the preview: fields named prefix + line number.</summary>
    private Dictionary<int, string> Choices(string prefix) => Request.Form.Keys
        .Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
        .Select(k => (Line: int.TryParse(k[prefix.Length..], out var n) ? n : -1, Value: Request.Form[k].ToString()))
        .Where(x => x.Line > 0 && x.Value.Length > 0)
        .ToDictionary(x => x.Line, x => x.Value);

    private ImportOptions Options(IReadOnlyDictionary<int, string>? territoryChoices, IReadOnlyDictionary<int, string>? kindChoices = null) =>
        new(string.IsNullOrWhiteSpace(TerritoireParDefaut) ? null : TerritoireParDefaut, territoryChoices, OwnIssuerName, kindChoices);

    private async Task<bool> AllowedAsync()
    {
        var me = CurrentUser.From(User)!;
        if (me.IsAdmin)
        {
            return true;
        }

        if (me.IssuerId is { } issuerId && await offers.GetIssuerAsync(issuerId) is { Trusted: true } issuer)
        {
            OwnIssuerName = issuer.Name;
            return true;
        }

        return false;
    }
}
