using System.Text;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Shared;

namespace Opportunites.Web.Import;

/// <summary>The import outcome as plain French text (command line).</summary>
public static class ImportReport
{
    public static string Describe(ImportCandidate c) =>
        $"[{(c.Kind is null ? "?" : Kinds.Label(c.Kind))}] {c.Issuer} / {c.Title}"
        + (c.DeadlineDate is { } d ? $" - Jusqu'au {ParisTime.FormatDate(d)}" : "")
        + (c.TerritoryCodes.Count > 0 ? $" ({string.Join(", ", c.TerritoryCodes)})" : "");

    public static string Text(ImportResult r)
    {
        var sb = new StringBuilder();
        if (r.FileError is not null)
        {
            sb.Append("Fichier refusé : ").Append(r.FileError).Append('\n');
            return sb.ToString();
        }

        sb.Append($"Import : {r.CreatedIds.Count} offre(s) créée(s), {r.Duplicates.Count()} doublon(s) ignoré(s), {r.Incomplete.Count()} ligne(s) à compléter, {r.Errors.Count()} ligne(s) en erreur.\n");
        // Every territory guessed, and why: what a person checks before the list goes out.
        var readable = r.Candidates.Where(c => c.State is not CandidateState.Error).ToList();
        if (readable.Count > 0)
        {
            sb.Append("Territoires :\n");
            foreach (var c in readable)
            {
                sb.Append("  ligne ").Append(c.LineNumber).Append(" : ")
                    .Append(c.TerritoryCodes.Count > 0 ? string.Join(", ", c.TerritoryCodes) : "à compléter")
                    .Append(" — ").Append(c.TerritoryReason).Append('\n');
            }
        }

        foreach (var c in r.Created)
        {
            sb.Append("  créée      ligne ").Append(c.LineNumber).Append(" : ").Append(Describe(c)).Append('\n');
        }

        foreach (var c in r.Duplicates)
        {
            sb.Append("  doublon    ligne ").Append(c.LineNumber).Append(" : ").Append(Describe(c))
                .Append(c.ExistingId is { } id ? $" (déjà présente : offre n°{id})" : " (répétée dans le fichier)").Append('\n');
        }

        foreach (var c in r.Errors)
        {
            sb.Append("  erreur     ligne ").Append(c.LineNumber).Append(" : ").Append(c.Source).Append(" — ").Append(string.Join(" ", c.Errors)).Append('\n');
        }

        foreach (var c in r.Incomplete)
        {
            sb.Append("  à compléter ligne ").Append(c.LineNumber).Append(" : ").Append(c.Source).Append(" — manque ")
                .Append(string.Join(" et ", c.Missing))
                .Append(c.Missing.Contains("le territoire") ? $" ({c.TerritoryReason})" : "")
                .Append(c.Kind is null ? " (placez la ligne sous un titre « AAP / AMI » ou « Offres d'emploi »)" : "").Append('\n');
        }

        if (r.ToReview.Any())
        {
            sb.Append("Territoire non reconnu, territoire par défaut appliqué (à vérifier) :\n");
            foreach (var c in r.ToReview)
            {
                sb.Append("  ligne ").Append(c.LineNumber).Append(" : ").Append(Describe(c)).Append('\n');
            }
        }

        return sb.ToString();
    }
}
