using System.Text;
using MimeKit;
using MimeKit.Encodings;
using Opportunites.Web.Mail;

namespace Opportunites.Tests.Mail;

/// <summary>
/// The messages MimeKit builds for outbox rows: a digest group's body is encoded once and only its lines with links are
/// encoded per message (PreparedBody), and rows of one group reuse one MimeMessage: neither may change a byte of what
/// each recipient gets.
/// </summary>
public sealed class MessageBuilderTests
{
    private static readonly string[] Pieces =
    [
        "a", "Z", " ", "  ", "\t", ".", "..", "=", "é", "€", "😀", "\n", "\r\n", "\n.", " \n", "\t\n", "<p>", "&amp;",
        "https://opportunites.test/offres/12345-appel-a-projets", "Appel à projets « cohésion sociale »",
        new string('x', 74), new string('y', 75), new string('z', 76), new string('.', 3), "\u0001", "\u007f",
    ];

    private static readonly string[] Placeholders = ["{{lien-gerer}}", "{{lien-desinscription}}"];

    /// <summary>Up to <paramref name="max"/> pieces drawn at random, one after the other.</summary>
    private static string DrawPieces(Random random, string[] from, int max)
    {
        var text = new StringBuilder();
        for (var k = random.Next(0, max); k > 0; k--)
        {
            text.Append(from[random.Next(from.Length)]);
        }

        return text.ToString();
    }

    [Test]
    public void PreparedBody_RandomTemplatesAndValues_SameBytesAsThePersonalisedTextEncodedWholeAndDecodesBack()
    {
        string[] pieces = [.. Pieces, .. Placeholders, .. Placeholders, "{{", "}}"];
        var random = new Random(20261123);
        string Draw(string[] from, int max) => DrawPieces(random, from, max);

        using var buffer = new MemoryStream();
        for (var n = 0; n < 2_000; n++)
        {
            var template = Draw(pieces, 80);
            string?[] values = [Draw(Pieces, 6), Draw(Pieces, 6), Draw(Pieces, 6), n % 7 == 0 ? null : Draw(Pieces, 6)];
            var offset = n % 2 == 0 ? 0 : 2;
            var expected = Outbox.Personalise(template, Placeholders, values, offset).ReplaceLineEndings("\n");
            var whole = PreparedBody.Encode(Encoding.UTF8.GetBytes(expected));

            // The delivery job prepares from the UTF-8 bytes the outbox stores; the string form must give the same.
            foreach (var prepared in new[] { new PreparedBody(template, Placeholders), new PreparedBody(Encoding.UTF8.GetBytes(template), Placeholders) })
            {
                var written = Bytes(prepared.Personalise(buffer, values, offset));
                Assert.That(Encoding.ASCII.GetString(written), Is.EqualTo(Encoding.ASCII.GetString(whole)), $"modèle n° {n} : {template}");
                Assert.That(Decode(written), Is.EqualTo(expected), $"modèle n° {n} : {template}");
                Assert.That(Encoding.ASCII.GetString(written).Split("\r\n").Select(l => l.Length), Is.All.LessThanOrEqualTo(76));
                Assert.That(Encoding.ASCII.GetString(written).Replace("\r\n", ""), Does.Not.Contain('\r').And.Not.Contain('\n'));
            }
        }
    }

