using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Opportunites.Tests.Infrastructure;

/// <summary>
/// postfix's smtp-sink on a free port of 127.0.0.1 (see tools/provision.sh): fast, advertises PIPELINING, and with
/// <c>dump: true</c> writes each transaction to a file that <see cref="GetMessagesAsync"/> reads back. Use it for
/// pipelining and volume; <see cref="SmtpServer"/> (aiosmtpd) for failures on demand, STARTTLS and AUTH.
/// </summary>
public sealed class SmtpSink : IAsyncDisposable
{
    public const string Executable = "/usr/sbin/smtp-sink";

    private readonly Process _process;

    private SmtpSink(Process process, int port, string? folder)
    {
        _process = process;
        Port = port;
        Folder = folder;
    }

    public string Host => "127.0.0.1";

    public int Port { get; }

    /// <summary>Where transactions are dumped (null without dump).</summary>
    public string? Folder { get; }

    public static async Task<SmtpSink> StartAsync(bool dump = true)
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        string? folder = null;
        var psi = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Environment.UserName == "root")
        {
            // smtp-sink refuses to run as root without dropping privileges; the dump folder must suit that user.
            psi.ArgumentList.Add("-u");
            psi.ArgumentList.Add("nobody");
        }

        if (dump)
        {
            folder = Path.Combine(Path.GetTempPath(), "smtp-sink-" + Guid.NewGuid().ToString("N")[..12]);
            Directory.CreateDirectory(folder);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(folder, (UnixFileMode)0x1FF);
            }

            psi.ArgumentList.Add("-d");
            psi.ArgumentList.Add(Path.Combine(folder, "m."));
        }

        psi.ArgumentList.Add($"127.0.0.1:{port}");
        psi.ArgumentList.Add("64");
        var process = Process.Start(psi) ?? throw new InvalidOperationException("smtp-sink n'a pas démarré");
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return new SmtpSink(process, port, folder);
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        process.Kill();
        throw new InvalidOperationException("smtp-sink n'écoute pas : " + await process.StandardError.ReadToEndAsync());
    }

    /// <summary>The dumped messages (smtp-sink's own X-Client/X-Helo/X-Mail/X-Rcpt lines removed), parsed by Python.</summary>
    public async Task<IReadOnlyList<ReceivedMessage>> GetMessagesAsync()
    {
        var list = new List<ReceivedMessage>();
        foreach (var path in Directory.GetFiles(Folder ?? throw new InvalidOperationException("smtp-sink sans dump")))
        {
            var lines = (await File.ReadAllTextAsync(path)).Split('\n');
            var envelope = lines.TakeWhile(l => l.StartsWith("X-Client-", StringComparison.Ordinal) ||
                                                l.StartsWith("X-Helo-", StringComparison.Ordinal) ||
                                                l.StartsWith("X-Mail-", StringComparison.Ordinal) ||
                                                l.StartsWith("X-Rcpt-", StringComparison.Ordinal)).ToList();
            var message = Path.Combine(Folder, Path.GetFileName(path) + ".eml");
            await File.WriteAllTextAsync(message, string.Join('\n', lines.Skip(envelope.Count)));
            var parsed = await EmlParser.ParseAsync(message);
            File.Delete(message);
            parsed.RcptTos.AddRange(envelope.Where(l => l.StartsWith("X-Rcpt-Args: ", StringComparison.Ordinal))
                .Select(l => l["X-Rcpt-Args: ".Length..].Trim().Trim('<', '>')));
            list.Add(parsed);
        }

        return list;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        if (Folder is not null && Directory.Exists(Folder))
        {
            Directory.Delete(Folder, recursive: true);
        }
    }
}
