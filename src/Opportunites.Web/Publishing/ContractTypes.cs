namespace Opportunites.Web.Publishing;

/// <summary>Contract types of a job offer, as stored (CHECK in 0001_schema.sql) and as French users read them.</summary>
public static class ContractTypes
{
    public static readonly IReadOnlyDictionary<string, string> Labels = new Dictionary<string, string>
    {
        ["cdi"] = "CDI",
        ["cdd"] = "CDD",
        ["stage"] = "Stage",
        ["alternance"] = "Alternance",
        ["service_civique"] = "Service civique",
        ["fonction_publique_titulaire"] = "Fonction publique (titulaire)",
        ["fonction_publique_contractuel"] = "Fonction publique (contractuel)",
        ["autre"] = "Autre",
    };

    public static string Label(string? code) => code is not null && Labels.TryGetValue(code, out var l) ? l : "";
}
