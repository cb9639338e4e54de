using System.Globalization;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Publishing;
using Opportunites.Web.Shared;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Import;

/// <summary>
/// CSV import, UTF-8, separator ";" or "," (told by the header line). Columns, by name, in any order:
/// type (emploi, aap, ami), emetteur, titre — required; date_limite (JJ/MM/AAAA or AAAA-MM-JJ), territoire_code
/// (FR, R75, 33…), territoire (a name), lien, description, contact, contrat, beneficiaires, montant, themes (codes or
/// labels separated by "|", "," or ";" inside the cell: "jeunesse|numerique") — optional.
/// The English names of db/demo/opportunites-n51.csv (kind, issuer, title, deadline, territory_code, territory_name,
/// url, contract_type, beneficiaries, amount) are accepted too.
/// </summary>
public static class CsvImportParser
{
    private static readonly Dictionary<string, string> Columns = new()
    {
        ["type"] = "kind",
        ["kind"] = "kind",
        ["emetteur"] = "issuer",
        ["issuer"] = "issuer",
        ["titre"] = "title",
        ["title"] = "title",
        ["date limite"] = "deadline",
        ["deadline"] = "deadline",
        ["territoire code"] = "territory_code",
        ["territory code"] = "territory_code",
        ["code territoire"] = "territory_code",
        ["territoire"] = "territory_name",
        ["territory name"] = "territory_name",
        ["territory"] = "territory_name",
        ["lien"] = "url",
        ["url"] = "url",
        ["description"] = "description",
        ["contact"] = "contact",
        ["contrat"] = "contract_type",
        ["contract type"] = "contract_type",
        ["type de contrat"] = "contract_type",
        ["beneficiaires"] = "beneficiaries",
        ["beneficiaries"] = "beneficiaries",
        ["montant"] = "amount",
        ["amount"] = "amount",
        ["amount eur"] = "amount",
        ["themes"] = "themes",
        ["theme"] = "themes",
        ["thematiques"] = "themes",
    };

    public static bool LooksLikeCsv(string text)
    {
        var first = text.TrimStart('\uFEFF').Split('\n', 2)[0];
        var fields = first.Split(first.Count(c => c == ';') > first.Count(c => c == ',') ? ';' : ',')
            .Select(f => Columns.GetValueOrDefault(TerritoryDirectory.Fold(f.Trim('"'))))
            .ToHashSet();
        return fields.Contains("kind") && fields.Contains("title");
    }

