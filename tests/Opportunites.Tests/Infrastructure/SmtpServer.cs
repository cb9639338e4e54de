using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Opportunites.Tests.Infrastructure;

/// <summary>Options of a test SMTP server: STARTTLS with a self-signed certificate, AUTH PLAIN/LOGIN.</summary>
/// <param name="CountOnly">Keep only the recipients of each accepted message (<see cref="SmtpServer.GetRecipients"/>): for
/// runs of thousands of messages, where parsing and storing each one would make the server the bottleneck.</param>
/// <param name="Pipelining">Announce PIPELINING (RFC 2920), so that failures on demand meet pipelined commands.</param>
public sealed record SmtpServerOptions(bool StartTls = false, string? User = null, string? Password = null, int Port = 0,
    bool CountOnly = false, bool Pipelining = false);

/// <summary>
/// A real SMTP server process for tests: aiosmtpd (Debian's python3-aiosmtpd, see tools/provision.sh) running
/// smtp_server.py, on a free port of 127.0.0.1. It stores what it accepts in a folder, where
/// <see cref="GetMessages"/> reads it back as parsed by Python's email package; <see cref="FailNext"/> makes it answer
/// 4xx or 5xx; <see cref="StopAsync"/> and <see cref="StartAgainAsync"/> simulate an outage on the same port.
/// </summary>
public sealed class SmtpServer : IAsyncDisposable
{
    /// <summary>Debian's interpreter: the first python3 on PATH here may be another one that cannot see aiosmtpd.</summary>
    public const string Python = "/usr/bin/python3";

    private static readonly string Script = Path.Combine(AppContext.BaseDirectory, "Infrastructure", "smtp_server.py");

    private readonly SmtpServerOptions _options;
    private Process? _process;

    private SmtpServer(SmtpServerOptions options, string folder)
    {
        _options = options;
        Folder = folder;
    }

    public string Host => "127.0.0.1";

    public int Port { get; private set; }

    /// <summary>Where the received messages are stored (NNNNNN.eml and NNNNNN.json).</summary>
    public string Folder { get; }

    public bool IsRunning => _process is { HasExited: false };

