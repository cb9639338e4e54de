using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MimeKit;
using MimeKit.Cryptography;
using MimeKit.Encodings;
using MimeKit.IO;
using MimeKit.IO.Filters;
using Opportunites.Web.Shared;

namespace Opportunites.Web.Mail;

/// <summary>
/// Builds the MimeKit message of an outbox row: multipart/alternative (text then HTML), UTF-8, quoted-printable,
/// Message-ID, Date, From with its display name, the row's list headers, a Reply-To when the sender is a no-reply address,
/// and a DKIM signature when configured. One per sending thread: it is not thread-safe, and the message it returns is
/// only valid until the next call (rows of one digest group reuse the same <see cref="MimeMessage"/>).
/// </summary>
public sealed class MessageBuilder
{
    // Headers the builder sets itself; a row's extra headers may not replace them.
    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "Message-ID", "Date", "From", "To", "Subject", "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Bcc", "Cc",
        "Reply-To", "Sender", "DKIM-Signature",
    };

    // What DKIM signs when present (issue 23: the headers a receiver judges, and the one-click unsubscribe pair).
    private static readonly string[] SignedHeaders =
        ["From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post"];

    private readonly MailboxAddress _from;
    private readonly MailboxAddress? _replyTo;
    private readonly DkimSigner? _dkim;

    // One message for every row with a shared body (digests): a row only changes the subject, recipient, Message-ID,
    // Date, list headers and the parts' bytes (building a MimeMessage anew cost ~185 µs, stack notes, and was a tenth
    // of the digest's allocations when done at each change of body).
    private MimeMessage? _shared;
    private EncodedTextPart? _sharedText;
    private EncodedTextPart? _sharedHtml;
    private readonly MemoryStream _textStream = new();
    private readonly MemoryStream _htmlStream = new();

    public MessageBuilder(SmtpSettings smtp, MailSettings mail)
    {
        _from = new MailboxAddress(smtp.FromName, CheckedAddress(smtp.From));
        if (!string.IsNullOrWhiteSpace(smtp.ReplyTo) && IsNoReply(smtp.From))
        {
            _replyTo = MailboxAddress.Parse(smtp.ReplyTo);
        }

        if (mail.Dkim.Enabled)
        {
            _dkim = new NetRsaDkimSigner(mail.Dkim.PrivateKeyPath!, mail.Dkim.Domain!, mail.Dkim.Selector!);
        }
    }

    /// <summary>Whether an address is one nobody reads ("ne-pas-repondre@…", "noreply@…").</summary>
    internal static bool IsNoReply(string address)
    {
        var local = address.Split('@')[0].Replace("-", "").Replace("_", "").Replace(".", "");
        return local.Equals("nepasrepondre", StringComparison.OrdinalIgnoreCase) ||
               local.Equals("noreply", StringComparison.OrdinalIgnoreCase) ||
               local.Equals("donotreply", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The options every message is written with: CRLF, as on the wire.</summary>
    public static readonly FormatOptions Format = CreateFormat();

    private static FormatOptions CreateFormat()
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        return format;
    }

    /// <exception cref="ArgumentException">A header or address of the row that cannot be sent (retrying cannot help).</exception>
    internal MimeMessage Build(OutboxDelivery.OutboxRow row)
    {
        var headers = JsonSerializer.Deserialize<Dictionary<string, string>>(row.Headers) ?? [];
        // Date: when the email was written (stable across retries), in Paris time as its readers expect.
        var created = new DateTimeOffset(DateTime.SpecifyKind(row.CreatedAt, DateTimeKind.Utc));
        var date = TimeZoneInfo.ConvertTime(created, ParisTime.Zone);
        var to = new MailboxAddress(row.ToName, CheckedAddress(row.ToAddress));
        MimeMessage message;
        if (row.BodyId is not { } bodyId)
        {
            message = NewMessage(row.Subject, out var text, out var html);
            text.Encoded = Encoded(row.TextBody);
            html.Encoded = Encoded(row.HtmlBody);
        }
        else
        {
            var body = row.Body ?? throw new ArgumentException($"Corps partagé {bodyId} introuvable");
            var subject = OneLine(row.Subject);
            if (_shared is null)
            {
                _shared = NewMessage(subject, out _sharedText, out _sharedHtml);
            }
            else if (_shared.Subject != subject)
            {
                _shared.Subject = subject;
            }

            message = _shared;
            message.Headers.RemoveAll(HeaderId.DkimSignature);
            var values = row.Personal ?? [];
            _sharedText!.Encoded = body.PreparedText.Personalise(_textStream, values, 0);
            _sharedHtml!.Encoded = body.PreparedHtml.Personalise(_htmlStream, values, body.Placeholders.Length);
        }

        message.To.Clear();
        message.To.Add(to);
        message.MessageId = row.MessageId.Trim('<', '>');
        message.Date = date;
        // The shared message keeps the previous row's list headers: the ones this row has replace them, the rest go.
        foreach (var name in message.Headers.Where(h => !Reserved.Contains(h.Field) && h.Field != "MIME-Version").Select(h => h.Field)
                     .Where(f => !headers.ContainsKey(f)).ToList())
        {
            message.Headers.RemoveAll(name);
        }

        foreach (var (name, value) in headers)
        {
            if (!IsHeaderName(name) || Reserved.Contains(name))
            {
                throw new ArgumentException($"En-tête refusé : {name}");
            }

            message.Headers[name] = value.Replace("\r", "").Replace("\n", " ");
        }

        if (_dkim is not null)
        {
            message.Prepare(EncodingConstraint.SevenBit);
            _dkim.Sign(Format, message, SignedHeaders.Where(h => message.Headers.Contains(h)).ToArray());
        }

        return message;
    }

    private static byte[] Encoded(string? body) => PreparedBody.Encode(Encoding.UTF8.GetBytes(NormalizeLineEnds(body ?? "")));

    private MimeMessage NewMessage(string subject, out EncodedTextPart text, out EncodedTextPart html)
    {
        text = new EncodedTextPart("plain");
        html = new EncodedTextPart("html");
        var message = new MimeMessage { Subject = OneLine(subject), Body = new MultipartAlternative { text, html } };
        // A copy each time: an address list subscribes to its addresses' Changed event, so one MailboxAddress shared by
        // every message kept every message ever built alive (~40 KB per digest group, 700 MB in a 100,000 digest).
        message.From.Add(new MailboxAddress(_from.Name, _from.Address));
        if (_replyTo is not null)
        {
            message.ReplyTo.Add(new MailboxAddress(_replyTo.Name, _replyTo.Address));
        }

        return message;
    }

    private static string OneLine(string subject) => subject.Replace("\r", "").Replace("\n", " ");

    /// <summary>The address alone, refused when MimeKit reads it otherwise (it would change the envelope on the wire).</summary>
    private static string CheckedAddress(string address) =>
        MailboxAddress.TryParse(address, out var parsed) && parsed.Address == address && !address.Any(char.IsWhiteSpace)
            ? address
            : throw new ArgumentException($"Adresse invalide : {address}");

    private static bool IsHeaderName(string name) =>
        name.Length is > 0 and <= 76 && name.All(c => c is > ' ' and < '\x7f' and not ':');

    // Rendered bodies already end their lines with '\n': no copy of a 45 KB string for nothing.
    internal static string NormalizeLineEnds(string text) =>
        text.AsSpan().IndexOfAny(OtherLineEnds) < 0 ? text : text.ReplaceLineEndings("\n");

    /// <summary>UTF-8 text with its line ends normalized as for a string; the same bytes when there is nothing to change.</summary>
    internal static ReadOnlyMemory<byte> NormalizeLineEnds(ReadOnlyMemory<byte> utf8) =>
        HasOtherLineEnds(utf8.Span) ? Encoding.UTF8.GetBytes(NormalizeLineEnds(Encoding.UTF8.GetString(utf8.Span))) : utf8;

    /// <summary>Whether UTF-8 bytes hold a line end other than '\n' (what <see cref="NormalizeLineEnds(string)"/> replaces).</summary>
    private static bool HasOtherLineEnds(ReadOnlySpan<byte> utf8) =>
        utf8.IndexOfAny((byte)'\r', (byte)'\f') >= 0 || utf8.IndexOf("\u0085"u8) >= 0 || utf8.IndexOf("\u2028"u8) >= 0
        || utf8.IndexOf("\u2029"u8) >= 0;

    // What ReplaceLineEndings turns into '\n' besides '\n' itself.
    private static readonly SearchValues<char> OtherLineEnds = SearchValues.Create("\r\f\u0085\u2028\u2029");
}

