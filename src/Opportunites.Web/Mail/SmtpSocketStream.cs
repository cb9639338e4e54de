using System.Net.Sockets;

namespace Opportunites.Web.Mail;

/// <summary>
/// The socket as MailKit sees it. MailKit writes a message in blocks of 4 KB, one send(2) each (a dozen per digest), and
/// flushes after each command group and after the message's final dot: a buffer gathers the blocks until that flush and
/// sends what waits before any read. It hides the socket's timeouts from MailKit, so they are set on the socket.
/// <para>
/// It also holds back the end of a message: a flush that would send the DATA terminator ("\r\n.\r\n", which dot-stuffing
/// keeps out of any content) first waits for <see cref="EndOfDataGate"/>, the commit of the previous message's "sent"
/// mark. The next message goes on the wire while that mark is written, yet the server cannot accept it before: a node
/// killed at any moment leaves at most one accepted-but-unmarked message per connection, sent again by the next run.
/// Over TLS this stream carries encrypted records, the terminator is not seen and nothing is held: two messages of a
/// connection may then be accepted but unmarked at a crash, as before the hold.
/// </para>
/// </summary>
internal sealed class SmtpSocketStream : Stream
{
    // "\r\n.\r\n" as the last five bytes written, the first one in the highest byte.
    private const ulong Terminator = 0x0D_0A_2E_0D_0A;
    private const ulong FiveBytes = 0xFF_FFFF_FFFF;

    private readonly BufferedStream _inner;
    private ulong _tail;

    public SmtpSocketStream(Socket socket, TimeSpan timeout)
    {
        socket.ReceiveTimeout = socket.SendTimeout = (int)timeout.TotalMilliseconds;
        _inner = new BufferedStream(new NetworkStream(socket, ownsSocket: true), 64 * 1024);
    }

    /// <summary>What the end of the next message waits for; null or completed: nothing. Its failure is not reported here.</summary>
    public Task? EndOfDataGate { get; set; }

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    // A read first sends what was written (BufferedStream): the same hold as a flush.
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        WaitForGate();
        return _inner.Read(buffer);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await WaitForGateAsync(cancellationToken);
        return await _inner.ReadAsync(buffer, cancellationToken);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Track(buffer);
        _inner.Write(buffer);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Track(buffer.Span);
        return _inner.WriteAsync(buffer, cancellationToken);
    }

    public override void Flush()
    {
        WaitForGate();
        _inner.Flush();
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await WaitForGateAsync(cancellationToken);
        await _inner.FlushAsync(cancellationToken);
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private bool EndsData() => (_tail & FiveBytes) == Terminator;

    // A failed mark fails the delivery run right after (OutboxDelivery): the message goes all the same.
    private void WaitForGate()
    {
        if (EndsData() && EndOfDataGate is { IsCompleted: false } gate)
        {
            // Blocks at once: the task's own wait spins first, on cores PostgreSQL needs to write that very mark.
            ((IAsyncResult)gate).AsyncWaitHandle.WaitOne();
        }
    }

    private async Task WaitForGateAsync(CancellationToken ct)
    {
        if (EndsData() && EndOfDataGate is { IsCompleted: false } gate)
        {
            await gate.ContinueWith(_ => { }, ct, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private void Track(ReadOnlySpan<byte> written)
    {
        foreach (var b in written.Length > 5 ? written[^5..] : written)
        {
            _tail = (_tail << 8) | b;
        }
    }
}
