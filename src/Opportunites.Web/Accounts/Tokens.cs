using System.Security.Cryptography;
using System.Text;

namespace Opportunites.Web.Accounts;

/// <summary>Single-use tokens sent by email: 256 random bits, only their SHA-256 is stored.</summary>
public static class Tokens
{
    public const string Verify = "verify";
    public const string Reset = "reset";
    public const string EmailChange = "email_change";

    public static readonly TimeSpan VerifyLifetime = TimeSpan.FromDays(2);
    public static readonly TimeSpan ResetLifetime = TimeSpan.FromHours(1);
    public static readonly TimeSpan EmailChangeLifetime = TimeSpan.FromDays(1);

    /// <summary>The first password of an admin created from the command line.</summary>
    public static readonly TimeSpan AdminSetupLifetime = TimeSpan.FromDays(1);

    public static string New() => Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string token) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static string Base64UrlEncode(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