/// <summary>
/// A body sent to many recipients that differs only by a few placeholders (a digest group's, 0063), encoded in
/// quoted-printable once by MimeKit's encoder: quoted-printable works line by line, so the lines without a placeholder
/// are kept encoded and only the few lines with one are personalised and encoded for each message; the fragments of the
/// body (0107) come encoded already, each once for all the bodies listing it. The bytes are those of the personalised
/// text, fragments in place, encoded whole.
/// </summary>
public sealed class PreparedBody
{
    // Each chunk is either encoded bytes (whole lines without a placeholder) or a line with one, '\n' included.
    private readonly List<object> _chunks = [];

    public PreparedBody(string template, IReadOnlyList<string> placeholders)
        : this(Encoding.UTF8.GetBytes(MessageBuilder.NormalizeLineEnds(template)), placeholders)
    {
    }

    /// <summary>From the template's UTF-8 bytes, as the outbox stores shared bodies for the delivery job to read
    /// (a digest body as a .NET string is twice its size, and went to the large object heap).</summary>
    /// <param name="fragments">What each <see cref="MailFragment.Marker"/> line stands for, in order, already encoded
    /// (<see cref="EncodeFragment"/>).</param>
    /// <exception cref="ArgumentException">Fewer fragments than markers.</exception>
    public PreparedBody(ReadOnlyMemory<byte> utf8, IReadOnlyList<string> placeholders, IReadOnlyList<byte[]>? fragments = null)
    {
        Placeholders = [.. placeholders];
        var text = MessageBuilder.NormalizeLineEnds(utf8).Span;
        var marks = Placeholders.Select(p => Encoding.UTF8.GetBytes(p)).ToArray();
        var plain = 0;
        var fragment = 0;
        for (var start = 0; start < text.Length;)
        {
            var end = text[start..].IndexOf((byte)'\n');
            end = end < 0 ? text.Length : start + end + 1;
            if (fragments is not null && text[start..end].SequenceEqual(FragmentMarker))
            {
                if (start > plain)
                {
                    _chunks.Add(Encode(text[plain..start]));
                }

                _chunks.Add(fragment < fragments.Count
                    ? fragments[fragment++]
                    : throw new ArgumentException($"Fragment n° {fragment + 1} manquant", nameof(fragments)));
                plain = end;
            }
            else if (HasPlaceholder(text[start..end], marks))
            {
                if (start > plain)
                {
                    _chunks.Add(Encode(text[plain..start]));
                }

                _chunks.Add(Encoding.UTF8.GetString(text[start..end]));
                plain = end;
            }

            start = end;
        }

        if (text.Length > plain)
        {
            _chunks.Add(Encode(text[plain..]));
        }
    }

