using System.Globalization;
using System.Text;

namespace Opportunites.Tests.Security;

/// <summary>
/// Generated hostile values for the fuzzing test, from one seeded Random (same seed, same inputs). Every string
/// payload carries the run's marker, so a payload echoed without escaping is found by a plain substring search.
/// A value is either text (percent-encoded when sent) or raw percent-encoding (invalid UTF-8 sent as is).
/// </summary>
public sealed class HostileInput(int seed)
{
    private readonly Random random = new(seed);

    /// <summary>Unique to the run: "fz" and 8 letters/digits from the seed.</summary>
    public string Marker { get; } = "fz" + new Random(seed).Next().ToString("x8", CultureInfo.InvariantCulture);

    /// <summary>What must never appear raw in an HTML, XML or JSON body.</summary>
    public IEnumerable<string> Dangerous =>
    [
        "<script>x" + Marker,
        "<img src=x onerror=y" + Marker,
        "<svg onload=y" + Marker,
        "\"><b>" + Marker,
    ];

    public string[] Payloads => [
        $"<script>x{Marker}</script>",
        $"\"><img src=x onerror=y{Marker}(1)>",
        $"'><svg onload=y{Marker}>",
        $"\"><b>{Marker}</b>",
        $"' OR 1=1 --{Marker}",
        $"'; DROP TABLE users; --{Marker}",
        $"\" OR \"\"=\"{Marker}",
        $"1' UNION SELECT password_hash FROM users --{Marker}",
        $"{Marker}%' AND pg_sleep(0) --",
        $"[clic](javascript:alert('{Marker}'))",
        $"javascript:alert('{Marker}')",
        $"]]></title><script>x{Marker}</script>",
        $"BEGIN:VEVENT\r\nSUMMARY:{Marker}\r\nEND:VEVENT",
        $"=HYPERLINK(\"http://x/{Marker}\")",
        $"{{{{{Marker}}}}} ${{{Marker}}} @{Marker}",
        $"../../etc/passwd{Marker}",
        $"{Marker}\0nul",
        $"\u202e{Marker}\ufeff\u200b",
        $"é{Marker}Ω😀\ud83d",
    ];

    /// <summary>Percent-encoded byte sequences that are not UTF-8 (sent without re-encoding).</summary>
    private static readonly string[] InvalidUtf8 = ["%C3%28", "%FF", "%FE%FF", "%E2%82", "%ED%A0%80", "%C0%AF", "%F8%88%80%80%80", "%80%80"];

    public int Next(int max) => random.Next(max);

    public T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];

    /// <summary>A hostile value for any field: text, a number, a huge number, invalid UTF-8, a long string...</summary>
    public FieldValue Any() => random.Next(12) switch
    {
        0 => FieldValue.Text(RandomText(random.Next(1, 40))),
        1 => FieldValue.Text(Marker + new string('A', random.Next(1000, 70_000))),
        2 => FieldValue.Raw(Pick(InvalidUtf8) + Marker + Pick(InvalidUtf8)),
        3 => FieldValue.Text(Pick(HugeNumbers)),
        4 => FieldValue.Text(""),
        5 => FieldValue.Text("   "),
        6 => FieldValue.Raw("%00" + Marker),
        _ => FieldValue.Text(Pick(Payloads)),
    };

    public static readonly string[] HugeNumbers =
    [
        "99999999999999999999999999", "-1", "0", "-9223372036854775808", "9223372036854775807", "9223372036854775808",
        "1e309", "NaN", "Infinity", "0x7fffffff", "1.5", "1,5", "١٢٣", "+1", "00000000000000000000001", "2147483648",
        "true", "null", "[]", "{}", "31/02/2026", "2026-13-45", "00/00/0000", "99/99/99999",
    ];

    private const string Specials = "<>\"'&;%\\/`{}$#";

    private string RandomText(int length)
    {
        var sb = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            sb.Append(random.Next(6) switch
            {
                0 => (char)random.Next(0x20, 0x7f),
                1 => (char)random.Next(0xa0, 0x2fff),
                2 => Specials[random.Next(Specials.Length)],
                3 => (char)random.Next(1, 0x20),
                4 => (char)random.Next(0xd800, 0xdfff),
                _ => (char)random.Next('a', 'z' + 1),
            });
        }

        return sb.ToString();
    }
}

/// <summary>A value to send: text (percent-encoded on the wire) or raw percent-encoding (possibly invalid UTF-8).</summary>
public readonly record struct FieldValue(string Value, bool IsRaw)
{
    public static FieldValue Text(string value) => new(value, false);

    public static FieldValue Raw(string encoded) => new(encoded, true);

    public string Encoded => IsRaw ? Value : Uri.EscapeDataString(Escapable(Value));

    /// <summary>EscapeDataString refuses lone surrogates: they go as U+FFFD, as a browser would send them.</summary>
    private static string Escapable(string s)
    {
        var chars = s.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            var high = char.IsHighSurrogate(chars[i]);
            if (high && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
            {
                i++;
            }
            else if (high || char.IsLowSurrogate(chars[i]))
            {
                chars[i] = '\ufffd';
            }
        }

        return new string(chars);
    }

    public static implicit operator FieldValue(string text) => Text(text);
}

/// <summary>Builds "a=1&amp;b=%FF" by hand: repeated keys, missing fields and raw bytes stay as generated.</summary>
public static class FormBody
{
    public static string Encode(IEnumerable<(string Key, FieldValue Value)> fields) =>
        string.Join("&", fields.Select(f => Uri.EscapeDataString(f.Key) + "=" + f.Value.Encoded));
}
