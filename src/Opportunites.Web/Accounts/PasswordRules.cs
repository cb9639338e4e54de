namespace Opportunites.Web.Accounts;

/// <summary>What a password must be: long enough, and not one everybody tries first.</summary>
public static class PasswordRules
{
    public const int MinLength = 12;
    public const int MaxLength = 200;

    // Passwords of 12+ characters that top the leaked-password lists; compared without case.
    private static readonly HashSet<string> Common = new(StringComparer.OrdinalIgnoreCase)
    {
        "123456789012", "1234567890123", "12345678901234", "123456789abc", "azertyuiop12", "azertyuiop123",
        "azertyuiopqs", "qwertyuiop12", "qwertyuiop123", "motdepasse12", "motdepasse123", "motdepasse1234",
        "motdepasse!!", "password1234", "password12345", "passwordpassword", "iloveyou1234", "1q2w3e4r5t6y",
        "qwerty123456", "azerty123456", "azertyazerty", "qwertyqwerty", "aaaaaaaaaaaa", "abcdefghijkl",
        "abc123456789", "000000000000", "111111111111", "soleil123456", "bonjour12345", "bonjour123456",
        "marseille1234", "doudou123456", "chouchou1234", "loulou123456", "nicolas12345", "football1234",
        "welcome12345", "letmein12345", "administrateur", "administrator", "opportunites", "opportunités",
        "opportunites123", "changeme1234", "azertyuiop1234", "0123456789ab", "trustno11234", "monmotdepasse",
    };

    /// <returns>A French message when the password is not acceptable, null when it is.</returns>
    public static string? Check(string? password)
    {
        if (string.IsNullOrEmpty(password))
        {
            return "Le mot de passe est obligatoire.";
        }

        if (password.Length < MinLength)
        {
            return $"Le mot de passe doit contenir au moins {MinLength} caractères.";
        }

        if (password.Length > MaxLength)
        {
            return $"Le mot de passe ne doit pas dépasser {MaxLength} caractères.";
        }

        if (Common.Contains(password) || password.Distinct().Count() <= 2)
        {
            return "Ce mot de passe est trop courant : choisissez-en un autre.";
        }

        return null;
    }
}
