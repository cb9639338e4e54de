using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

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

/// <summary>Delivers rendered messages (the outbox decides what and when; this only says how).</summary>
public interface IMailSender
{
    /// <summary>How many sessions may send in parallel.</summary>
    int MaxSessions { get; }

    /// <summary>A session sends one message at a time; dispose it to give its connection back.</summary>
    IMailSession OpenSession();
}

public interface IMailSession : IAsyncDisposable
{
    /// <summary>Never throws for delivery problems: they come back as <see cref="SendStatus.Transient"/> or Permanent.</summary>
    Task<SendResult> SendAsync(MailMessage message, CancellationToken ct) => SendAsync(message, next: null, ct);

    /// <summary>
    /// Sends <paramref name="message"/>; <paramref name="next"/>, when given, is the message the caller sends next on this
    /// session, which a transport may start sending already (SMTP pipelining). Calling again with another message than
    /// that one is allowed (the transport then drops what it started); disposing drops it too, undelivered.
    /// </summary>
    Task<SendResult> SendAsync(MailMessage message, MailMessage? next, CancellationToken ct);
}

/// <summary>
/// SMTP through <see cref="SmtpConnection"/>, with a small pool of long-lived connections shared by the delivery
/// runs of this node (reconnecting is the slow part of a small batch).
/// </summary>
public sealed class SmtpMailSender(IOptions<SmtpSettings> smtp, IOptions<MailSettings> mail, ILogger<SmtpMailSender> log)
    : IMailSender, IAsyncDisposable
{
    private readonly ConcurrentBag<SmtpConnection> _idle = [];
    private readonly ILogger _log = log;

    public int MaxSessions => Math.Max(1, mail.Value.Connections);

    public IMailSession OpenSession() => new Session(this);

    private async Task<SmtpConnection> RentAsync(CancellationToken ct)
    {
        var maxIdle = TimeSpan.FromSeconds(mail.Value.IdleConnectionSeconds);
        while (_idle.TryTake(out var pooled))
        {
            if (pooled.IsUsable && DateTime.UtcNow - pooled.LastUsedUtc < maxIdle)
            {
                return pooled;
            }

            await pooled.DisposeAsync();
        }

        return await SmtpConnection.OpenAsync(smtp.Value, ct);
    }

    private async Task ReturnAsync(SmtpConnection connection)
    {
        if (connection is { IsUsable: true, Announced: null } && _idle.Count < MaxSessions)
        {
            _idle.Add(connection);
        }
        else
        {
            await connection.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        while (_idle.TryTake(out var connection))
        {
            await connection.DisposeAsync();
        }
    }

    private sealed class Session(SmtpMailSender owner) : IMailSession
    {
        // One buffer per session, reused for each message it sends: a digest (~45 KB, ~100 KB of buffer while being
        // written) allocated anew each time landed on the large object heap and made the runtime collect gen 2
        // over and over during a digest run (CPU profile, docs/benchmarks-digest.md). A second one holds the next
        // message, written before its envelope is announced so that a message the writer refuses is never announced.
        private ArrayBufferWriter<byte> _mime = new(64 * 1024);
        private ArrayBufferWriter<byte> _nextMime = new(64 * 1024);
        private MailMessage? _written;
        private SmtpConnection? _connection;
        private string? _connectError;

        public async Task<SendResult> SendAsync(MailMessage message, MailMessage? next, CancellationToken ct)
        {
            // Server down: fail the rest of this session's batch at once instead of one timeout per message.
            if (_connectError is not null)
            {
                return new SendResult(SendStatus.Transient, _connectError);
            }

            if (_connection is { Announced: not null } && !ReferenceEquals(_written, message))
            {
                // The caller changed its mind about the message it announced (stopping, a row it could not build):
                // the server waits for that message's content, so the connection goes, and the message with it.
                await _connection.DisposeAsync();
                _connection = null;
            }

            // Written in advance when it was announced; otherwise now (an ArgumentException goes to the caller).
            if (ReferenceEquals(_written, message))
            {
                (_mime, _nextMime) = (_nextMime, _mime);
            }
            else
            {
                _mime.ResetWrittenCount();
                MimeWriter.Write(message, _mime);
            }

            _written = null;
            try
            {
                _connection ??= await owner.RentAsync(ct);
            }
            catch (Exception ex) when (ex is SocketException or IOException or SmtpSessionException or OperationCanceledException
                                           or System.Security.Authentication.AuthenticationException)
            {
                _connectError = $"Connexion SMTP impossible : {ex.Message}";
                owner._log.LogWarning("{Error}", _connectError);
                return new SendResult(SendStatus.Transient, _connectError);
            }

            var connection = _connection;
            SmtpEnvelope? following = null;
            if (next is not null && connection.Pipelining)
            {
                try
                {
                    _nextMime.ResetWrittenCount();
                    MimeWriter.Write(next, _nextMime);
                    _written = next;
                    following = new SmtpEnvelope(next.FromAddress, next.ToAddress);
                }
                catch (ArgumentException)
                {
                    // Not announced: its own call reports the error for it.
                }
            }

            try
            {
                var envelope = new SmtpEnvelope(message.FromAddress, message.ToAddress);
                var reply = await connection.SendAsync(envelope, _mime.WrittenMemory, following, ct);
                if (!connection.IsUsable)
                {
                    await connection.DisposeAsync();
                    _connection = null;
                }

                return reply.IsSuccess ? SendResult.Sent
                    : new SendResult(reply.IsTransient ? SendStatus.Transient : SendStatus.Permanent, $"SMTP {reply}");
            }
            catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
            {
                // Whether the server got the message is unknown: retrying may deliver it twice, losing it is worse.
                await connection.DisposeAsync();
                _connection = null;
                return new SendResult(SendStatus.Transient, $"Connexion SMTP interrompue : {ex.Message}");
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_connection is not null)
            {
                // A connection with an announced message is closed, never pooled (ReturnAsync).
                await owner.ReturnAsync(_connection);
                _connection = null;
            }
        }
    }
}

/// <summary>
/// No SMTP server configured (a developer's machine): each message becomes a readable .eml file that any mail client
/// opens, in Mail:PickupDirectory.
/// </summary>
public sealed class PickupMailSender(IOptions<MailSettings> mail, IHostEnvironment env) : IMailSender
{
    public int MaxSessions => 1;

    public string Directory => Path.GetFullPath(Path.Combine(env.ContentRootPath, mail.Value.PickupDirectory));

    public IMailSession OpenSession() => new Session(this);

    private sealed class Session(PickupMailSender owner) : IMailSession
    {
        public async Task<SendResult> SendAsync(MailMessage message, MailMessage? next, CancellationToken ct)
        {
            try
            {
                var dir = owner.Directory;
                System.IO.Directory.CreateDirectory(dir);
                var id = new string(message.MessageId.Trim('<', '>').Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '_').ToArray());
                var name = $"{message.Date.UtcDateTime:yyyyMMdd-HHmmss}-{id}.eml";
                var temp = Path.Combine(dir, "." + name + ".tmp");
                await File.WriteAllBytesAsync(temp, MimeWriter.Write(message), ct);
                // Whole files only: a reader never sees half a message.
                File.Move(temp, Path.Combine(dir, name), overwrite: true);
                return SendResult.Sent;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return new SendResult(SendStatus.Transient, $"Écriture impossible : {ex.Message}");
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
