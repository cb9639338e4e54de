using System.Text;
using Opportunites.Web.Mail;

namespace Opportunites.Tests.Mail;

/// <summary>
/// The quoted-printable bodies MimeWriter writes: copied in runs for speed, they must stay byte for byte what the
/// one-byte-at-a-time rule gives (kept here as the reference), decode to the text, and keep every line within 76
/// characters, without trailing whitespace or a leading '.'.
/// </summary>
public sealed class MimeWriterTests
{
    private static readonly string[] Pieces =
    [
        "a", "Z", " ", "  ", "\t", ".", "..", "=", "é", "€", "😀", "\n", "\r\n", "\n.", " \n", "\t\n", "<p>", "&amp;",
        "https://opportunites.test/offres/12345-appel-a-projets", "Appel à projets « cohésion sociale »",
        new string('x', 74), new string('y', 75), new string('z', 76), new string('.', 3), "\u0001", "\u007f",
    ];

    [Test]
    public void QuotedPrintable_RandomBodies_SameBytesAsTheReferenceRuleAndDecodesBack()
    {
        var random = new Random(20261122);
        for (var n = 0; n < 3_000; n++)
        {
            var text = new StringBuilder();
            var count = random.Next(0, 60);
            for (var k = 0; k < count; k++)
            {
                text.Append(Pieces[random.Next(Pieces.Length)]);
            }

            var body = text.ToString();
            var written = TextPart(body);
            Assert.That(written, Is.EqualTo(Reference(body)), $"corps n° {n} : {body}");
            var lines = written.Split("\r\n");
            Assert.That(lines.Select(l => l.Length), Is.All.LessThanOrEqualTo(76), body);
            Assert.That(lines.Where(l => l.StartsWith('.')), Is.Empty, body);
            Assert.That(lines.Where(l => l.EndsWith(' ') || l.EndsWith('\t')), Is.Empty, body);
            Assert.That(Decode(written), Is.EqualTo(body.ReplaceLineEndings("\n")), body);
        }
    }

    [Test]
    public void QuotedPrintable_DigestSizedBody_SameBytesAsTheReferenceRule()
    {
        var body = new StringBuilder();
        for (var i = 0; i < 400; i++)
        {
            body.Append($"- Appel à projets n° {i} : lutte contre la précarité étudiante = priorité \n")
                .Append($"  https://opportunites.test/offres/{i}-appel-a-projets\n\n.{i}\n");
        }

        Assert.That(TextPart(body.ToString()), Is.EqualTo(Reference(body.ToString())));
    }

    // A digest group's body is encoded once and only its lines with links are encoded per message (PreparedBody): the
    // message must be byte for byte the one written from the personalised text, whatever the placeholders sit next to.
    [Test]
    public void PreparedBody_RandomTemplatesAndValues_SameBytesAsThePersonalisedTextEncodedWhole()
    {
        string[] placeholders = ["{{lien-gerer}}", "{{lien-desinscription}}"];
        string[] pieces = [.. Pieces, .. placeholders, .. placeholders, "{{", "}}"];
        var random = new Random(20261123);
        string Draw(string[] from, int max)
        {
            var text = new StringBuilder();
            for (var k = random.Next(0, max); k > 0; k--)
            {
                text.Append(from[random.Next(from.Length)]);
            }

            return text.ToString();
        }

        for (var n = 0; n < 2_000; n++)
        {
            var template = Draw(pieces, 80);
            string?[] values = [Draw(Pieces, 6), Draw(Pieces, 6), Draw(Pieces, 6), n % 7 == 0 ? null : Draw(Pieces, 6)];
            var whole = Outbox.Personalise(template, placeholders, values, 0);
            var prepared = new MailMessage("<qp@opportunites.test>", "annonces@opportunites.test", "Opportunités", "a@example.org",
                null, "Sujet", "", "<p>html</p>", new Dictionary<string, string>(), DateTimeOffset.UnixEpoch)
            {
                TextPart = new PersonalisedBody(new PreparedBody(template, placeholders), values, n % 2 == 0 ? 0 : 2),
            };
            var expected = n % 2 == 0 ? whole : Outbox.Personalise(template, placeholders, values, 2);
            // The delivery job prepares from the UTF-8 bytes the outbox stores.
            var fromBytes = prepared with
            {
                TextPart = new PersonalisedBody(new PreparedBody(Encoding.UTF8.GetBytes(template), placeholders), values, n % 2 == 0 ? 0 : 2),
            };

            Assert.That(TextPart(prepared), Is.EqualTo(TextPart(expected)), $"modèle n° {n} : {template}");
            Assert.That(TextPart(fromBytes), Is.EqualTo(TextPart(expected)), $"modèle n° {n} (UTF-8) : {template}");
        }
    }