    public string[] Placeholders { get; }

    private static readonly byte[] FragmentMarker = Encoding.UTF8.GetBytes(MailFragment.Marker);

    /// <summary>A fragment's part (UTF-8, whole lines) as it goes in place of its marker.</summary>
    public static byte[] EncodeFragment(byte[] utf8) => Encode(MessageBuilder.NormalizeLineEnds(utf8).Span);

    private static bool HasPlaceholder(ReadOnlySpan<byte> line, byte[][] marks)
    {
        foreach (var p in marks)
        {
            if (line.IndexOf(p) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The encoded body with placeholder i replaced by <c>values[offset + i]</c>, written into <paramref name="buffer"/>
    /// (reused: the bytes are valid until its next use).</summary>
    public ReadOnlyMemory<byte> Personalise(MemoryStream buffer, IReadOnlyList<string?> values, int offset)
    {
        buffer.SetLength(0);
        foreach (var chunk in _chunks)
        {
            buffer.Write(chunk is byte[] encoded
                ? encoded
                : Encode(Encoding.UTF8.GetBytes(Outbox.Personalise((string)chunk, Placeholders, values, offset))));
        }

        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    /// <summary>Quoted-printable of UTF-8 text with '\n' line ends, with CRLF line ends as on the wire: what every body
    /// part holds (<see cref="EncodedTextPart"/>).</summary>
    internal static byte[] Encode(ReadOnlySpan<byte> utf8)
    {
        // MimeKit's encoder writes up to two characters past the length it is given (an escaped byte or trailing space at
        // the limit): 74 keeps every line within RFC 2045's 76.
        var encoder = new QuotedPrintableEncoder(74);
        // The encoder takes arrays and asks for three times the input: both are rented, only the result is allocated
        // (a new input copy and output per digest body were a third of the digest's allocations, half of them on the
        // large object heap; docs/benchmarks.md).
        var input = ArrayPool<byte>.Shared.Rent(utf8.Length);
        var output = ArrayPool<byte>.Shared.Rent(encoder.EstimateOutputLength(utf8.Length));
        try
        {
            utf8.CopyTo(input);
            var n = encoder.Flush(input, 0, utf8.Length, output);
            // Its output ends lines with '\n' only (a '\r' of the text is escaped as =0D): each becomes CRLF.
            var encoded = output.AsSpan(0, n);
            var crlf = new byte[n + encoded.Count((byte)'\n')];
            var to = crlf.AsSpan();
            for (var line = encoded.IndexOf((byte)'\n'); line >= 0; line = encoded.IndexOf((byte)'\n'))
            {
                encoded[..line].CopyTo(to);
                to[line] = (byte)'\r';
                to[line + 1] = (byte)'\n';
                to = to[(line + 2)..];
                encoded = encoded[(line + 1)..];
            }

            encoded.CopyTo(to);
            return crlf;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(input);
            ArrayPool<byte>.Shared.Return(output);
        }
    }
}

/// <summary>
/// A UTF-8 text part whose body is already quoted-printable with CRLF line ends (<see cref="PreparedBody"/>), written
/// as it is. A MimePart passes its body through a line-end filter byte by byte even when it has nothing to change: with
/// SMTP's dot-stuffing filter behind it, that filter was the first cost of the delivery's CPU (9 % of the app's samples
/// in a 100,000-subscriber digest, perf; docs/benchmarks.md).
/// </summary>
public sealed class EncodedTextPart : TextPart
{
    public EncodedTextPart(string subtype)
        : base(subtype)
    {
        ContentTransferEncoding = ContentEncoding.QuotedPrintable;
        ContentType.Charset = "utf-8";
    }

    /// <summary>The body: quoted-printable, CRLF line ends, ending with a line end.</summary>
    public ReadOnlyMemory<byte> Encoded { get; set; }

    public override void WriteTo(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
    {
        // Without Content, MimePart writes the headers and the blank line that ends them, and nothing else; a multipart
        // then omits the line end it writes after a part's content (EncodedTextPart_SameBytesAsMimeKitsOwnPart).
        base.WriteTo(options, stream, contentOnly, cancellationToken);
        if (options.NewLineFormat == NewLineFormat.Dos)
        {
            stream.Write(Encoded.Span);
        }
        else
        {
            using var filtered = new FilteredStream(stream);
            filtered.Add(new Dos2UnixFilter());
            filtered.Write(Encoded.Span);
            filtered.Flush(cancellationToken);
        }

        stream.Write(NewLine(options));
    }

    public override async Task WriteToAsync(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
    {
        await base.WriteToAsync(options, stream, contentOnly, cancellationToken);
        if (options.NewLineFormat == NewLineFormat.Dos)
        {
            await stream.WriteAsync(Encoded, cancellationToken);
        }
        else
        {
            using var filtered = new FilteredStream(stream);
            filtered.Add(new Dos2UnixFilter());
            await filtered.WriteAsync(Encoded, cancellationToken);
            await filtered.FlushAsync(cancellationToken);
        }

        await stream.WriteAsync(NewLine(options), cancellationToken);
    }

    private static readonly byte[] Crlf = "\r\n"u8.ToArray();
    private static readonly byte[] Lf = "\n"u8.ToArray();

    private static byte[] NewLine(FormatOptions options) => options.NewLineFormat == NewLineFormat.Dos ? Crlf : Lf;
}

/// <summary>
/// MimeKit's DKIM signer with .NET's RSA instead of BouncyCastle's: measured here, ~1.7 ms of CPU a message instead of
/// ~10 ms. Relaxed/relaxed canonicalisation, rsa-sha256.
/// </summary>
public sealed class NetRsaDkimSigner : DkimSigner
{
    private readonly RSA _rsa;

    public NetRsaDkimSigner(string privateKeyPath, string domain, string selector)
        : base(privateKeyPath, domain, selector, DkimSignatureAlgorithm.RsaSha256)
    {
        _rsa = RSA.Create();
        _rsa.ImportFromPem(File.ReadAllText(privateKeyPath));
        HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed;
        BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed;
    }

    protected override Org.BouncyCastle.Crypto.ISigner CreateSigningContext() => new Sha256RsaSigner(_rsa);

    /// <summary>Hashes what MimeKit feeds it, then signs the SHA-256 digest with PKCS#1 v1.5 (RFC 6376's rsa-sha256).</summary>
    private sealed class Sha256RsaSigner(RSA rsa) : Org.BouncyCastle.Crypto.ISigner
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public string AlgorithmName => "SHA-256withRSA";

        public void Init(bool forSigning, Org.BouncyCastle.Crypto.ICipherParameters parameters)
        {
        }

        public void Update(byte input) => _hash.AppendData([input]);

        public void BlockUpdate(byte[] input, int inOff, int inLen) => _hash.AppendData(input, inOff, inLen);

        public void BlockUpdate(ReadOnlySpan<byte> input) => _hash.AppendData(input);

        public int GetMaxSignatureSize() => rsa.KeySize / 8;

        public byte[] GenerateSignature() =>
            rsa.SignHash(_hash.GetHashAndReset(), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

        public bool VerifySignature(byte[] signature) =>
            rsa.VerifyHash(_hash.GetHashAndReset(), signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

        public void Reset() => _hash.GetHashAndReset();
    }
}
