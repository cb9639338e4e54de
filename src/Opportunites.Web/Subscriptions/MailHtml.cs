using System.Text;

namespace Opportunites.Web.Subscriptions;

/// <summary>Escaping for hand-written email HTML: keeps accented letters readable, escapes markup characters.</summary>
public static class MailHtml
{
    public static string Encode(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        var sb = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            sb.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => c.ToString(),
            });
        }

        return sb.ToString();
    }

    /// <summary>A whole HTML document around a body fragment, with the French language set.</summary>
    public static string Document(string title, string body) =>
        $"""
        <!DOCTYPE html>
        <html lang="fr">
        <head><meta charset="utf-8"><title>{Encode(title)}</title></head>
        <body style="font-family: Arial, sans-serif; color: #1a1a1a; max-width: 640px; margin: 0 auto; padding: 16px;">
        {body}
        </body>
        </html>
        """;
}
