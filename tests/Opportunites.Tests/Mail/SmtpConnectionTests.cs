using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Mail;

namespace Opportunites.Tests.Mail;

/// <summary>The SMTP transport against postfix's smtp-sink, which advertises PIPELINING.</summary>
public sealed class SmtpConnectionTests
{
    [Test]
    public async Task Send_PipeliningServer_PipelinesAndEveryMessageArrivesIntact()
    {
        await using var sink = await SmtpSink.StartAsync();
        var smtp = new SmtpSettings { Host = sink.Host, Port = sink.Port, TimeoutSeconds = 5 };
        await using var connection = await SmtpConnection.OpenAsync(smtp, CancellationToken.None);
        var replies = new List<SmtpReply>();

        for (var i = 0; i < 10; i++)
        {
            var message = new MailMessage($"<pipe-{i}@opportunites.test>", "annonces@opportunites.test", "Opportunités",
                $"abonne{i}@example.org", null, $"Message {i} — été", $"Ligne {i}\n.\n..\nfin", "<p>é</p>",
                new Dictionary<string, string>(), DateTimeOffset.Now);
            replies.Add(await connection.SendAsync(message.FromAddress, message.ToAddress, MimeWriter.Write(message), CancellationToken.None));
        }

        Assert.That(connection.Pipelining, Is.True);
        Assert.That(replies.Select(r => r.Code), Is.All.EqualTo(250));
        var received = await sink.GetMessagesAsync();
        Assert.That(received, Has.Count.EqualTo(10));
        Assert.That(received.SelectMany(m => m.Defects), Is.Empty);
        var third = received.Single(m => m.Header("Message-ID") == "<pipe-3@opportunites.test>");
        Assert.That(third.Header("Subject"), Is.EqualTo("Message 3 — été"));
        Assert.That(third.Text!.ReplaceLineEndings("\n").TrimEnd('\n'), Is.EqualTo("Ligne 3\n.\n..\nfin"));
        Assert.That(third.RcptTos, Is.EqualTo(new[] { "abonne3@example.org" }));
    }

    [Test]
    public async Task Send_NextMessageAnnounced_EachEnvelopeGoesWithThePreviousEndAndEveryMessageArrivesWithItsOwnBody()
    {
        await using var sink = await SmtpSink.StartAsync();
        var smtp = new SmtpSettings { Host = sink.Host, Port = sink.Port, TimeoutSeconds = 5 };
        await using var connection = await SmtpConnection.OpenAsync(smtp, CancellationToken.None);
        var messages = Enumerable.Range(0, 12).Select(i => new MailMessage($"<suite-{i}@opportunites.test>", "annonces@opportunites.test",
            "Opportunités", $"abonne{i}@example.org", null, $"Message {i}", $"Corps {i}\n.\nfin", "<p>é</p>",
            new Dictionary<string, string>(), DateTimeOffset.Now)).ToList();
        var announced = new List<SmtpEnvelope?>();

        foreach (var (message, i) in messages.Select((m, i) => (m, i)))
        {
            SmtpEnvelope? next = i + 1 < messages.Count ? Envelope(messages[i + 1]) : null;
            var reply = await connection.SendAsync(Envelope(message), MimeWriter.Write(message), next, CancellationToken.None);
            Assert.That(reply.Code, Is.EqualTo(250), $"message {i}");
            announced.Add(connection.Announced);
        }

        Assert.That(announced, Is.EqualTo(messages.Skip(1).Select(m => (SmtpEnvelope?)Envelope(m)).Append(null)));
        var received = await sink.GetMessagesAsync();
        Assert.That(received, Has.Count.EqualTo(12));
        foreach (var m in received)
        {
            var i = messages.FindIndex(x => x.MessageId == m.Header("Message-ID"));
            Assert.That(m.RcptTos, Is.EqualTo(new[] { $"abonne{i}@example.org" }));
            Assert.That(m.Text!.ReplaceLineEndings("\n").TrimEnd('\n'), Is.EqualTo($"Corps {i}\n.\nfin"));
        }
    }

    [Test]
    public async Task Send_AnnouncedMessageNotSent_AnotherIsRefusedAndClosingDiscardsIt()
    {
        await using var sink = await SmtpSink.StartAsync();
        var smtp = new SmtpSettings { Host = sink.Host, Port = sink.Port, TimeoutSeconds = 5 };
        var first = new MailMessage("<premier@opportunites.test>", "annonces@opportunites.test", "Opportunités",
            "premier@example.org", null, "Premier", "un", "<p>un</p>", new Dictionary<string, string>(), DateTimeOffset.Now);
        var connection = await SmtpConnection.OpenAsync(smtp, CancellationToken.None);

        var reply = await connection.SendAsync(Envelope(first), MimeWriter.Write(first), new SmtpEnvelope(first.FromAddress, "annonce@example.org"),
            CancellationToken.None);
        // The server now waits for the announced message's content: any other message would become that content.
        var other = new SmtpEnvelope(first.FromAddress, "autre@example.org");
        Assert.ThrowsAsync<InvalidOperationException>(() => connection.SendAsync(other, "Subject: x\r\n\r\nx"u8.ToArray(), null, CancellationToken.None));
        var usable = connection.IsUsable;
        await connection.DisposeAsync();

        Assert.That(reply.Code, Is.EqualTo(250));
        Assert.That(usable, Is.False);
        var received = await sink.GetMessagesAsync();
        Assert.That(received.Select(m => m.RcptTos.Single()), Is.EqualTo(new[] { "premier@example.org" }));
    }

    private static SmtpEnvelope Envelope(MailMessage message) => new(message.FromAddress, message.ToAddress);

    [Test]
    public async Task Send_RawLinesStartingWithDots_ArriveUnchanged()
    {
        // Bytes not written by MimeWriter (whose quoted-printable never starts a line with '.'): the transport doubles
        // each line-leading '.', the server removes it again.
        await using var sink = await SmtpSink.StartAsync();
        var smtp = new SmtpSettings { Host = sink.Host, Port = sink.Port, TimeoutSeconds = 5 };
        await using var connection = await SmtpConnection.OpenAsync(smtp, CancellationToken.None);
        var body = ".\r\n..deux\r\n.un\r\nmilieu . point\r\n\r\n.\r\nfin.";
        var raw = System.Text.Encoding.ASCII.GetBytes(
            "Message-ID: <points@opportunites.test>\r\nSubject: points\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" + body);

        var reply = await connection.SendAsync("annonces@opportunites.test", "abonne@example.org", raw, CancellationToken.None);

        Assert.That(reply.Code, Is.EqualTo(250));
        var received = (await sink.GetMessagesAsync()).Single();
        Assert.That(received.Text!.ReplaceLineEndings("\n").TrimEnd('\n'), Is.EqualTo(body.ReplaceLineEndings("\n")));
    }
}
