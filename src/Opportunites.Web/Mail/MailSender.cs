using System.Collections.Concurrent;
using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Opportunites.Web.Mail;

public enum SendStatus
{
    Sent,

    /// <summary>Try again later: 4xx reply, connection refused or lost, timeout.</summary>
    Transient,

    /// <summary>Refused for good (5xx): retrying would fail the same way.</summary>
    Permanent,
}

public readonly record struct SendResult(SendStatus Status, string? Error = null)
{
    public static readonly SendResult Sent = new(SendStatus.Sent);
}

/// <summary>Delivers built messages (the outbox decides what and when; this only says how).</summary>
public interface IMailSender
{
    /// <summary>How many sessions may send in parallel.</summary>
    int MaxSessions { get; }

    /// <summary>A session sends one message at a time, on the thread that calls it; dispose it to give its connection back.</summary>
    IMailSession OpenSession();
}

public interface IMailSession : IDisposable
{
    /// <summary>
    /// Blocking: MailKit's synchronous Send on one thread per connection used 15–25 % less CPU than SendAsync (stack
    /// notes). Never throws for delivery problems: they come back as <see cref="SendStatus.Transient"/> or Permanent.
    /// </summary>
    /// <param name="acceptAfter">The server is not given the end of the message before this completes (the previous
    /// message's "sent" mark, see <see cref="SmtpSocketStream"/>).</param>
    SendResult Send(MimeMessage message, CancellationToken ct, Task? acceptAfter = null);
}

