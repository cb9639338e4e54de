using System.Buffers;
using System.Globalization;
using System.Text;

namespace Opportunites.Web.Mail;

/// <summary>One email as the transports need it: everything the MIME message is built from.</summary>
public sealed record MailMessage(
    string MessageId,
    string FromAddress,
    string FromName,
    string ToAddress,
    string? ToName,
    string Subject,
    string TextBody,
    string HtmlBody,
    IReadOnlyDictionary<string, string> Headers,
    DateTimeOffset Date)
{
    /// <summary>When set, the text part is this shared body with its values, and <see cref="TextBody"/> is not used.</summary>
    public PersonalisedBody? TextPart { get; init; }

    /// <summary>When set, the HTML part is this shared body with its values, and <see cref="HtmlBody"/> is not used.</summary>
    public PersonalisedBody? HtmlPart { get; init; }
}

/// <summary>A <see cref="PreparedBody"/> with one message's values: placeholder i is replaced by <c>Values[Offset + i]</c>.</summary>
public readonly record struct PersonalisedBody(PreparedBody Body, IReadOnlyList<string?> Values, int Offset);

/// <summary>
/// A body sent to many recipients that differs only by a few placeholders (a digest group's, 0063), encoded in
/// quoted-printable once: quoted-printable works line by line, so the lines without a placeholder are kept encoded and
/// only the few lines with one are replaced and encoded for each message. The bytes are exactly those of the
/// personalised text encoded whole (<see cref="Outbox.Personalise"/>, then <see cref="MimeWriter"/>).
/// </summary>
public sealed class PreparedBody
{
    // Each chunk is either encoded bytes (whole lines without a placeholder) or a line with one, '\n' included.
    private readonly List<object> _chunks = [];

    public PreparedBody(string template, IReadOnlyList<string> placeholders)
        : this(Encoding.UTF8.GetBytes(MimeWriter.NormalizeLineEnds(template)), placeholders)
    {
    }

    /// <summary>From the template's UTF-8 bytes, as the outbox stores shared bodies for the delivery job to read
    /// (a digest body as a .NET string is twice its size, and went to the large object heap).</summary>
    public PreparedBody(ReadOnlyMemory<byte> utf8, IReadOnlyList<string> placeholders)
    {
        Placeholders = [.. placeholders];
        var text = MimeWriter.HasOtherLineEnds(utf8.Span)
            ? Encoding.UTF8.GetBytes(MimeWriter.NormalizeLineEnds(Encoding.UTF8.GetString(utf8.Span))).AsSpan()
            : utf8.Span;
        var marks = Placeholders.Select(p => Encoding.UTF8.GetBytes(p)).ToArray();
        var plain = 0;
        for (var start = 0; start < text.Length;)
        {
            var end = text[start..].IndexOf((byte)'\n');
            end = end < 0 ? text.Length : start + end + 1;
            if (HasPlaceholder(text[start..end], marks))
            {
                if (start > plain)
                {
                    _chunks.Add(MimeWriter.EncodeQuotedPrintable(text[plain..start]));
                }

                _chunks.Add(Encoding.UTF8.GetString(text[start..end]));
                plain = end;
            }

            start = end;
        }

        if (text.Length > plain)
        {
            _chunks.Add(MimeWriter.EncodeQuotedPrintable(text[plain..]));
        }

        Length = text.Length;
    }

    public string[] Placeholders { get; }

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

    /// <summary>UTF-8 bytes of the template, to size buffers.</summary>
    public int Length { get; }

    internal IReadOnlyList<object> Chunks => _chunks;
}

/// <summary>
/// Writes an RFC 5322 / MIME message: multipart/alternative (text then HTML), UTF-8, quoted-printable bodies,
/// RFC 2047 encoded words for non-ASCII headers, CRLF line ends. Written directly into bytes: measured here, this is
/// about 15 times cheaper than rendering a System.Net.Mail.MailMessage, and digest volumes build many.
/// </summary>
public static class MimeWriter
{
    private static readonly UTF8Encoding Utf8 = new(false);