    // Line ends other than '\n' are normalized as for a string (ReplaceLineEndings), including those written in UTF-8
    // on two or three bytes.
    [TestCase("a\r\nb {{lien}}\r\nc")]
    [TestCase("a\rb\r{{lien}}\rc\r")]
    [TestCase("a\u2028b\u2029c {{lien}}\u0085d\fe")]
    [TestCase("Å\u0085 {{lien}} \u2026 é\u2028")]
    public void PreparedBody_FromUtf8WithOtherLineEnds_SameBytesAsFromTheString(string template)
    {
        string[] placeholders = ["{{lien}}"];
        string?[] values = ["https://opportunites.test/alertes/x"];
        MailMessage With(PreparedBody body) =>
            new("<qp@opportunites.test>", "annonces@opportunites.test", "Opportunités", "a@example.org", null, "Sujet", "",
                "<p>html</p>", new Dictionary<string, string>(), DateTimeOffset.UnixEpoch)
            {
                TextPart = new PersonalisedBody(body, values, 0),
            };

        var fromString = TextPart(With(new PreparedBody(template, placeholders)));
        var fromBytes = TextPart(With(new PreparedBody(Encoding.UTF8.GetBytes(template), placeholders)));

        Assert.That(fromBytes, Is.EqualTo(fromString));
        Assert.That(fromBytes, Is.EqualTo(TextPart(Outbox.Personalise(template, placeholders, values, 0))));
    }

    /// <summary>The text/plain part of a message written with that body, as written.</summary>
    private static string TextPart(string body) =>
        TextPart(new MailMessage("<qp@opportunites.test>", "annonces@opportunites.test", "Opportunités", "a@example.org", null,
            "Sujet", body, "<p>html</p>", new Dictionary<string, string>(), DateTimeOffset.UnixEpoch));

    private static string TextPart(MailMessage message)
    {
        var mime = Encoding.ASCII.GetString(MimeWriter.Write(message));
        const string start = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n";
        var from = mime.IndexOf(start, StringComparison.Ordinal) + start.Length;
        var to = mime.IndexOf("\r\n--=_alt_", from, StringComparison.Ordinal);
        return mime[from..to];
    }

    /// <summary>The rule one byte at a time, as MimeWriter first wrote it.</summary>
    private static string Reference(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text.ReplaceLineEndings("\n"));
        var o = new StringBuilder();
        var line = 0;
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            if (b == '\n')
            {
                o.Append("\r\n");
                line = 0;
                continue;
            }

            var atLineEnd = i + 1 == bytes.Length || bytes[i + 1] == '\n';
            var encode = b > 126 || (b < 32 && b != '\t') || b == '=' || ((b == ' ' || b == '\t') && atLineEnd) || (b == '.' && line == 0);
            var width = encode ? 3 : 1;
            if (line + width > 75)
            {
                o.Append("=\r\n");
                line = 0;
                if (b == '.')
                {
                    encode = true;
                    width = 3;
                }
            }

            o.Append(encode ? $"={b:X2}" : ((char)b).ToString());
            line += width;
        }

        return o.ToString();
    }

    private static string Decode(string qp)
    {
        var bytes = new List<byte>();
        var s = qp.Replace("=\r\n", "").Replace("\r\n", "\n");
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '=')
            {
                bytes.Add(Convert.ToByte(s.Substring(i + 1, 2), 16));
                i += 2;
            }
            else
            {
                bytes.Add((byte)s[i]);
            }
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }
}
