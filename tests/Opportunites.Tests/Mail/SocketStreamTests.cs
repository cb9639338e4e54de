using System.Net;
using System.Net.Sockets;
using Opportunites.Web.Mail;

namespace Opportunites.Tests.Mail;

/// <summary>The socket stream MailKit writes to: its 4 KB blocks leave in one write at a flush, never after a reply is awaited.</summary>
public sealed class SocketStreamTests
{
    [Test]
    public async Task Write_BlocksThenFlush_NothingSentBeforeTheFlushThenEverythingInOrder()
    {
        var (stream, server) = await PairAsync();
        using (stream)
        using (server)
        {
            var blocks = Enumerable.Range(0, 12).Select(i => Enumerable.Repeat((byte)('a' + i), 4096).ToArray()).ToList();
            foreach (var block in blocks)
            {
                stream.Write(block, 0, block.Length);
            }

            // Nothing has reached the other end yet.
            Assert.That(server.Poll(200_000, SelectMode.SelectRead), Is.False);

            stream.Flush();
            var received = await ReceiveAsync(server, blocks.Sum(b => b.Length));
            Assert.That(received, Is.EqualTo(blocks.SelectMany(b => b).ToArray()));
        }
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task Flush_EndOfData_WaitsForTheGateCommandsDoNot(bool byRead)
    {
        var (stream, server) = await PairAsync();
        using (stream)
        using (server)
        {
            var mark = new TaskCompletionSource();
            stream.EndOfDataGate = mark.Task;
            // A command goes at once, gate or not.
            stream.Write("MAIL FROM:<a@example.org>\r\n"u8);
            stream.Flush();
            Assert.That(System.Text.Encoding.ASCII.GetString(await ReceiveAsync(server, 27)), Is.EqualTo("MAIL FROM:<a@example.org>\r\n"));

            // The end of a message (the DATA terminator) waits for the gate, by a flush or by the read of the reply.
            stream.Write("Bonjour\r\n..point\r\n"u8);
            stream.Write(".\r\n"u8);
            var ended = Task.Run(() =>
            {
                if (byRead)
                {
                    return stream.Read(new byte[16], 0, 16);
                }

                stream.Flush();
                return 0;
            });
            Assert.That(server.Poll(300_000, SelectMode.SelectRead), Is.False, "sent before the previous mark");
            Assert.That(ended.IsCompleted, Is.False);

            mark.SetResult();
            Assert.That(System.Text.Encoding.ASCII.GetString(await ReceiveAsync(server, 21)), Is.EqualTo("Bonjour\r\n..point\r\n.\r\n"));
            await server.SendAsync("250 ok\r\n"u8.ToArray());
            Assert.That(await ended.WaitAsync(TimeSpan.FromSeconds(5)), Is.EqualTo(byRead ? 8 : 0));
        }
    }

    [Test]
    public async Task Read_WithBytesGathered_SendsThemFirstSoTheReplyCanCome()
    {
        var (stream, server) = await PairAsync();
        using (stream)
        using (server)
        {
            stream.Write("DATA\r\n"u8);
            var reply = Task.Run(async () =>
            {
                var command = await ReceiveAsync(server, 6);
                await server.SendAsync("354 go\r\n"u8.ToArray());
                return command;
            });

            var buffer = new byte[64];
            var n = stream.Read(buffer, 0, buffer.Length);

            Assert.That(System.Text.Encoding.ASCII.GetString(await reply), Is.EqualTo("DATA\r\n"));
            Assert.That(System.Text.Encoding.ASCII.GetString(buffer, 0, n), Is.EqualTo("354 go\r\n"));
        }
    }

    [Test]
    public async Task Read_ServerSilent_FailsAfterTheTimeout()
    {
        var (stream, server) = await PairAsync(TimeSpan.FromSeconds(1));
        using (stream)
        using (server)
        {
            // MailKit cannot see the socket's timeouts through the buffer: a silent server must still end the wait.
            var read = Task.Run(() => stream.Read(new byte[64], 0, 64));
            Assert.That(async () => await read.WaitAsync(TimeSpan.FromSeconds(10)), Throws.InstanceOf<IOException>());
        }
    }

    [Test]
    public void Connect_ServerNeverAccepts_FailsAfterTheTimeout()
    {
        // A listener whose accept queue is full: the kernel drops further SYNs and a connect waits.
        using var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(0);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var fillers = Enumerable.Range(0, 3).Select(_ => new Socket(SocketType.Stream, ProtocolType.Tcp)).ToList();
        try
        {
            foreach (var filler in fillers)
            {
                _ = filler.ConnectAsync(IPAddress.Loopback, port);
            }

            using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
            var connect = Task.Run(() => SmtpMailSender.ConnectBlocking(client, "127.0.0.1", port, TimeSpan.FromSeconds(1), CancellationToken.None));
            var error = Assert.ThrowsAsync<SocketException>(async () => await connect.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.That(error!.SocketErrorCode, Is.EqualTo(SocketError.TimedOut));
        }
        finally
        {
            fillers.ForEach(f => f.Dispose());
        }
    }

    [Test]
    public void Connect_NothingListening_FailsAtOnceWithTheServersRefusal()
    {
        using var probe = new Socket(SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);

        var error = Assert.Throws<SocketException>(() =>
            SmtpMailSender.ConnectBlocking(client, "127.0.0.1", port, TimeSpan.FromSeconds(30), CancellationToken.None));
        Assert.That(error!.SocketErrorCode, Is.EqualTo(SocketError.ConnectionRefused));
    }

    private static async Task<(SmtpSocketStream Stream, Socket Server)> PairAsync(TimeSpan? timeout = null)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var client = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var accepted = listener.AcceptSocketAsync();
        // Connected as the app connects (blocking), so that the reads below are the ones MailKit makes.
        SmtpMailSender.ConnectBlocking(client, "127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port, TimeSpan.FromSeconds(5),
            CancellationToken.None);
        return (new SmtpSocketStream(client, timeout ?? TimeSpan.FromSeconds(5)), await accepted);
    }

    private static async Task<byte[]> ReceiveAsync(Socket socket, int count)
    {
        var buffer = new byte[count];
        var got = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        while (got < count)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(got), SocketFlags.None, timeout.Token);
            Assert.That(n, Is.GreaterThan(0), "connexion fermée avant la fin");
            got += n;
        }

        return buffer;
    }
}
