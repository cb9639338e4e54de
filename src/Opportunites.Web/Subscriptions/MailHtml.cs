using System.Buffers;
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

        // Most values (links, names) have nothing to escape: no copy then (a digest run encodes two links per subscriber).
        if (text.AsSpan().IndexOfAny(Special) < 0)
        {
            return text;
        }

        var sb = new StringBuilder(text.Length + 16);
        Append(sb, text);
        return sb.ToString();
    }

    /// <summary>Appends <paramref name="text"/> escaped, without an intermediate string.</summary>
    public static StringBuilder Append(StringBuilder sb, string? text)
    {
        foreach (var c in text ?? "")
        {
            _ = c switch
            {
                '&' => sb.Append("&amp;"),
                '<' => sb.Append("&lt;"),
                '>' => sb.Append("&gt;"),
                '"' => sb.Append("&quot;"),
                '\'' => sb.Append("&#39;"),
                _ => sb.Append(c),
            };
        }

        return sb;
    }

    private static readonly SearchValues<char> Special = SearchValues.Create("&<>\"'");

    /// <summary>A whole HTML document around a body fragment, with the French language set.</summary>
    public static string Document(string title, string body) =>
        DocumentEnd(DocumentStart(new StringBuilder(body.Length + 512), title).Append(body)).ToString();

    /// <summary>
    /// What <see cref="Document"/> writes before the body: a large body (a digest) is then appended to the same builder
    /// instead of being copied once more into the document.
    /// </summary>
    public static StringBuilder DocumentStart(StringBuilder sb, string title) =>
        Append(sb.Append("<!DOCTYPE html>\n<html lang=\"fr\">\n<head><meta charset=\"utf-8\"><title>"), title)
            .Append("</title></head>\n<body style=\"font-family: Arial, sans-serif; color: #1a1a1a; max-width: 640px; margin: 0 auto; padding: 16px;\">\n");

    /// <summary>What <see cref="Document"/> writes after the body.</summary>
    public static StringBuilder DocumentEnd(StringBuilder sb) => sb.Append("\n</body>\n</html>");
}
