using System.Text.RegularExpressions;

namespace Opportunites.Web.Accounts;

public static partial class EmailAddress
{
    public static string Normalize(string? email) => (email ?? "").Trim();

    /// <returns>A French message when the address is not usable, null when it is.</returns>
    public static string? Check(string? email)
    {
        var e = Normalize(email);
        if (e.Length == 0)
        {
            return "L'adresse email est obligatoire.";
        }

        return e.Length <= 320 && Shape().IsMatch(e) ? null : "L'adresse email n'est pas valide (exemple : nom@domaine.fr).";
    }

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    private static partial Regex Shape();
}
