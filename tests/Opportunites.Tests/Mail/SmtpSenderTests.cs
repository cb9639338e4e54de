using MailKit.Net.Smtp;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Mail;

namespace Opportunites.Tests.Mail;

/// <summary>MailKit's SmtpClient as the app connects it, against postfix's smtp-sink (PIPELINING and SIZE announced).</summary>
public sealed class SmtpSenderTests
{
    [Test]
    public async Task Connect_SinkAnnouncingSize_PipeliningKeptSizeIgnored()
    {
        await using var sink = await SmtpSink.StartAsync();
        var smtp = new SmtpSettings { Host = sink.Host, Port = sink.Port, TimeoutSeconds = 5 };

        using var client = SmtpMailSender.Connect(smtp, CancellationToken.None);

        // Without SIZE, MailKit does not serialise each message a second time just to measure it.
        Assert.That(client.Capabilities.HasFlag(SmtpCapabilities.Pipelining), Is.True);
        Assert.That(client.Capabilities.HasFlag(SmtpCapabilities.Size), Is.False);
        client.Disconnect(true);
    }

    [Test]
    public async Task Send_PipeliningSinkOneConnection_EveryMessageArrivesIntactWithDotsAndAccents()
    {
        await using var sink = await SmtpSink.StartAsync();
        var smtp = new SmtpSettings { Host = sink.Host, Port = sink.Port, TimeoutSeconds = 5, From = "annonces@opportunites.test" };
        using var sender = new SmtpMailSender(Options.Create(smtp), Options.Create(new MailSettings { Connections = 1 }),
            NullLogger<SmtpMailSender>.Instance);
        var builder = new MessageBuilder(smtp, new MailSettings());
        var results = new List<SendResult>();
        // Lines of a lone ".", of "..", and one longer than a quoted-printable line: MailKit dot-stuffs, the sink unstuffs.
        string Text(int i) => $"Ligne {i}\n.\n..deux\n.un\n{new string('é', 120)}\nfin.";

        using (var session = sender.OpenSession())
        {
            for (var i = 0; i < 10; i++)
            {
                var row = new OutboxDelivery.OutboxRow
                {
                    Id = i,
                    MessageId = $"<pipe-{i}@opportunites.test>",
                    ToAddress = $"abonne{i}@example.org",
                    Subject = $"Message {i} — été",
                    TextBody = Text(i),
                    HtmlBody = "<p>é</p>\n<p>.point</p>",
                    CreatedAt = DateTime.UtcNow,
                };
                results.Add(session.Send(builder.Build(row), CancellationToken.None));
            }
        }

        Assert.That(results.Select(r => r.Status), Is.All.EqualTo(SendStatus.Sent));
        var received = await sink.GetMessagesAsync();
        Assert.That(received, Has.Count.EqualTo(10));
        Assert.That(received.SelectMany(m => m.Defects), Is.Empty);
        foreach (var m in received)
        {
            var i = int.Parse(m.Header("Message-ID")!.Split('-', '@')[1], System.Globalization.CultureInfo.InvariantCulture);
            Assert.That(m.RcptTos, Is.EqualTo(new[] { $"abonne{i}@example.org" }));
            Assert.That(m.Header("Subject"), Is.EqualTo($"Message {i} — été"));
            Assert.That(m.Text!.ReplaceLineEndings("\n").TrimEnd('\n'), Is.EqualTo(Text(i)));
            Assert.That(m.Html!.ReplaceLineEndings("\n").TrimEnd('\n'), Is.EqualTo("<p>é</p>\n<p>.point</p>"));
        }
    }
}
