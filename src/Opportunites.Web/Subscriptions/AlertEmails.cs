using Opportunites.Web.Mail;

namespace Opportunites.Web.Subscriptions;

/// <summary>The transactional emails of alerts (confirmation, notices), French html + text from one model.</summary>
public static class AlertEmails
{
    public const string ListId = "Alertes Opportunites <alertes.opportunites.local>";

    public static OutgoingEmail Confirmation(string to, string confirmUrl, string summary)
    {
        const string subject = "Confirmez votre alerte Opportunités";
        var text = $"""
            Bonjour,

            Vous avez demandé à recevoir des alertes par email d'Opportunités :
            {summary}

            Pour les activer, confirmez votre adresse en ouvrant ce lien (valable 7 jours) :
            {confirmUrl}

            Tant que vous n'avez pas confirmé, nous ne vous enverrons rien d'autre. Si vous n'êtes pas à l'origine
            de cette demande, ignorez ce message : votre adresse sera effacée dans 7 jours.

            — Opportunités
            """;
        var html = MailHtml.Document(subject, $"""
            <p>Bonjour,</p>
            <p>Vous avez demandé à recevoir des alertes par email d'Opportunités :</p>
            <p>{MailHtml.Encode(summary).ReplaceLineEndings("<br>")}</p>
            <p><a href="{MailHtml.Encode(confirmUrl)}">Confirmer mon adresse</a> (lien valable 7 jours)</p>
            <p>Tant que vous n'avez pas confirmé, nous ne vous enverrons rien d'autre. Si vous n'êtes pas à l'origine
            de cette demande, ignorez ce message : votre adresse sera effacée dans 7 jours.</p>
            <p>— Opportunités</p>
            """);
        return new OutgoingEmail("alert_confirmation", to, subject, text, html);
    }

    /// <summary>To an already confirmed address that asked again: no change without the owner, a link to manage.</summary>
    public static OutgoingEmail AlreadySubscribed(string to, string manageUrl)
    {
        const string subject = "Votre alerte Opportunités";
        var text = $"""
            Bonjour,

            Une demande d'alerte a été faite pour cette adresse, qui reçoit déjà une veille d'Opportunités.
            Pour modifier vos territoires, types d'offre, thèmes ou fréquence, ou pour vous désinscrire :
            {manageUrl}

            Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : rien n'a été modifié.

            — Opportunités
            """;
        var html = MailHtml.Document(subject, $"""
            <p>Bonjour,</p>
            <p>Une demande d'alerte a été faite pour cette adresse, qui reçoit déjà une veille d'Opportunités.</p>
            <p><a href="{MailHtml.Encode(manageUrl)}">Gérer mon alerte</a> (territoires, types d'offre, thèmes, fréquence, désinscription)</p>
            <p>Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : rien n'a été modifié.</p>
            <p>— Opportunités</p>
            """);
        return new OutgoingEmail("alert_notice", to, subject, text, html);
    }

    /// <summary>To a confirmed address (e.g. from a reminder) that added a digest: it starts, with a way out.</summary>
    public static OutgoingEmail DigestStarted(string to, string summary, string manageUrl, string unsubscribeUrl)
    {
        const string subject = "Votre veille Opportunités est activée";
        var text = $"""
            Bonjour,

            Votre veille par email est activée :
            {summary}

            Gérer mon alerte : {manageUrl}
            Me désinscrire : {unsubscribeUrl}

            — Opportunités
            """;
        var html = MailHtml.Document(subject, $"""
            <p>Bonjour,</p>
            <p>Votre veille par email est activée :</p>
            <p>{MailHtml.Encode(summary).ReplaceLineEndings("<br>")}</p>
            <p><a href="{MailHtml.Encode(manageUrl)}">Gérer mon alerte</a> · <a href="{MailHtml.Encode(unsubscribeUrl)}">Me désinscrire</a></p>
            <p>— Opportunités</p>
            """);
        return new OutgoingEmail("alert_notice", to, subject, text, html, Headers: UnsubscribeHeaders(unsubscribeUrl));
    }

    /// <summary>RFC 2369 / RFC 8058 headers: mail clients show an unsubscribe button that POSTs one click.</summary>
    public static Dictionary<string, string> UnsubscribeHeaders(string unsubscribeUrl) => new()
    {
        ["List-Id"] = ListId,
        ["List-Unsubscribe"] = $"<{unsubscribeUrl}>",
        ["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click",
    };
}