    public static async Task<SmtpServer> StartAsync(SmtpServerOptions? options = null)
    {
        var folder = Path.Combine(Path.GetTempPath(), "smtp-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        var server = new SmtpServer(options ?? new SmtpServerOptions(), folder);
        await server.LaunchAsync(server._options.Port);
        return server;
    }

    private async Task LaunchAsync(int port)
    {
        var psi = new ProcessStartInfo(Python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "-u", Script, "--dir", Folder, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            psi.ArgumentList.Add(arg);
        }

        if (_options.CountOnly)
        {
            psi.ArgumentList.Add("--count-only");
        }

        if (_options.Pipelining)
        {
            psi.ArgumentList.Add("--pipelining");
        }

        if (_options.StartTls)
        {
            var (cert, key) = await SelfSignedCertificateAsync();
            psi.ArgumentList.Add("--cert");
            psi.ArgumentList.Add(cert);
            psi.ArgumentList.Add("--key");
            psi.ArgumentList.Add(key);
        }

        if (_options.User is not null)
        {
            psi.ArgumentList.Add("--user");
            psi.ArgumentList.Add(_options.User);
            psi.ArgumentList.Add("--password");
            psi.ArgumentList.Add(_options.Password ?? "");
        }

        _process = Process.Start(psi) ?? throw new InvalidOperationException("python3 n'a pas démarré");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var line = await _process.StandardOutput.ReadLineAsync(timeout.Token);
        if (line is null || !line.StartsWith("READY ", StringComparison.Ordinal))
        {
            var error = await _process.StandardError.ReadToEndAsync(timeout.Token);
            throw new InvalidOperationException($"Le serveur SMTP de test n'a pas démarré : {line} {error}");
        }

        Port = int.Parse(line[6..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<(string Cert, string Key)> SelfSignedCertificateAsync()
    {
        var cert = Path.Combine(Folder, "..", Path.GetFileName(Folder) + "-cert.pem");
        var key = Path.Combine(Folder, "..", Path.GetFileName(Folder) + "-key.pem");
        if (!File.Exists(cert))
        {
            var psi = new ProcessStartInfo("openssl",
                $"req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -keyout {key} -out {cert}")
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            };
            using var p = Process.Start(psi)!;
            await p.WaitForExitAsync();
            if (p.ExitCode != 0)
            {
                throw new InvalidOperationException("openssl : " + await p.StandardError.ReadToEndAsync());
            }
        }

        return (cert, key);
    }

    /// <summary>The next <paramref name="count"/> transactions are refused with <paramref name="code"/> at RCPT or DATA.</summary>
    public void FailNext(int count, int code = 451, string stage = "data") =>
        File.WriteAllText(Path.Combine(Folder, "fail"), $"{count} {code} {stage}");

    /// <summary>Refuses that share of messages at DATA with <paramref name="code"/>, at random; zero to stop.</summary>
    public void FailRandomly(double rate, int code = 451)
    {
        var path = Path.Combine(Folder, "failrate");
        if (rate <= 0)
        {
            File.Delete(path);
        }
        else
        {
            File.WriteAllText(path, FormattableString.Invariant($"{rate} {code}"));
        }
    }

    /// <summary>Count-only mode: the recipients of each accepted message, one entry per message, in order of arrival.</summary>
    public IReadOnlyList<string> GetRecipients()
    {
        var path = Path.Combine(Folder, "received.txt");
        if (!File.Exists(path))
        {
            return [];
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var text = new StreamReader(stream).ReadToEnd();
        // The last line may still be being written: only complete lines count.
        var lines = text.Split('\n');
        return lines[..^1];
    }

    /// <summary>Every answer to DATA waits this long (a slow server); zero to stop.</summary>
    public void SlowDown(TimeSpan delay)
    {
        var path = Path.Combine(Folder, "slow");
        if (delay <= TimeSpan.Zero)
        {
            File.Delete(path);
        }
        else
        {
            File.WriteAllText(path, delay.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>
    /// Stops the server process (connections are cut; the port closes) between two steps of its loop: a message it stored
    /// was answered. Killed at any instant instead, it could store a message and die before the 250, and the client
    /// rightly sends it again; the outage test's trigger, a message just stored, met that instant once.
    /// </summary>
    public async Task StopAsync()
    {
        if (_process is null)
        {
            return;
        }

        if (!_process.HasExited)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.StandardInput.WriteLineAsync("crash");
                await _process.StandardInput.FlushAsync();
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException)
            {
                // Gone already, or stuck: killed.
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
        _process = null;
    }

    /// <summary>Starts the server again on the same port, keeping the messages received so far.</summary>
    public async Task StartAgainAsync()
    {
        await StopAsync();
        await LaunchAsync(Port);
    }

    /// <summary>The messages accepted so far, in order of arrival.</summary>
    public IReadOnlyList<ReceivedMessage> GetMessages() =>
        Directory.GetFiles(Folder, "*.json").Order(StringComparer.Ordinal).Select(path =>
        {
            var message = JsonSerializer.Deserialize<ReceivedMessage>(File.ReadAllText(path))!;
            message.Raw = File.ReadAllBytes(Path.ChangeExtension(path, ".eml"));
            return message;
        }).ToList();

    /// <summary>The messages accepted so far for this recipient (envelope RCPT TO, case-insensitive), in order of arrival.</summary>
    public IReadOnlyList<ReceivedMessage> MessagesTo(string address) =>
        GetMessages().Where(m => m.IsTo(address)).ToList();

    /// <summary>Waits until <paramref name="predicate"/> holds for the messages received (a few seconds at most).</summary>
    public async Task<IReadOnlyList<ReceivedMessage>> WaitForAsync(Func<IReadOnlyList<ReceivedMessage>, bool> predicate,
        TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var messages = GetMessages();
            if (predicate(messages) || DateTime.UtcNow > deadline)
            {
                return messages;
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(Folder, recursive: true);
            foreach (var pem in Directory.GetFiles(Path.GetDirectoryName(Folder)!, Path.GetFileName(Folder) + "-*.pem"))
            {
                File.Delete(pem);
            }
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }
}

/// <summary>A message as the test server received it and Python's email package parsed it.</summary>
public sealed partial class ReceivedMessage
{
    [JsonPropertyName("mail_from")]
    public string MailFrom { get; init; } = "";

    [JsonPropertyName("rcpt_tos")]
    public List<string> RcptTos { get; init; } = [];

    [JsonPropertyName("tls")]
    public bool Tls { get; init; }

    [JsonPropertyName("authenticated")]
    public bool Authenticated { get; init; }

    /// <summary>Headers in order, values decoded (RFC 2047 words turned back into text).</summary>
    [JsonPropertyName("headers")]
    public List<List<string>> HeaderList { get; init; } = [];

    [JsonPropertyName("content_type")]
    public string ContentType { get; init; } = "";

    [JsonPropertyName("parts")]
    public List<ReceivedPart> Parts { get; init; } = [];

    /// <summary>What Python's parser found wrong with the message (none expected).</summary>
    [JsonPropertyName("defects")]
    public List<string> Defects { get; init; } = [];

    /// <summary>The bytes received, dot-unstuffed.</summary>
    [JsonIgnore]
    public byte[] Raw { get; set; } = [];

    public string? Header(string name) =>
        HeaderList.FirstOrDefault(h => string.Equals(h[0], name, StringComparison.OrdinalIgnoreCase))?[1];

    public IEnumerable<string> Headers(string name) =>
        HeaderList.Where(h => string.Equals(h[0], name, StringComparison.OrdinalIgnoreCase)).Select(h => h[1]);

    public string? Text => Parts.FirstOrDefault(p => p.ContentType == "text/plain")?.Content;

    public string? Html => Parts.FirstOrDefault(p => p.ContentType == "text/html")?.Content;

    public bool IsTo(string address) => RcptTos.Contains(address, StringComparer.OrdinalIgnoreCase);

    /// <summary>Every http(s) link of the text part, in order (what a reader copies from any mail client).</summary>
    public IReadOnlyList<Uri> Links => Text is { } text
        ? TextLink().Matches(text).Select(m => new Uri(m.Value.TrimEnd('.', ',', ';', ':', ')', '»'))).ToList()
        : [];

    /// <summary>Every href of the HTML part, entities decoded, in order.</summary>
    public IReadOnlyList<Uri> HtmlLinks => Html is { } html
        ? HtmlHref().Matches(html).Select(m => new Uri(WebUtility.HtmlDecode(m.Groups[1].Value))).ToList()
        : [];

    /// <summary>
    /// The first link of the text part whose path starts with <paramref name="path"/> (e.g. "/alertes/confirmer"),
    /// absolute as sent: an HttpClient of a WebApplicationFactory follows it as is.
    /// </summary>
    public Uri Link(string path) =>
        Links.FirstOrDefault(u => u.AbsolutePath.StartsWith(path, StringComparison.Ordinal))
        ?? throw new InvalidOperationException($"Aucun lien {path} dans « {Header("Subject")} » :\n{Text}");

    /// <summary>The URL of the List-Unsubscribe header (RFC 2369: in angle brackets), or null without one.</summary>
    public Uri? ListUnsubscribeUrl => Header("List-Unsubscribe") is { } value && ListUnsubscribe().Match(value) is { Success: true } m
        ? new Uri(m.Groups[1].Value)
        : null;

    [GeneratedRegex(@"https?://[^\s<>""]+")]
    private static partial Regex TextLink();

    [GeneratedRegex(@"<a\s[^>]*href=""([^""]+)""", RegexOptions.IgnoreCase)]
    private static partial Regex HtmlHref();

    [GeneratedRegex(@"<(https?://[^>]+)>")]
    private static partial Regex ListUnsubscribe();
}

public sealed class ReceivedPart
{
    [JsonPropertyName("content_type")]
    public string ContentType { get; init; } = "";

    [JsonPropertyName("charset")]
    public string? Charset { get; init; }

    [JsonPropertyName("transfer_encoding")]
    public string? TransferEncoding { get; init; }

    [JsonPropertyName("content")]
    public string Content { get; init; } = "";
}

/// <summary>Reads an .eml file with Python's email package, as the test SMTP server reads what it receives.</summary>
public static class EmlParser
{
    public static async Task<ReceivedMessage> ParseAsync(string path)
    {
        var psi = new ProcessStartInfo(SmtpServer.Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Infrastructure", "smtp_server.py"));
        psi.ArgumentList.Add("--parse");
        psi.ArgumentList.Add(path);
        using var p = Process.Start(psi)!;
        var json = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException("Analyse du fichier .eml impossible : " + await p.StandardError.ReadToEndAsync());
        }

        var message = JsonSerializer.Deserialize<ReceivedMessage>(json)!;
        message.Raw = await File.ReadAllBytesAsync(path);
        return message;
    }
}