    // Headers the writer sets itself; extra headers may not replace them.
    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "Message-ID", "Date", "From", "To", "Subject", "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Bcc", "Cc",
    };

    public static byte[] Write(MailMessage m)
    {
        var text = m.TextPart?.Body.Length ?? m.TextBody.Length;
        var html = m.HtmlPart?.Body.Length ?? m.HtmlBody.Length;
        var buffer = new ArrayBufferWriter<byte>(2048 + (text * 2) + (html * 2));
        Write(m, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    public static void Write(MailMessage m, IBufferWriter<byte> output)
    {
        var w = new Writer(output);
        w.Header("Message-ID", m.MessageId);
        w.Header("Date", m.Date.ToString("ddd, dd MMM yyyy HH:mm:ss ", CultureInfo.InvariantCulture) +
                         m.Date.ToString("zzz", CultureInfo.InvariantCulture).Replace(":", ""));
        w.AddressHeader("From", m.FromName, m.FromAddress);
        w.AddressHeader("To", m.ToName, m.ToAddress);
        w.TextHeader("Subject", m.Subject);
        w.Header("MIME-Version", "1.0");
        foreach (var (name, value) in m.Headers)
        {
            if (!IsHeaderName(name) || Reserved.Contains(name))
            {
                throw new ArgumentException($"En-tête refusé : {name}");
            }

            w.TextHeader(name, value);
        }

        // Quoted-printable output never contains "=_" ('=' is always followed by hex or a line end), so no body line
        // can be mistaken for this boundary.
        var boundary = "=_alt_" + m.MessageId.GetHashCode().ToString("x8", CultureInfo.InvariantCulture) + "_" + Guid.NewGuid().ToString("N");
        w.Line("Content-Type: multipart/alternative;");
        w.Line($" boundary=\"{boundary}\"");
        w.Line("");
        w.Line("Ce message est au format MIME.");
        w.PartHeader(boundary, "text/plain");
        w.Body(m.TextPart, m.TextBody);
        w.PartHeader(boundary, "text/html");
        w.Body(m.HtmlPart, m.HtmlBody);
        w.Line($"--{boundary}--");
    }

    /// <summary>The quoted-printable bytes of a text's UTF-8, CRLF line ends (what a body part holds).</summary>
    /// <param name="utf8">Line ends already normalized (<see cref="NormalizeLineEnds"/>).</param>
    internal static byte[] EncodeQuotedPrintable(ReadOnlySpan<byte> utf8)
    {
        // The writer asks for room for the worst case (3 bytes per UTF-8 byte): a buffer sized for it, new each time,
        // grew to ~100 KB for a digest body (large object heap) before the exact copy below. One per thread, reused.
        var buffer = t_encoding ??= new ArrayBufferWriter<byte>(64 * 1024);
        buffer.ResetWrittenCount();
        new Writer(buffer).QuotedPrintableUtf8(utf8);
        return buffer.WrittenSpan.ToArray();
    }

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_encoding;

    // Rendered bodies already end their lines with '\n': no copy of a 45 KB string for nothing.
    internal static string NormalizeLineEnds(string text) =>
        text.AsSpan().IndexOfAny(OtherLineEnds) < 0 ? text : text.ReplaceLineEndings("\n");

    /// <summary>Whether UTF-8 bytes hold a line end other than '\n' (what <see cref="NormalizeLineEnds"/> replaces).</summary>
    internal static bool HasOtherLineEnds(ReadOnlySpan<byte> utf8) =>
        utf8.IndexOfAny((byte)'\r', (byte)'\f') >= 0 || utf8.IndexOf("\u0085"u8) >= 0 || utf8.IndexOf("\u2028"u8) >= 0
        || utf8.IndexOf("\u2029"u8) >= 0;

    // What ReplaceLineEndings turns into '\n' besides '\n' itself.
    private static readonly SearchValues<char> OtherLineEnds = SearchValues.Create("\r\f\u0085\u2028\u2029");

    private static bool IsHeaderName(string name) =>
        name.Length is > 0 and <= 76 && name.All(c => c is > ' ' and < '\x7f' and not ':');

    private ref struct Writer(IBufferWriter<byte> output)
    {
        private readonly IBufferWriter<byte> _out = output;

        public void Line(string ascii)
        {
            Ascii(ascii);
            Ascii("\r\n");
        }

        public void Ascii(string s)
        {
            var span = _out.GetSpan(s.Length);
            for (var i = 0; i < s.Length; i++)
            {
                span[i] = (byte)s[i];
            }

            _out.Advance(s.Length);
        }

        public void Header(string name, string asciiValue)
        {
            if (asciiValue.Any(c => c is '\r' or '\n' || c > '\x7e'))
            {
                throw new ArgumentException($"Valeur d'en-tête invalide pour {name}");
            }

            Line($"{name}: {asciiValue}");
        }

        /// <summary>Unstructured text (Subject, List-Id...): as is when short ASCII, else encoded words, folded.</summary>
        public void TextHeader(string name, string value)
        {
            value = value.Replace("\r", "").Replace("\n", " ");
            if (value.All(c => c is >= ' ' and <= '~') && name.Length + 2 + value.Length <= 998)
            {
                FoldedLine($"{name}: {value}");
                return;
            }

            var words = EncodedWords(value, name.Length + 2);
            Ascii($"{name}: ");
            for (var i = 0; i < words.Count; i++)
            {
                Ascii(words[i]);
                Ascii(i < words.Count - 1 ? "\r\n " : "\r\n");
            }
        }

        /// <summary>Writes a header line folded before spaces so lines stay within 78 characters where possible.</summary>
        private void FoldedLine(string line)
        {
            while (line.Length > 78)
            {
                var cut = line.LastIndexOf(' ', 78);
                // No space to fold at (a long URL): a longer line is allowed up to 998 characters.
                if (cut <= 0 || line[..cut].TrimEnd().EndsWith(':'))
                {
                    cut = line.IndexOf(' ', 79);
                    if (cut < 0)
                    {
                        break;
                    }
                }

                Line(line[..cut]);
                line = line[cut..];
            }

            Line(line);
        }

        public void AddressHeader(string name, string? displayName, string address)
        {
            if (address.Any(c => c is '\r' or '\n' or '<' or '>' or ' ' || c > '\x7e'))
            {
                throw new ArgumentException($"Adresse invalide : {address}");
            }

            if (string.IsNullOrWhiteSpace(displayName))
            {
                Line($"{name}: {address}");
                return;
            }

            displayName = displayName.Replace("\r", "").Replace("\n", " ").Trim();
            if (displayName.All(c => c is >= ' ' and <= '~'))
            {
                Line($"{name}: \"{displayName.Replace("\\", "\\\\").Replace("\"", "\\\"")}\" <{address}>");
                return;
            }

            var words = EncodedWords(displayName, name.Length + 2);
            Ascii($"{name}: ");
            foreach (var word in words)
            {
                Ascii(word);
                Ascii("\r\n ");
            }

            Line($"<{address}>");
        }

        public void PartHeader(string boundary, string mediaType)
        {
            Line($"--{boundary}");
            Line($"Content-Type: {mediaType}; charset=utf-8");
            Line("Content-Transfer-Encoding: quoted-printable");
            Line("");
        }

        public void Body(PersonalisedBody? part, string body)
        {
            if (part is not { } p)
            {
                QuotedPrintable(body);
            }
            else
            {
                foreach (var chunk in p.Body.Chunks)
                {
                    if (chunk is byte[] encoded)
                    {
                        _out.Write(encoded);
                    }
                    else
                    {
                        QuotedPrintable(Outbox.Personalise((string)chunk, p.Body.Placeholders, p.Values, p.Offset));
                    }
                }
            }

            Ascii("\r\n");
        }

        /// <summary>RFC 2045 quoted-printable of the UTF-8 text, lines of at most 76 characters, CRLF line ends.</summary>
        // Written into one span reserved for the worst case and advanced once: asking the buffer writer for a span per
        // byte made this loop most of a 45 KB digest's build time (mail benchmark, `--items 80`).
        public void QuotedPrintable(string text) => QuotedPrintableNormalized(NormalizeLineEnds(text));

        public void QuotedPrintableNormalized(ReadOnlySpan<char> normalized)
        {
            var rented = ArrayPool<byte>.Shared.Rent(Utf8.GetMaxByteCount(normalized.Length));
            try
            {
                QuotedPrintableUtf8(rented.AsSpan(0, Utf8.GetBytes(normalized, rented)));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        /// <summary>The same, from the UTF-8 bytes of a text whose line ends are already normalized.</summary>
        public void QuotedPrintableUtf8(ReadOnlySpan<byte> bytes)
        {
            // Each byte becomes at most 3 characters; a soft break ("=" CRLF) comes after at least 73 of them.
            var span = _out.GetSpan((bytes.Length * 3) + ((bytes.Length / 24) * 3) + 8);
            var o = 0;
            var line = 0;
            for (var i = 0; i < bytes.Length;)
            {
                var b = bytes[i];
                // A run of characters written as they are (most of a body) is copied at once, up to the line's end.
                if (line < 75 && Literal.Contains(b) && !(b == '.' && line == 0))
                {
                    var run = bytes[i..].IndexOfAnyExcept(Literal);
                    run = run < 0 ? bytes.Length - i : run;
                    // Whitespace ending a line is encoded below, one byte at a time.
                    if (i + run == bytes.Length || bytes[i + run] == '\n')
                    {
                        while (run > 0 && bytes[i + run - 1] is (byte)' ' or (byte)'\t')
                        {
                            run--;
                        }
                    }

                    if (run > 0)
                    {
                        var n = Math.Min(run, 75 - line);
                        bytes.Slice(i, n).CopyTo(span[o..]);
                        o += n;
                        i += n;
                        line += n;
                        continue;
                    }
                }

                if (b == '\n')
                {
                    span[o++] = (byte)'\r';
                    span[o++] = (byte)'\n';
                    line = 0;
                    i++;
                    continue;
                }

                var atLineEnd = i + 1 == bytes.Length || bytes[i + 1] == '\n';
                // Encoded: non-ASCII, controls, '=', whitespace before a line end (stripped in transit), and a
                // leading '.' (so no line is ever a lone "." even before the transport dot-stuffs).
                var encode = b > 126 || (b < 32 && b != '\t') || b == '=' ||
                             ((b == ' ' || b == '\t') && atLineEnd) || (b == '.' && line == 0);
                var width = encode ? 3 : 1;
                // Soft line break keeping room for "=": a line is at most 76 characters.
                if (line + width > 75)
                {
                    span[o++] = (byte)'=';
                    span[o++] = (byte)'\r';
                    span[o++] = (byte)'\n';
                    line = 0;
                    if (b == '.')
                    {
                        encode = true;
                        width = 3;
                    }
                }

                if (encode)
                {
                    span[o] = (byte)'=';
                    span[o + 1] = Hex[b >> 4];
                    span[o + 2] = Hex[b & 0xF];
                }
                else
                {
                    span[o] = b;
                }

                o += width;
                line += width;
                i++;
            }

            _out.Advance(o);
        }

        private static ReadOnlySpan<byte> Hex => "0123456789ABCDEF"u8;

        // Bytes quoted-printable leaves as they are (printable ASCII but '=', and tab), save the cases decided by
        // position: whitespace at a line end and '.' at a line start.
        private static readonly SearchValues<byte> Literal = SearchValues.Create(
            [(byte)'\t', .. Enumerable.Range(' ', '~' - ' ' + 1).Where(c => c != '=').Select(c => (byte)c)]);
    }

    /// <summary>RFC 2047 "B" encoded words of at most 75 characters, never splitting a character's UTF-8 bytes.</summary>
    /// <param name="firstLineUsed">Characters already on the first line ("Subject: "), so it too stays within 78.</param>
    internal static List<string> EncodedWords(string value, int firstLineUsed)
    {
        // "=?utf-8?B?" + base64 + "?=" on a line that starts with one space (or after the header name).
        static int MaxBytes(int used) => Math.Max(3, (78 - used - 12) / 4 * 3);
        var maxBytes = MaxBytes(firstLineUsed);
        var words = new List<string>();
        var chunk = new StringBuilder();
        var chunkBytes = 0;
        var e = StringInfo.GetTextElementEnumerator(value);
        while (e.MoveNext())
        {
            var element = (string)e.Current;
            var n = Utf8.GetByteCount(element);
            if (chunkBytes + n > maxBytes && chunk.Length > 0)
            {
                words.Add(Word(chunk.ToString()));
                chunk.Clear();
                chunkBytes = 0;
                maxBytes = MaxBytes(1);
            }

            chunk.Append(element);
            chunkBytes += n;
        }

        if (chunk.Length > 0 || words.Count == 0)
        {
            words.Add(Word(chunk.ToString()));
        }

        return words;

        static string Word(string s) => "=?utf-8?B?" + Convert.ToBase64String(Utf8.GetBytes(s)) + "?=";
    }
}
