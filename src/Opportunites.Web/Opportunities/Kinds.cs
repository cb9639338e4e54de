namespace Opportunites.Web.Opportunities;

/// <summary>The three kinds of opportunity, as stored and as French users read them.</summary>
public static class Kinds
{
    public const string Emploi = "emploi";
    public const string Aap = "aap";
    public const string Ami = "ami";

    public static readonly IReadOnlyList<string> All = [Emploi, Aap, Ami];

    public static bool IsValid(string? kind) => kind is Emploi or Aap or Ami;

    public static string Label(string kind) => kind switch
    {
        Emploi => "Emploi",
        Aap => "AAP",
        Ami => "AMI",
        _ => kind,
    };

    public static string LongLabel(string kind) => kind switch
    {
        Emploi => "Offre d'emploi",
        Aap => "Appel à projets",
        Ami => "Appel à manifestation d'intérêt",
        _ => kind,
    };
}

public static class Statuses
{
    public const string Draft = "draft";
    public const string Pending = "pending";
    public const string Published = "published";
    public const string Closed = "closed";
    public const string Expired = "expired";

    public static string Label(string status) => status switch
    {
        Draft => "Brouillon",
        Pending => "En attente de validation",
        Published => "Publiée",
        Closed => "Close",
        Expired => "Expirée",
        _ => status,
    };
}

public static class IssuerTypes
{
    public static readonly IReadOnlyDictionary<string, string> Labels = new Dictionary<string, string>
    {
        ["etat"] = "État",
        ["collectivite"] = "Collectivité",
        ["association"] = "Association",
        ["fondation"] = "Fondation",
        ["entreprise"] = "Entreprise",
        ["autre"] = "Autre",
    };
}
