using System.Globalization;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Shared;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Publishing;

/// <summary>What the issuer typed (strings only: every message is ours, in French).</summary>
public sealed class OfferInput
{
    public string? Kind { get; set; }
    public string? Title { get; set; }
    public string? Description { get; set; }
    public string? Url { get; set; }
    public string? Contact { get; set; }
    public string? Deadline { get; set; }
    public string? DeadlineTime { get; set; }
    public string[] Territories { get; set; } = [];

    /// <summary>A job's place of work: one commune, from the territory field (a code, or a name typed without JavaScript).</summary>
    public string[] WorkPlace { get; set; } = [];
    public string[] Themes { get; set; } = [];
    public string? ContractType { get; set; }
    public string? Beneficiaries { get; set; }
    public string? Amount { get; set; }
}

/// <summary>A checked offer, ready to store.</summary>
public sealed record OfferData(
    string Kind,
    string Title,
    string Description,
    string? Url,
    string? Contact,
    DateOnly? DeadlineDate,
    IReadOnlyList<string> TerritoryCodes,
    string? ContractType,
    string? Beneficiaries,
    decimal? AmountEur,
    TimeOnly? DeadlineTime = null,
    IReadOnlyList<string>? ThemeCodes = null,
    string? WorkTerritoryCode = null)
{
    public IReadOnlyList<string> Themes => ThemeCodes ?? [];
}

/// <summary>Validation rules of the posting form; messages in French, keyed by field name.</summary>
public static partial class OfferForm
{
    public const int TitleMin = 3;
    public const int TitleMax = 300;
    public const int DescriptionMax = 20000;
    public const int ContactMax = 500;
    public const int UrlMax = 2000;
    public const int BeneficiariesMax = 1000;

    /// <param name="themeCodes">The themes that exist (from the themes table).</param>
    /// <param name="draft">A draft is saved with what is there: the contract type and beneficiaries wait for submission.</param>
    /// <param name="detailsOptional">An imported offer: its newsletter line never said the contract type or the
    /// beneficiaries, so editing it must not force anyone to invent them (checked only when given).</param>
    public static (OfferData? Data, Dictionary<string, string> Errors) Validate(OfferInput input, DateOnly today,
        TerritoryDirectory territories, IReadOnlyCollection<string> themeCodes, bool draft = false, bool detailsOptional = false)
    {
        var errors = new Dictionary<string, string>();

        var kind = input.Kind?.Trim();
        if (!Kinds.IsValid(kind))
        {
            errors[nameof(OfferInput.Kind)] = "Choisissez le type d'offre (emploi, appel à projets ou AMI).";
        }

        var title = (input.Title ?? "").Trim();
        if (title.Length == 0)
        {
            errors[nameof(OfferInput.Title)] = "Le titre est obligatoire.";
        }
        else if (title.Length is < TitleMin or > TitleMax)
        {
            errors[nameof(OfferInput.Title)] = $"Le titre doit contenir entre {TitleMin} et {TitleMax} caractères.";
        }

        // Browsers send line breaks as CRLF: one break is one character, as the textarea counts it and as it is stored.
        var description = NormalizeLineBreaks(input.Description ?? "").Trim();
        if (description.Length > DescriptionMax)
        {
            errors[nameof(OfferInput.Description)] = "La description ne doit pas dépasser 20 000 caractères.";
        }

        var url = string.IsNullOrWhiteSpace(input.Url) ? null : input.Url.Trim();
        if (url is not null && (url.Length > UrlMax || !IsHttpUrl(url)))
        {
            errors[nameof(OfferInput.Url)] = "Le lien doit être une adresse web complète commençant par http:// ou https://.";
        }

        var contact = string.IsNullOrWhiteSpace(input.Contact) ? null : input.Contact.Trim();
        if (contact?.Length > ContactMax)
        {
            errors[nameof(OfferInput.Contact)] = $"Le contact ne doit pas dépasser {ContactMax} caractères.";
        }

        DateOnly? deadline = null;
        if (!string.IsNullOrWhiteSpace(input.Deadline))
        {
            if (!ParisTime.TryParseDate(input.Deadline, out var d))
            {
                errors[nameof(OfferInput.Deadline)] = DateShape().IsMatch(input.Deadline.Trim())
                    ? $"Cette date n'existe pas : « {input.Deadline.Trim()} »."
                    : "La date limite doit être au format JJ/MM/AAAA.";
            }
            else if (d < today)
            {
                errors[nameof(OfferInput.Deadline)] = "La date limite ne peut pas être dans le passé.";
            }
            else
            {
                deadline = d;
            }
        }

        TimeOnly? deadlineTime = null;
        if (!string.IsNullOrWhiteSpace(input.DeadlineTime))
        {
            if (!TryParseTime(input.DeadlineTime, out var t))
            {
                errors[nameof(OfferInput.DeadlineTime)] = "L'heure limite doit être au format HH:MM (ex. : 12:00), ou laissée vide.";
            }
            else if (string.IsNullOrWhiteSpace(input.Deadline))
            {
                errors[nameof(OfferInput.DeadlineTime)] = "Indiquez la date limite pour préciser une heure.";
            }
            else
            {
                deadlineTime = t;
            }
        }

        var themes = input.Themes.Where(t => !string.IsNullOrWhiteSpace(t)).Select(t => t.Trim()).Distinct().ToList();
        if (themes.FirstOrDefault(t => !themeCodes.Contains(t)) is { } unknownTheme)
        {
            errors[nameof(OfferInput.Themes)] = $"Thème inconnu : « {unknownTheme} ». Choisissez-le dans la liste.";
        }

        var codes = new List<string>();
        foreach (var text in input.Territories.Where(t => !string.IsNullOrWhiteSpace(t)))
        {
            if (territories.Resolve(text) is { } t)
            {
                codes.Add(t.Code);
            }
            else
            {
                errors[nameof(OfferInput.Territories)] = $"Territoire inconnu : « {text.Trim()} ». Choisissez-le dans la liste.";
            }
        }

        if (codes.Count == 0 && !errors.ContainsKey(nameof(OfferInput.Territories)))
        {
            errors[nameof(OfferInput.Territories)] = "Choisissez au moins un territoire.";
        }

        // A job's place of work is a commune (where one goes to work); wider places are what "Territoire(s)" is for.
        string? workPlace = null;
        if (kind == Kinds.Emploi && input.WorkPlace.FirstOrDefault(w => !string.IsNullOrWhiteSpace(w)) is { } placeText)
        {
            if (territories.Resolve(placeText) is not { } place)
            {
                errors[nameof(OfferInput.WorkPlace)] = $"Lieu de travail inconnu : « {placeText.Trim()} ». Choisissez une commune dans la liste.";
            }
            else if (place.Level != "commune")
            {
                errors[nameof(OfferInput.WorkPlace)] = $"Le lieu de travail doit être une commune (par exemple Bègles), pas {LevelArticle(place.Level)} « {place.Label} ».";
            }
            else
            {
                workPlace = place.Code;
            }
        }

        string? contractType = null;
        string? beneficiaries = null;
        decimal? amount = null;
        if (kind == Kinds.Emploi)
        {
            contractType = input.ContractType?.Trim();
            if (string.IsNullOrEmpty(contractType))
            {
                contractType = null;
                if (!draft && !detailsOptional)
                {
                    errors[nameof(OfferInput.ContractType)] = "Choisissez le type de contrat.";
                }
            }
            else if (!ContractTypes.Labels.ContainsKey(contractType))
            {
                errors[nameof(OfferInput.ContractType)] = "Choisissez le type de contrat.";
            }
        }
        else if (kind is Kinds.Aap or Kinds.Ami)
        {
            beneficiaries = string.IsNullOrWhiteSpace(input.Beneficiaries) ? null : input.Beneficiaries.Trim();
            if (beneficiaries is null)
            {
                if (!draft && !detailsOptional)
                {
                    errors[nameof(OfferInput.Beneficiaries)] = "Indiquez les bénéficiaires éligibles (ex. : associations, collectivités).";
                }
            }
            else if (beneficiaries?.Length > BeneficiariesMax)
            {
                errors[nameof(OfferInput.Beneficiaries)] = $"Les bénéficiaires ne doivent pas dépasser {BeneficiariesMax} caractères.";
            }

            if (!string.IsNullOrWhiteSpace(input.Amount))
            {
                if (TryParseAmount(input.Amount, out var a))
                {
                    amount = a;
                }
                else
                {
                    errors[nameof(OfferInput.Amount)] = "Le montant doit être un nombre positif en euros (ex. : 15 000).";
                }
            }
        }

        return errors.Count > 0
            ? (null, errors)
            : (new OfferData(kind!, title, description, url, contact, deadline, codes.Distinct().ToList(), contractType,
                beneficiaries, amount, deadlineTime, themes, workPlace), errors);
    }