    [Test]
    public void PreparedBody_RandomTemplatesWithFragments_SameBytesAsTheBodyWithItsFragmentsInPlaceEncodedWhole()
    {
        // Fragments are whole lines (an offer's), the body's own text anything around their markers.
        string[] pieces = [.. Pieces, .. Placeholders, MailFragment.Marker, MailFragment.Marker];
        var random = new Random(20261204);
        string Draw(string[] from, int max) => DrawPieces(random, from, max);

        using var buffer = new MemoryStream();
        for (var n = 0; n < 2_000; n++)
        {
            // A marker counts on a line of its own: one after a line end or at the start.
            var template = (n % 3 == 0 ? MailFragment.Marker : "") + Draw(pieces, 60);
            var markers = 0;
            foreach (var line in template.ReplaceLineEndings("\n").Split('\n').SkipLast(1))
            {
                markers += line == "\u001A" ? 1 : 0;
            }

            var fragments = Enumerable.Range(0, markers)
                .Select(_ => MailFragment.Of(Draw(Pieces, 8) + "\n", Draw(Pieces, 8) + "\n")).ToList();
            string?[] values = [Draw(Pieces, 6), Draw(Pieces, 6)];
            var utf8 = Encoding.UTF8.GetBytes(template.ReplaceLineEndings("\n"));
            var expected = Outbox.Personalise(MailFragment.Expand(utf8, fragments, html: false), Placeholders, values, 0)
                .ReplaceLineEndings("\n");

            var prepared = new PreparedBody(utf8, Placeholders, fragments.Select(f => PreparedBody.EncodeFragment(f.Text)).ToList());
            var written = Bytes(prepared.Personalise(buffer, values, 0));

            Assert.That(Encoding.ASCII.GetString(written), Is.EqualTo(Encoding.ASCII.GetString(PreparedBody.Encode(Encoding.UTF8.GetBytes(expected)))),
                $"modèle n° {n} : {template}");
            Assert.That(Decode(written), Is.EqualTo(expected), $"modèle n° {n} : {template}");
        }
    }

    [Test]
    public void PreparedBody_MoreMarkersThanFragments_Refused()
    {
        var body = Encoding.UTF8.GetBytes("Offres :\n" + MailFragment.Marker + MailFragment.Marker + "Fin\n");
        var one = PreparedBody.EncodeFragment(Encoding.UTF8.GetBytes("- une offre\n"));

        Assert.That(() => new PreparedBody(body, Placeholders, [one]), Throws.ArgumentException);
        Assert.That(Decode(Bytes(new PreparedBody(body, Placeholders, [one, one]).Personalise(new MemoryStream(), [], 0))),
            Is.EqualTo("Offres :\n- une offre\n- une offre\nFin\n"));
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
        using var buffer = new MemoryStream();

        var fromString = Bytes(new PreparedBody(template, placeholders).Personalise(buffer, values, 0));
        var fromBytes = Bytes(new PreparedBody(Encoding.UTF8.GetBytes(template), placeholders).Personalise(buffer, values, 0));

        Assert.That(fromBytes, Is.EqualTo(fromString));
        Assert.That(Decode(fromBytes), Is.EqualTo(Outbox.Personalise(template, placeholders, values, 0).ReplaceLineEndings("\n")));
    }

    [Test]
    public void Build_RowsOfOneDigestGroupInARow_EachMessageHasOnlyItsOwnRecipientIdHeadersAndLinks()
    {
        var builder = new MessageBuilder(new SmtpSettings { From = "veille@opportunites.test", FromName = "Opportunités" }, new MailSettings());
        var body = new OutboxDelivery.SharedBody
        {
            Id = Guid.NewGuid(),
            Placeholders = Placeholders,
            TextBody = Encoding.UTF8.GetBytes("Bonjour,\n- offre 1\nGérer : {{lien-gerer}}\nSe désinscrire : {{lien-desinscription}}\n"),
            HtmlBody = Encoding.UTF8.GetBytes(
                "<p>Gérer : <a href=\"{{lien-gerer}}\">ici</a></p>\n<p><a href=\"{{lien-desinscription}}\">désinscription</a></p>\n"),
        }.Prepare();
        OutboxDelivery.OutboxRow Row(int i, bool listHeaders) => new()
        {
            Id = i,
            MessageId = $"<m{i}@opportunites.test>",
            ToAddress = $"abonne{i}@example.org",
            Subject = "Votre sélection",
            BodyId = body.Id,
            Body = body,
            Personal = [$"https://o.test/gerer/{i}", $"https://o.test/stop/{i}", $"https://o.test/gerer/{i}", $"https://o.test/stop/{i}"],
            Headers = listHeaders ? $$"""{"List-Unsubscribe": "<https://o.test/stop/{{i}}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}""" : "{}",
            CreatedAt = new DateTime(2026, 7, 1, 5, 0, i, DateTimeKind.Utc),
        };

        var first = Parse(builder.Build(Row(1, listHeaders: true)));
        var second = Parse(builder.Build(Row(2, listHeaders: false)));

        Assert.Multiple(() =>
        {
            Assert.That(first.To.Mailboxes.Single().Address, Is.EqualTo("abonne1@example.org"));
            Assert.That(first.MessageId, Is.EqualTo("m1@opportunites.test"));
            Assert.That(first.Headers["List-Unsubscribe"], Is.EqualTo("<https://o.test/stop/1>"));
            Assert.That(first.TextBody, Does.Contain("https://o.test/gerer/1").And.Contain("https://o.test/stop/1"));
            Assert.That(second.To.Mailboxes.Single().Address, Is.EqualTo("abonne2@example.org"));
            Assert.That(second.MessageId, Is.EqualTo("m2@opportunites.test"));
            Assert.That(second.Date, Is.EqualTo(new DateTimeOffset(2026, 7, 1, 7, 0, 2, TimeSpan.FromHours(2))));
            Assert.That(second.Headers.Contains("List-Unsubscribe"), Is.False);
            Assert.That(second.Headers.Contains("List-Unsubscribe-Post"), Is.False);
            Assert.That(second.TextBody, Does.Contain("https://o.test/gerer/2").And.Not.Contain("/1"));
            Assert.That(second.HtmlBody, Does.Contain("href=\"https://o.test/stop/2\"").And.Not.Contain("/1\""));
            Assert.That(second.From.Mailboxes.Single().Name, Is.EqualTo("Opportunités"));
            Assert.That(second.From.Mailboxes.Single().Address, Is.EqualTo("veille@opportunites.test"));
        });
    }