    /// <returns>The rows, or a single French message when the file itself is unusable.</returns>
    public static (List<ImportCandidate> Rows, string? Error) Parse(string text, TerritoryDirectory territories, TerritoryGuesser guesser)
    {
        text = text.TrimStart('\uFEFF');
        var firstLine = text.Split('\n', 2)[0];
        var separator = firstLine.Count(c => c == ';') > firstLine.Count(c => c == ',') ? ';' : ',';
        var rows = Csv.Parse(text, separator);
        if (rows.Count == 0)
        {
            return ([], "Le fichier est vide.");
        }

        var index = new Dictionary<string, int>();
        for (var i = 0; i < rows[0].Length; i++)
        {
            if (Columns.TryGetValue(TerritoryDirectory.Fold(rows[0][i]), out var name))
            {
                index.TryAdd(name, i);
            }
        }

        var missing = new[] { ("kind", "type"), ("issuer", "emetteur"), ("title", "titre") }.Where(c => !index.ContainsKey(c.Item1)).ToList();
        if (missing.Count > 0)
        {
            return ([], $"Colonnes obligatoires absentes de la première ligne : {string.Join(", ", missing.Select(m => m.Item2))}.");
        }

        var result = new List<ImportCandidate>();
        for (var r = 1; r < rows.Count; r++)
        {
            var row = rows[r];
            string? Get(string column) => index.TryGetValue(column, out var i) && i < row.Length && row[i].Trim().Length > 0 ? row[i].Trim() : null;

            var c = new ImportCandidate
            {
                // Header is line 1; a quoted field with a line break makes this approximate, which is fine for messages.
                LineNumber = r + 1,
                Source = string.Join(separator, row),
                Issuer = Get("issuer") ?? "",
                Title = Get("title") ?? "",
                Url = Get("url"),
                Description = Get("description") ?? "",
                Contact = Get("contact"),
            };
            var kind = Get("kind")?.ToLowerInvariant();
            c.Kind = kind switch
            {
                "emploi" or "offre d'emploi" or "job" => Kinds.Emploi,
                "aap" or "appel à projets" or "appel a projets" => Kinds.Aap,
                "ami" => Kinds.Ami,
                _ => null,
            };
            if (c.Kind is null)
            {
                c.Errors.Add(kind is null ? "Type obligatoire (emploi, aap ou ami)." : $"Type inconnu : « {kind} » (emploi, aap ou ami).");
            }

            NewsletterLineParser.CheckLengths(c);
            if (Get("deadline") is { } deadline)
            {
                if (ParisTime.TryParseDate(deadline, out var d))
                {
                    c.DeadlineDate = d;
                }
                else
                {
                    c.Errors.Add($"Date limite invalide : « {deadline} » (attendu JJ/MM/AAAA).");
                }
            }

            if (c.Url is not null && !OfferForm.IsHttpUrl(c.Url))
            {
                c.Errors.Add("Le lien doit commencer par http:// ou https://.");
            }

            if (c.Kind == Kinds.Emploi)
            {
                var contract = Get("contract_type");
                if (contract is not null)
                {
                    var code = ContractTypes.Labels.FirstOrDefault(l =>
                        string.Equals(l.Key, contract, StringComparison.OrdinalIgnoreCase) || string.Equals(l.Value, contract, StringComparison.OrdinalIgnoreCase)).Key;
                    if (code is null)
                    {
                        c.Errors.Add($"Type de contrat inconnu : « {contract} ».");
                    }

                    c.ContractType = code;
                }
            }
            else
            {
                c.Beneficiaries = Get("beneficiaries");
                if (Get("amount") is { } amount)
                {
                    if (OfferForm.TryParseAmount(amount, out var a))
                    {
                        c.AmountEur = a;
                    }
                    else
                    {
                        c.Errors.Add($"Montant invalide : « {amount} ».");
                    }
                }
            }

            // Checked against the themes table by the importer (ResolveThemesAsync), which has the database at hand.
            c.ThemeNames = Get("themes")?.Split(['|', ',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList() ?? [];
            ResolveTerritory(c, Get("territory_code"), Get("territory_name"), territories, guesser);
            result.Add(c);
        }

        return (result, null);
    }

    private static void ResolveTerritory(ImportCandidate c, string? code, string? name, TerritoryDirectory territories, TerritoryGuesser guesser)
    {
        if (code is not null)
        {
            if (territories.Get(code) is { } t)
            {
                c.Apply(new TerritoryGuess([t.Code], $"colonne territoire_code « {code} » → {TerritoryGuesser.Describe(t)}", []));
            }
            else
            {
                c.Errors.Add($"Code de territoire inconnu : « {code} ».");
            }

            return;
        }

        if (name is not null)
        {
            // A name column names a place as people write it: the largest of that name ("Landes" the département, not
            // the commune of Charente-Maritime), asked only when several of the same level share it ("Saint-Denis").
            var candidates = territories.Tree.ResolveCandidates(name);
            var largest = candidates.Where(x => candidates.All(other => other.LevelRank >= x.LevelRank)).ToList();
            if (largest.Count == 1)
            {
                c.Apply(new TerritoryGuess([largest[0].Code], $"colonne territoire « {name} » → {TerritoryGuesser.Describe(largest[0])}", []));
                return;
            }

            if (largest.Count > 1)
            {
                c.Apply(new TerritoryGuess([], $"colonne territoire « {name} » : plusieurs territoires portent ce nom ("
                    + string.Join(", ", largest.Select(x => x.Label)) + ") : à compléter", largest, name));
                return;
            }

            if (guesser.Guess(name) is { Known: true } guessed)
            {
                c.Apply(guessed);
                return;
            }
        }

        NewsletterLineParser.GuessTerritory(c, guesser);
    }
}
