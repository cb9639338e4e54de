using System.Buffers.Binary;
using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Npgsql;

namespace Opportunites.Web.Subscriptions;

/// <summary>What a signed link in an alert email gives access to.</summary>
public enum TokenPurpose
{
    /// <summary>Confirms a subscriber's address (expires with the unconfirmed row).</summary>
    Confirm,

    /// <summary>Opens the manage page of a subscriber.</summary>
    Manage,

    /// <summary>Stops the digest of a subscriber (one-click).</summary>
    UnsubscribeDigest,

    /// <summary>Stops one deadline reminder (one-click).</summary>
    UnsubscribeReminder,
}

/// <summary>
/// Unguessable signed tokens for links in emails: the row id, an expiry and an HMAC-SHA256 of both and the purpose
/// (key in PostgreSQL, migration 0105). A token names a row id; the row being deleted is what revokes it.
/// </summary>
/// <remarks>
/// Not Data Protection any more: its authenticated encryption (a cipher context and an HMAC made per call) was a tenth
/// of the app's CPU in a digest run, two links per subscriber (docs/benchmarks.md, 04/12), and the id it hid is no
/// secret. Links sent before (Data Protection tokens, "CfDJ8…") are still read.
/// </remarks>
public sealed class AlertTokens
{
    private const string KeySql = "SELECT secret FROM link_keys WHERE name = 'alertes'";

    private const int IdBytes = 8;
    private const int ExpiryBytes = 8;
    private const int MacBytes = 16;
    private const int TokenBytes = IdBytes + ExpiryBytes + MacBytes;

    // One HMAC per thread, reset after each token: OpenSSL's one-shot HMAC looks its algorithm up again at every call,
    // several times the cost of the hash itself.
    private readonly ThreadLocal<IncrementalHash> _hmac;

    // Data Protection tokens of the links sent before: one protector per purpose, made once.
    private readonly IDataProtector[] _legacy;

    public AlertTokens(IDataProtectionProvider provider, NpgsqlDataSource db)
    {
        // Read once per process, at the first link (every node reads the same row).
        var key = new Lazy<byte[]>(() =>
        {
            using var conn = db.OpenConnection();
            return conn.QuerySingleOrDefault<byte[]>(KeySql)
                   ?? throw new InvalidOperationException("Clé des liens d'alerte absente (migration 0105).");
        });
        _hmac = new ThreadLocal<IncrementalHash>(() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key.Value));
        _legacy = Enum.GetValues<TokenPurpose>()
            .Select(p => provider.CreateProtector("Opportunites.Alertes.v1").CreateProtector(p.ToString())).ToArray();
    }

    private const string LegacyPrefix = "CfDJ8";

    public string Create(TokenPurpose purpose, long id, TimeSpan? lifetime = null)
    {
        Span<byte> token = stackalloc byte[TokenBytes];
        BinaryPrimitives.WriteInt64BigEndian(token, id);
        // 0: no expiry. Otherwise the last valid second (Unix time).
        var expires = lifetime is { } l ? DateTimeOffset.UtcNow.Add(l).ToUnixTimeSeconds() : 0;
        BinaryPrimitives.WriteInt64BigEndian(token[IdBytes..], expires);
        Sign(purpose, token[..(IdBytes + ExpiryBytes)], token[(IdBytes + ExpiryBytes)..]);
        return Base64Url.EncodeToString(token);
    }

    /// <returns>The id the token names, or null when it is forged, altered, expired or for another purpose.</returns>
    public long? Read(TokenPurpose purpose, string? token, bool timeLimited = false)
    {
        if (string.IsNullOrWhiteSpace(token) || token.Length > 2000)
        {
            return null;
        }

        if (token.StartsWith(LegacyPrefix, StringComparison.Ordinal))
        {
            return ReadLegacy(purpose, token, timeLimited);
        }

        Span<byte> bytes = stackalloc byte[TokenBytes];
        // TryDecodeFromChars throws on a character outside the alphabet: checked first.
        if (!Base64Url.IsValid(token, out var length) || length != TokenBytes
            || !Base64Url.TryDecodeFromChars(token, bytes, out var written) || written != TokenBytes)
        {
            return null;
        }

        Span<byte> mac = stackalloc byte[MacBytes];
        Sign(purpose, bytes[..(IdBytes + ExpiryBytes)], mac);
        if (!CryptographicOperations.FixedTimeEquals(mac, bytes[(IdBytes + ExpiryBytes)..]))
        {
            return null;
        }

        var expires = BinaryPrimitives.ReadInt64BigEndian(bytes[IdBytes..]);
        // A link made to expire is only read as such, and the other way round (as the two Data Protection protectors did).
        if (timeLimited != (expires != 0) || (timeLimited && DateTimeOffset.UtcNow.ToUnixTimeSeconds() > expires))
        {
            return null;
        }

        return BinaryPrimitives.ReadInt64BigEndian(bytes);
    }

    private void Sign(TokenPurpose purpose, ReadOnlySpan<byte> payload, Span<byte> mac)
    {
        // The purpose goes into what is signed: a manage link does not unsubscribe, and the other way round.
        Span<byte> signed = stackalloc byte[1 + IdBytes + ExpiryBytes];
        signed[0] = (byte)purpose;
        payload.CopyTo(signed[1..]);
        Span<byte> full = stackalloc byte[HMACSHA256.HashSizeInBytes];
        var hmac = _hmac.Value!;
        hmac.AppendData(signed);
        hmac.GetHashAndReset(full);
        full[..MacBytes].CopyTo(mac);
    }

    private long? ReadLegacy(TokenPurpose purpose, string token, bool timeLimited)
    {
        try
        {
            var protector = _legacy[(int)purpose];
            var payload = timeLimited ? protector.ToTimeLimitedDataProtector().Unprotect(token) : protector.Unprotect(token);
            return long.TryParse(payload, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException)
        {
            return null;
        }
    }
}