    // EncodedTextPart writes its encoded body as it is: the bytes must be those MimeKit writes for the same body held as
    // content, in a whole message, with CRLF (SMTP, pickup) and with '\n' line ends, and DKIM's body hash must match.
    [TestCase(NewLineFormat.Dos)]
    [TestCase(NewLineFormat.Unix)]
    public void EncodedTextPart_SameBytesAsMimeKitsOwnPart(NewLineFormat lineEnds)
    {
        var text = "Bonjour,\nAppel à projets « cohésion »\n.ligne qui commence par un point\n" + new string('x', 200) + "\nfin 😀\n";
        var html = "<p>Gérer : <a href=\"https://o.test/g\">ici</a></p>\n";
        MimeMessage Message(Func<string, string, MimePart> part) => new()
        {
            Subject = "Sujet accentué é",
            MessageId = "m@o.test",
            Date = new DateTimeOffset(2026, 12, 3, 10, 0, 0, TimeSpan.FromHours(1)),
            From = { new MailboxAddress("Opportunités", "veille@o.test") },
            To = { new MailboxAddress("", "abonne@example.org") },
            Body = new MultipartAlternative { part("plain", text), part("html", html) },
        };
        MimePart Own(string subtype, string body)
        {
            var p = new TextPart(subtype) { ContentTransferEncoding = ContentEncoding.QuotedPrintable };
            p.ContentType.Charset = "utf-8";
            var qp = new QuotedPrintableEncoder(74);
            var input = Encoding.UTF8.GetBytes(body);
            var output = new byte[qp.EstimateOutputLength(input.Length)];
            p.Content = new MimeContent(new MemoryStream(output, 0, qp.Flush(input, 0, input.Length, output)), ContentEncoding.QuotedPrintable);
            return p;
        }

        MimePart Ours(string subtype, string body) =>
            new EncodedTextPart(subtype) { Encoded = PreparedBody.Encode(Encoding.UTF8.GetBytes(body)) };
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = lineEnds;
        string Written(MimeMessage m)
        {
            using var stream = new MemoryStream();
            m.WriteTo(format, stream);
            return Encoding.UTF8.GetString(stream.ToArray());
        }

        var own = Message(Own);
        var ours = Message(Ours);
        ((Multipart)ours.Body!).Boundary = ((Multipart)own.Body!).Boundary!;

        Assert.That(Written(ours), Is.EqualTo(Written(own)));
        Assert.That(Written(ours), Does.Contain("Content-Transfer-Encoding: quoted-printable"));
    }

