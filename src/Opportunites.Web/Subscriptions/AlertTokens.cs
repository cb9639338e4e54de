using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

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
/// Unguessable signed tokens for links in emails (ASP.NET Core Data Protection, keys in PostgreSQL).
/// A token names a row id; the row being deleted is what revokes it.
/// </summary>
public sealed class AlertTokens(IDataProtectionProvider provider)
{
    // One protector per purpose, made once: a digest run signs two links per subscriber (200,000 at 100,000
    // subscribers), and a protector made per call rebuilt its purpose chain and authenticated data each time.
    private readonly IDataProtector[] _byPurpose = Enum.GetValues<TokenPurpose>()
        .Select(p => provider.CreateProtector("Opportunites.Alertes.v1").CreateProtector(p.ToString())).ToArray();

    private IDataProtector Protector(TokenPurpose purpose) => _byPurpose[(int)purpose];

    public string Create(TokenPurpose purpose, long id, TimeSpan? lifetime = null)
    {
        var protector = Protector(purpose);
        var payload = id.ToString(CultureInfo.InvariantCulture);
        return lifetime is { } l
            ? protector.ToTimeLimitedDataProtector().Protect(payload, l)
            : protector.Protect(payload);
    }

    /// <returns>The id the token names, or null when it is forged, altered, expired or for another purpose.</returns>
    public long? Read(TokenPurpose purpose, string? token, bool timeLimited = false)
    {
        if (string.IsNullOrWhiteSpace(token) || token.Length > 2000)
        {
            return null;
        }

        try
        {
            var protector = Protector(purpose);
            var payload = timeLimited ? protector.ToTimeLimitedDataProtector().Unprotect(token) : protector.Unprotect(token);
            return long.TryParse(payload, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException)
        {
            return null;
        }
    }
}
