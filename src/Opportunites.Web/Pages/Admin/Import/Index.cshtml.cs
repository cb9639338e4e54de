using System.Text;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Opportunites.Web.Accounts;
using Opportunites.Web.Import;
using Opportunites.Web.Publishing;
using Opportunites.Web.Shared;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Pages.Admin.Import;

/// <summary>Admins import for anyone; a trusted issuer imports for its own organisation only.</summary>
[Authorize(Policy = Policies.Issuer)]
public sealed class IndexModel(Importer importer, OfferStore offers, TerritoryDirectory territories) : PageModel
{
    /// <summary>Each preview line with a territory field posts its number here, so that an emptied field means "none".</summary>
    public const string FieldLines = "champ_territoire";

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

    /// <summary>The territory given to lines none was recognised for; empty: each is to complete in the preview.</summary>
    public TerritoryFieldModel DefaultField { get; private set; } = Default(TerritorySelection.Empty);

    private static TerritoryFieldModel Default(TerritorySelection selection) => new()
    {
        Id = nameof(TerritoireParDefaut),
        Name = nameof(TerritoireParDefaut),
        Label = "Territoire des lignes non reconnues (facultatif)",
        Hint = "Laissé vide, chaque ligne dont le territoire n'est pas reconnu est à compléter dans l'aperçu.",
        Multiple = false,
        Selection = selection,
    };

    /// <summary>Line number → its territory field in the preview (new and incomplete lines).</summary>
    public Dictionary<int, TerritoryFieldModel> TerritoryFields { get; } = [];

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

        var fallback = TerritorySelection.Resolve(territories, Request.Form[nameof(TerritoireParDefaut)], multiple: false);
        DefaultField = Default(fallback);
        TerritoireParDefaut = fallback.Codes.FirstOrDefault();
        if (!fallback.IsResolved)
        {
            Error = string.Join(" ", fallback.Messages);
            return Page();
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
            return Page();
        }

        await BuildFieldsAsync(Preview, new Dictionary<int, TerritorySelection>());
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

        // The territory fields: codes of chips, or names typed without JavaScript, resolved as every territory field is.
        var selections = new Dictionary<int, TerritorySelection>();
        var lines = Request.Form[FieldLines].Select(v => int.TryParse(v, out var n) ? n : -1).Where(n => n > 0)
            .Concat(Request.Form.Keys.Where(k => k.StartsWith(TerritoryPrefix, StringComparison.Ordinal))
                .Select(k => int.TryParse(k[TerritoryPrefix.Length..], out var n) ? n : -1).Where(n => n > 0))
            .Distinct();
        foreach (var line in lines)
        {
            selections[line] = TerritorySelection.Resolve(territories, Request.Form[TerritoryPrefix + line]);
        }

        var territoryChoices = selections.ToDictionary(s => s.Key, s => string.Join(",", s.Value.Codes));
        var options = Options(territoryChoices, Choices("type_"));
        if (selections.Values.Any(s => !s.IsResolved))
        {
            // A typed name means several places or none: the preview again, with the choice to make, nothing imported.
            Error = "Un territoire saisi est à préciser : choisissez-le dans l'aperçu, puis confirmez.";
            Preview = await importer.PreviewAsync(Texte, NomFichier, options);
            await BuildFieldsAsync(Preview, selections);
            return Page();
        }

        Done = await importer.ImportAsync(CurrentUser.From(User)!.Actor, Texte, NomFichier, options);
        Error = Done.FileError;
        return Page();
    }

    public const string TerritoryPrefix = "territoire_";

    /// <summary>
    /// One territory field per line that can still be imported: the guess as a chip and its reason below, the homonyms
    /// to choose between, or nothing ("à compléter") with why.
    /// </summary>
    private async Task BuildFieldsAsync(ImportResult preview, Dictionary<int, TerritorySelection> posted)
    {
        foreach (var c in preview.Candidates.Where(c => c.State is CandidateState.New or CandidateState.Incomplete))
        {
            var selection = posted.GetValueOrDefault(c.LineNumber) is { IsResolved: false } asked
                ? asked
                : new TerritorySelection
                {
                    Chosen = TerritorySelection.GetByCodes(territories, c.TerritoryCodes),
                    Ambiguous = c.TerritoryCandidates.Count > 0
                        ? [new TerritoryQuestion(c.TerritoryWords ?? c.Issuer, [.. c.TerritoryCandidates.Select(territories.Describe)])]
                        : [],
                };
            var known = c.TerritoryCodes.Count > 0;
            TerritoryFields[c.LineNumber] = new TerritoryFieldModel
            {
                Id = TerritoryPrefix + c.LineNumber,
                Name = TerritoryPrefix + c.LineNumber,
                Label = known ? $"Territoire (ligne {c.LineNumber})" : $"Territoire à choisir (ligne {c.LineNumber})",
                Hint = c.DefaultTerritoryApplied || known || c.TerritoryCandidates.Count > 0 ? Capitalize(c.TerritoryReason) : null,
                Error = known || c.TerritoryCandidates.Count > 0 ? null : Capitalize(c.TerritoryReason) + ".",
                Selection = selection,
            };
        }
    }

    private static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

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