    [TestCase("x>,<intrus@example.org")]
    [TestCase("a b@example.org")]
    public void Build_AddressThatWouldChangeTheEnvelope_Refused(string address)
    {
        var builder = new MessageBuilder(new SmtpSettings(), new MailSettings());
        var row = new OutboxDelivery.OutboxRow { MessageId = "<x@opportunites.test>", ToAddress = address, Subject = "s", TextBody = "t", HtmlBody = "h" };

        var ex = Assert.Throws<ArgumentException>(() => builder.Build(row));
        Assert.That(ex!.Message, Does.StartWith("Adresse invalide"));
    }

    [Test]
    public void Build_RowsOfSeveralDigestGroups_EachMessageHasItsGroupsSubjectAndBody()
    {
        var builder = new MessageBuilder(
            new SmtpSettings { From = "ne-pas-repondre@opportunites.test", FromName = "Opportunités", ReplyTo = "equipe@opportunites.test" },
            new MailSettings());
        OutboxDelivery.OutboxRow Row(int i, string subject, string offer)
        {
            var body = new OutboxDelivery.SharedBody
            {
                Id = Guid.NewGuid(),
                Placeholders = Placeholders,
                TextBody = Encoding.UTF8.GetBytes($"{offer}\n{{{{lien-gerer}}}}\n{{{{lien-desinscription}}}}\n"),
                HtmlBody = Encoding.UTF8.GetBytes($"<p>{offer}</p>\n<p>{{{{lien-gerer}}}} {{{{lien-desinscription}}}}</p>\n"),
            }.Prepare();
            return new()
            {
                MessageId = $"<g{i}@opportunites.test>",
                ToAddress = $"abonne{i}@exemple.fr",
                Subject = subject,
                BodyId = body.Id,
                Body = body,
                Personal = [$"https://o.test/g/{i}", $"https://o.test/d/{i}", $"https://o.test/g/{i}", $"https://o.test/d/{i}"],
            };
        }

        var gironde = Parse(builder.Build(Row(1, "Veille : 3 offres en Gironde", "Animateur à Bègles")));
        var creuse = Parse(builder.Build(Row(2, "Veille : 1 offre en Creuse\r\nBcc: intrus@example.org", "AAP à Guéret")));
        var girondeAgain = Parse(builder.Build(Row(3, "Veille : 3 offres en Gironde", "Animateur à Bègles")));

        Assert.Multiple(() =>
        {
            Assert.That(gironde.Subject, Is.EqualTo("Veille : 3 offres en Gironde"));
            Assert.That(gironde.TextBody, Does.Contain("Animateur à Bègles").And.Contain("https://o.test/g/1"));
            Assert.That(creuse.Subject, Is.EqualTo("Veille : 1 offre en Creuse Bcc: intrus@example.org"), "one line: no header injected");
            Assert.That(creuse.Bcc, Is.Empty);
            Assert.That(creuse.TextBody, Does.Contain("AAP à Guéret").And.Not.Contain("Bègles").And.Contain("https://o.test/d/2"));
            Assert.That(creuse.HtmlBody, Does.Contain("<p>AAP à Guéret</p>").And.Not.Contain("Bègles"));
            Assert.That(creuse.To.Mailboxes.Single().Address, Is.EqualTo("abonne2@exemple.fr"));
            Assert.That(creuse.ReplyTo.Mailboxes.Single().Address, Is.EqualTo("equipe@opportunites.test"));
            Assert.That(girondeAgain.Subject, Is.EqualTo("Veille : 3 offres en Gironde"));
            Assert.That(girondeAgain.TextBody, Does.Contain("Animateur à Bègles").And.Contain("https://o.test/g/3").And.Not.Contain("Guéret"));
        });
    }

    private static MimeMessage Parse(MimeMessage message)
    {
        using var stream = new MemoryStream();
        message.WriteTo(MessageBuilder.Format, stream);
        stream.Position = 0;
        return MimeMessage.Load(stream);
    }

    private static byte[] Bytes(ReadOnlyMemory<byte> content) => content.ToArray();

    // The parts hold CRLF line ends, as on the wire; the texts they encode have '\n'.
    private static string Decode(byte[] qp)
    {
        var decoder = new QuotedPrintableDecoder();
        var output = new byte[decoder.EstimateOutputLength(qp.Length)];
        var n = decoder.Decode(qp, 0, qp.Length, output);
        return Encoding.UTF8.GetString(output, 0, n).Replace("\r\n", "\n");
    }
}
