using System.Net;
using Opportunites.Web.Mail;

namespace Opportunites.Web.Accounts;

/// <summary>The account emails, text and HTML from one model.</summary>
public static class AccountEmails
{
    public static OutgoingEmail Verification(string to, string link) => Build("verification", to,
        "Confirmez votre adresse sur Opportunités",
        "Bienvenue sur Opportunités.",
        "Pour activer votre compte émetteur, confirmez votre adresse en ouvrant ce lien (valable 48 heures) :",
        link, "Confirmer mon adresse",
        "Si vous n'êtes pas à l'origine de cette inscription, ignorez ce message.");

    public static OutgoingEmail AlreadyRegistered(string to, string resetLink) => Build("account_exists", to,
        "Vous avez déjà un compte sur Opportunités",
        "Quelqu'un (vous, sans doute) a demandé à créer un compte avec cette adresse, qui en a déjà un.",
        "Si vous avez oublié votre mot de passe, vous pouvez le réinitialiser (lien valable 1 heure) :",
        resetLink, "Réinitialiser mon mot de passe",
        "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message.");

    public static OutgoingEmail PasswordReset(string to, string link) => Build("reset", to,
        "Réinitialisation de votre mot de passe Opportunités",
        "Vous avez demandé à réinitialiser votre mot de passe.",
        "Choisissez un nouveau mot de passe en ouvrant ce lien, valable 1 heure et utilisable une seule fois :",
        link, "Choisir un nouveau mot de passe",
        "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : votre mot de passe reste inchangé.");

    public static OutgoingEmail EmailChange(string to, string link) => Build("email_change", to,
        "Confirmez votre nouvelle adresse sur Opportunités",
        "Vous avez demandé à utiliser cette adresse pour votre compte Opportunités.",
        "Confirmez-la en ouvrant ce lien (valable 24 heures) ; l'ancienne adresse reste active jusque-là :",
        link, "Confirmer ma nouvelle adresse",
        "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message.");

    internal static OutgoingEmail Build(string category, string to, string subject, string intro, string action,
        string link, string button, string footer)
    {
        var text = $"Bonjour,\n\n{intro}\n{action}\n\n{link}\n\n{footer}\n\n— L'équipe Opportunités\n";
        static string e(string s) => WebUtility.HtmlEncode(s);
        var html = $"""
            <!DOCTYPE html><html lang="fr"><body style="font-family:Arial,sans-serif;color:#161616">
            <p>Bonjour,</p><p>{e(intro)}<br>{e(action)}</p>
            <p><a href="{e(link)}">{e(button)}</a></p>
            <p style="color:#3a3a3a">{e(link)}</p>
            <p>{e(footer)}</p><p>— L'équipe Opportunités</p></body></html>
            """;
        return new OutgoingEmail(category, to, subject, text, html);
    }
}
