using Opportunites.Web.Opportunities;
using Opportunites.Web.Publishing;
using Opportunites.Web.Shared;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Import;

/// <summary>
/// Reads the lists typed by hand in the resource centre's newsletter:
/// <c>Émetteur / Titre - Jusqu'au JJ/MM/AAAA</c>, "Jusqu'au" optional (<c>… - 12/03/2025</c>) and the deadline too,
/// in any of the forms <see cref="DeadlineText"/> reads; section headers ("AAP / AMI", "Offres d'emploi") set the kind
/// of the lines below; a title starting with AAP or AMI sets it too.
/// </summary>
public static class NewsletterLineParser
{
    private static readonly Dictionary<string, string> Headers = new()
    {
        ["aap ami"] = Kinds.Aap,
        ["aap"] = Kinds.Aap,
        ["ami"] = Kinds.Ami,
        ["appels a projets ami"] = Kinds.Aap,
        ["appels a projets"] = Kinds.Aap,
        ["appel a projets"] = Kinds.Aap,
        ["appels a projets et ami"] = Kinds.Aap,
        ["appels a manifestation d interet"] = Kinds.Ami,
        ["offres d emploi"] = Kinds.Emploi,
        ["offre d emploi"] = Kinds.Emploi,
        ["emploi"] = Kinds.Emploi,
        ["emplois"] = Kinds.Emploi,
    };

    /// <summary>The kind a section header sets, or null when the line is not a header.</summary>
    public static string? HeaderKind(string line) =>
        Headers.TryGetValue(TerritoryDirectory.Fold(line.Trim().TrimEnd(':')), out var kind) ? kind : null;

    public static List<ImportCandidate> Parse(string text, TerritoryGuesser guesser)
    {
        var result = new List<ImportCandidate>();
        string? section = null;
        var lines = text.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim().TrimStart('\uFEFF', '•', '-', '*', '·').Trim();
            if (line.Length == 0)
            {
                continue;
            }

            if (HeaderKind(line) is { } headerKind)
            {
                section = headerKind;
                continue;
            }

            result.Add(ParseLine(i + 1, line, section, guesser));
        }

        return result;
    }

    public static ImportCandidate ParseLine(int lineNumber, string line, string? section, TerritoryGuesser guesser)
    {
        var c = new ImportCandidate { LineNumber = lineNumber, Source = line };
        var slash = line.IndexOf(" / ", StringComparison.Ordinal);
        if (slash < 0)
        {
            c.Errors.Add("Ligne non reconnue : attendu « Émetteur / Titre - Jusqu'au JJ/MM/AAAA ».");
            c.Title = line;
            return c;
        }

        c.Issuer = line[..slash].Trim();
        var rest = line[(slash + 3)..].Trim();
        var split = DeadlineText.Read(rest);
        c.Title = split.Title;
        c.DeadlineDate = split.Date;
        if (split.Error is not null)
        {
            c.Errors.Add(split.Error);
        }

        // Without a section heading nor "AAP"/"AMI" in the title the kind is left to choose in the preview.
        c.Kind = KindOfTitle(c.Title) ?? section;
        CheckLengths(c);
        GuessTerritory(c, guesser);
        return c;
    }

    /// <summary>"AAP …", "AMI …", "A.M.I. …" at the start of a title set the kind.</summary>
    public static string? KindOfTitle(string title)
    {
        var folded = TerritoryDirectory.Fold(title.Replace(".", ""));
        return folded.StartsWith("ami ", StringComparison.Ordinal) || folded == "ami" ? Kinds.Ami
            : folded.StartsWith("aap ", StringComparison.Ordinal) || folded == "aap" ? Kinds.Aap
            : null;
    }

    internal static void CheckLengths(ImportCandidate c)
    {
        if (c.Issuer.Length is < 2 or > 200)
        {
            c.Errors.Add("L'émetteur doit contenir entre 2 et 200 caractères.");
        }

        if (c.Title.Length is < OfferForm.TitleMin or > OfferForm.TitleMax)
        {
            c.Errors.Add($"Le titre doit contenir entre {OfferForm.TitleMin} et {OfferForm.TitleMax} caractères.");
        }
    }

    internal static void GuessTerritory(ImportCandidate c, TerritoryGuesser guesser) => c.Apply(guesser.Guess(c.Issuer, c.Title));
}
