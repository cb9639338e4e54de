using Opportunites.Web.Subscriptions;

namespace Opportunites.Tests.Subscriptions;

/// <summary>Escaping and the document wrapper of the emails' HTML part.</summary>
public sealed class MailHtmlTests
{
    [TestCase("Lien https://exemple.fr/offres?territoire=33", "Lien https://exemple.fr/offres?territoire=33")]
    [TestCase("Tom & Léa <b>\"l'été\"</b>", "Tom &amp; Léa &lt;b&gt;&quot;l&#39;été&quot;&lt;/b&gt;")]
    [TestCase("", "")]
    [TestCase(null, "")]
    public void Encode_EscapesMarkupCharactersOnly(string? text, string expected) =>
        Assert.That(MailHtml.Encode(text), Is.EqualTo(expected));

    [Test]
    public void Encode_NothingToEscape_ReturnsTheSameString()
    {
        var url = "https://exemple.fr/alertes/gerer?jeton=CfDJ8-abc_123";
        Assert.That(MailHtml.Encode(url), Is.SameAs(url));
    }

    [Test]
    public void Document_WrapsTheBodyWithTheEscapedTitle_AndStartEndWriteTheSame()
    {
        const string body = "<p>Corps</p>";
        var document = MailHtml.Document("Veille & alertes", body);

        Assert.That(document, Is.EqualTo(
            "<!DOCTYPE html>\n<html lang=\"fr\">\n<head><meta charset=\"utf-8\"><title>Veille &amp; alertes</title></head>\n"
            + "<body style=\"font-family: Arial, sans-serif; color: #1a1a1a; max-width: 640px; margin: 0 auto; padding: 16px;\">\n"
            + "<p>Corps</p>\n</body>\n</html>"));
        var built = MailHtml.DocumentEnd(MailHtml.DocumentStart(new System.Text.StringBuilder(), "Veille & alertes").Append(body)).ToString();
        Assert.That(built, Is.EqualTo(document));
    }
}
