using System.Globalization;
using System.Text.Json;
using Opportunites.Web.Shared;

namespace Opportunites.Web.Publishing;

/// <summary>One field that an edit changes, as a moderator reads it.</summary>
public sealed record FieldChange(string Label, string Before, string After);

/// <summary>Edits of published offers waiting for moderation (opportunity_revisions): stored as JSON, shown as a diff.</summary>
public static class OfferRevisions
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string Write(OfferData data) => JsonSerializer.Serialize(data, Json);

    public static OfferData Read(string json) => JsonSerializer.Deserialize<OfferData>(json, Json)
        ?? throw new InvalidOperationException("Révision illisible.");

    /// <summary>The fields that differ, labels in French; territory and theme codes are named by the callbacks.</summary>
    public static IReadOnlyList<FieldChange> Diff(OfferData before, OfferData after, Func<string, string>? territoryName = null,
        Func<string, string>? themeLabel = null)
    {
        territoryName ??= c => c;
        themeLabel ??= c => c;
        var changes = new List<FieldChange>();
        void Add(string label, string? a, string? b)
        {
            if ((a ?? "") != (b ?? ""))
            {
                changes.Add(new FieldChange(label, string.IsNullOrEmpty(a) ? "(vide)" : a, string.IsNullOrEmpty(b) ? "(vide)" : b));
            }
        }

        static string Deadline(OfferData d) => d.DeadlineDate is { } date
            ? ParisTime.FormatDate(date) + (d.DeadlineTime is { } t ? $" à {t:HH'h'mm}" : "")
            : "Sans date limite";

        Add("Type", Opportunities.Kinds.LongLabel(before.Kind), Opportunities.Kinds.LongLabel(after.Kind));
        Add("Titre", before.Title, after.Title);
        Add("Date limite", Deadline(before), Deadline(after));
        Add("Territoires", string.Join(", ", before.TerritoryCodes.Order(StringComparer.Ordinal).Select(territoryName)),
            string.Join(", ", after.TerritoryCodes.Order(StringComparer.Ordinal).Select(territoryName)));
        Add("Lieu de travail", before.WorkTerritoryCode is { } bw ? territoryName(bw) : null,
            after.WorkTerritoryCode is { } aw ? territoryName(aw) : null);
        Add("Thèmes", string.Join(", ", before.Themes.Order(StringComparer.Ordinal).Select(themeLabel)),
            string.Join(", ", after.Themes.Order(StringComparer.Ordinal).Select(themeLabel)));
        Add("Description", before.Description, after.Description);
        Add("Lien", before.Url, after.Url);
        Add("Contact", before.Contact, after.Contact);
        Add("Contrat", ContractTypes.Label(before.ContractType), ContractTypes.Label(after.ContractType));
        Add("Bénéficiaires", before.Beneficiaries, after.Beneficiaries);
        Add("Montant", before.AmountEur?.ToString("#,0.##", ParisTime.French), after.AmountEur?.ToString("#,0.##", ParisTime.French));
        return changes;
    }

    /// <summary>For the audit trail: which fields the edit changes.</summary>
    public static string Describe(OfferData before, OfferData after)
    {
        var fields = Diff(before, after).Select(c => c.Label.ToLower(CultureInfo.GetCultureInfo("fr-FR"))).ToList();
        return $"{after.Title} — modification en attente de validation ({(fields.Count == 0 ? "aucun champ changé" : string.Join(", ", fields))})";
    }
}