    private static string LevelArticle(string level) => level switch
    {
        "pays" => "le pays",
        "region" => "la région",
        "departement" => "le département",
        "epci" => "l'intercommunalité",
        _ => "le territoire",
    };

    public static string NormalizeLineBreaks(string text) => text.Replace("\r\n", "\n").Replace('\r', '\n');

    [System.Text.RegularExpressions.GeneratedRegex(@"^\d{1,2}/\d{1,2}/\d{4}$")]
    private static partial System.Text.RegularExpressions.Regex DateShape();

    /// <summary>"12:00", "12h00", "12h", "9h30", "9:30".</summary>
    public static bool TryParseTime(string text, out TimeOnly time)
    {
        var t = text.Trim().ToLowerInvariant().Replace('h', ':');
        if (t.EndsWith(':'))
        {
            t += "00";
        }

        return TimeOnly.TryParseExact(t, ["H:mm", "HH:mm"], CultureInfo.InvariantCulture, DateTimeStyles.None, out time);
    }

    public static bool IsHttpUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && !string.IsNullOrEmpty(uri.Host)
        && !text.Any(char.IsWhiteSpace);

    /// <summary>"15000", "15 000", "15 000,50", "15000.50" and a trailing "€" are all fine.</summary>
    public static bool TryParseAmount(string text, out decimal amount)
    {
        var cleaned = new string(text.Where(c => !char.IsWhiteSpace(c) && c != '€').ToArray()).Replace(',', '.');
        return decimal.TryParse(cleaned, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out amount)
            && amount is >= 0 and < 1_000_000_000_000m;
    }

    public static OfferInput ToInput(OfferData o) => new()
    {
        Kind = o.Kind,
        Title = o.Title,
        Description = o.Description,
        Url = o.Url,
        Contact = o.Contact,
        Deadline = o.DeadlineDate is { } d ? ParisTime.FormatDate(d) : null,
        DeadlineTime = o.DeadlineTime?.ToString("HH:mm", CultureInfo.InvariantCulture),
        Territories = [.. o.TerritoryCodes],
        WorkPlace = o.WorkTerritoryCode is { } w ? [w] : [],
        Themes = [.. o.Themes],
        ContractType = o.ContractType,
        Beneficiaries = o.Beneficiaries,
        Amount = o.AmountEur?.ToString("0.##", CultureInfo.InvariantCulture),
    };
}