/// <summary>
/// SMTP with MailKit, over a small pool of long-lived connections shared by the delivery runs of this node
/// (reconnecting is the slow part of a small batch; MailKit has no pool of its own).
/// </summary>
public sealed class SmtpMailSender(IOptions<SmtpSettings> smtp, IOptions<MailSettings> mail, ILogger<SmtpMailSender> log)
    : IMailSender, IDisposable
{
    private readonly ConcurrentBag<(SmtpClient Client, SmtpSocketStream Stream, DateTime LastUsedUtc)> _idle = [];
    private readonly ILogger _log = log;

    public int MaxSessions => Math.Max(1, mail.Value.Connections);

    public IMailSession OpenSession() => new Session(this);

    private (SmtpClient Client, SmtpSocketStream Stream) Rent(CancellationToken ct)
    {
        var maxIdle = TimeSpan.FromSeconds(mail.Value.IdleConnectionSeconds);
        while (_idle.TryTake(out var pooled))
        {
            if (pooled.Client.IsConnected && DateTime.UtcNow - pooled.LastUsedUtc < maxIdle)
            {
                return (pooled.Client, pooled.Stream);
            }

            Close(pooled.Client);
        }

        var client = Connect(smtp.Value, ct, out var stream);
        return (client, stream);
    }

    /// <summary>A connected, authenticated client.</summary>
    public static SmtpClient Connect(SmtpSettings settings, CancellationToken ct) => Connect(settings, ct, out _);

    private static SmtpClient Connect(SmtpSettings settings, CancellationToken ct, out SmtpSocketStream stream)
    {
        if (string.IsNullOrWhiteSpace(settings.Host))
        {
            throw new InvalidOperationException("Smtp:Host n'est pas configuré.");
        }

        var timeout = TimeSpan.FromSeconds(settings.TimeoutSeconds);
        // MailKit never sets TCP_NODELAY: with Nagle and delayed ACKs every message stalled ~50 ms (22 messages/s a
        // connection). Our own socket, connected here and handed over, has it.
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var client = new SmtpClient { Timeout = (int)timeout.TotalMilliseconds, LocalDomain = settings.ClientName };
        try
        {
            ConnectBlocking(socket, settings.Host, settings.Port, timeout, ct);

            if (settings.AcceptAnyCertificate)
            {
                client.ServerCertificateValidationCallback = (_, _, _, _) => true;
            }

            var security = settings.ImplicitTls ? SecureSocketOptions.SslOnConnect
                : settings.StartTls ? SecureSocketOptions.StartTls
                : SecureSocketOptions.None;
            stream = new SmtpSocketStream(socket, timeout);
            client.Connect(stream, settings.Host, settings.Port, security, ct);
            // Against a server announcing SIZE, MailKit writes every message twice (once to measure it).
            client.Capabilities &= ~SmtpCapabilities.Size;
            if (!string.IsNullOrEmpty(settings.User))
            {
                client.Authenticate(settings.User, settings.Password ?? "", ct);
            }

            return client;
        }
        catch
        {
            client.Dispose();
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A synchronous connect, closed if it outlasts <paramref name="timeout"/>. Not ConnectAsync: on Linux a socket used
    /// asynchronously once stays non-blocking, and .NET then runs each of MailKit's blocking reads through its socket
    /// thread, one more thread switch per SMTP reply (three a message; docs/benchmarks.md, 04/12).
    /// </summary>
    internal static void ConnectBlocking(Socket socket, string host, int port, TimeSpan timeout, CancellationToken ct)
    {
        using var expired = CancellationTokenSource.CreateLinkedTokenSource(ct);
        expired.CancelAfter(timeout);
        try
        {
            // Closing the socket is what interrupts a blocking connect.
            using (expired.Token.Register(socket.Dispose))
            {
                socket.Connect(host, port);
            }
        }
        catch (Exception ex) when (expired.IsCancellationRequested && ex is SocketException or ObjectDisposedException)
        {
            // Interrupted by the close: reported below.
        }

        // Also when the connect succeeded just as the timeout closed the socket.
        if (expired.IsCancellationRequested)
        {
            ct.ThrowIfCancellationRequested();
            throw new SocketException((int)SocketError.TimedOut);
        }
    }

    private void Return(SmtpClient client, SmtpSocketStream stream)
    {
        if (client.IsConnected && _idle.Count < MaxSessions)
        {
            _idle.Add((client, stream, DateTime.UtcNow));
        }
        else
        {
            Close(client);
        }
    }

    private static void Close(SmtpClient client)
    {
        try
        {
            if (client.IsConnected)
            {
                client.Disconnect(quit: true);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ProtocolException or OperationCanceledException)
        {
            // Closing a connection the server already dropped.
        }
        finally
        {
            client.Dispose();
        }
    }

    public void Dispose()
    {
        while (_idle.TryTake(out var pooled))
        {
            Close(pooled.Client);
        }
    }

    private sealed class Session(SmtpMailSender owner) : IMailSession
    {
        private SmtpClient? _client;
        private SmtpSocketStream? _stream;
        private string? _connectError;

        public SendResult Send(MimeMessage message, CancellationToken ct, Task? acceptAfter = null)
        {
            // Server down: fail the rest of this session's batch at once instead of one timeout per message.
            if (_connectError is not null)
            {
                return new SendResult(SendStatus.Transient, _connectError);
            }

            try
            {
                if (_client is null)
                {
                    (_client, _stream) = owner.Rent(ct);
                }
            }
            catch (Exception ex) when (ex is SocketException or IOException or ProtocolException or OperationCanceledException
                                           or AuthenticationException or SslHandshakeException or CommandException or NotSupportedException)
            {
                var what = ex is AuthenticationException ? "AUTH refusée" : ex.Message;
                _connectError = $"Connexion SMTP impossible : {what}";
                owner._log.LogWarning("{Error} ({Detail})", _connectError, ex.Message);
                return new SendResult(SendStatus.Transient, _connectError);
            }

            try
            {
                _stream!.EndOfDataGate = acceptAfter;
                _client.Send(MessageBuilder.Format, message, ct);
                return SendResult.Sent;
            }
            catch (SmtpCommandException ex)
            {
                // MailKit resets the transaction (RSET) after a refusal; 421 means the server is closing.
                var code = (int)ex.StatusCode;
                if (code == 421 || !_client.IsConnected)
                {
                    Drop();
                }

                return new SendResult(code is >= 400 and < 500 ? SendStatus.Transient : SendStatus.Permanent,
                    $"SMTP {code} {ex.Message}");
            }
            catch (Exception ex) when (ex is SocketException or IOException or ProtocolException or OperationCanceledException
                                           or ServiceNotConnectedException)
            {
                // Whether the server got the message is unknown: retrying may deliver it twice, losing it is worse.
                Drop();
                return new SendResult(SendStatus.Transient, $"Connexion SMTP interrompue : {ex.Message}");
            }
        }

        private void Drop()
        {
            if (_client is not null)
            {
                Close(_client);
                _client = null;
            }
        }

        public void Dispose()
        {
            if (_client is not null)
            {
                owner.Return(_client, _stream!);
                _client = null;
            }
        }
    }
}

/// <summary>
/// No SMTP server configured (a developer's machine): each message becomes a readable .eml file, written by MimeKit,
/// that any mail client opens, in Mail:PickupDirectory.
/// </summary>
public sealed class PickupMailSender(IOptions<MailSettings> mail, IHostEnvironment env) : IMailSender
{
    public int MaxSessions => 1;

    public string Directory => Path.GetFullPath(Path.Combine(env.ContentRootPath, mail.Value.PickupDirectory));

    public IMailSession OpenSession() => new Session(this);

    private sealed class Session(PickupMailSender owner) : IMailSession
    {
        public SendResult Send(MimeMessage message, CancellationToken ct, Task? acceptAfter = null)
        {
            try
            {
                var dir = owner.Directory;
                System.IO.Directory.CreateDirectory(dir);
                var id = new string((message.MessageId ?? "").Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '_').ToArray());
                var name = $"{message.Date.UtcDateTime:yyyyMMdd-HHmmss}-{id}.eml";
                var temp = Path.Combine(dir, "." + name + ".tmp");
                using (var file = File.Create(temp))
                {
                    message.WriteTo(MessageBuilder.Format, file, ct);
                }

                // Whole files only: a reader never sees half a message.
                File.Move(temp, Path.Combine(dir, name), overwrite: true);
                return SendResult.Sent;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return new SendResult(SendStatus.Transient, $"Écriture impossible : {ex.Message}");
            }
        }

        public void Dispose()
        {
        }
    }
}
