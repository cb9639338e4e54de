using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Npgsql;
using Opportunites.Web.Moderation;

namespace Opportunites.Web.Accounts;

/// <summary>The signed-in user as the rules see it (null issuer for an admin without organisation).</summary>
public sealed record CurrentUser(long Id, string Email, string Role, long? IssuerId)
{
    public const string IssuerIdClaim = "issuer_id";
    public const string StampClaim = "stamp";

    public bool IsAdmin => Role == Policies.AdminRole;

    public Actor Actor => new(Id, Email);

    public static CurrentUser? From(ClaimsPrincipal principal)
    {
        if (principal.Identity?.IsAuthenticated != true
            || !long.TryParse(principal.FindFirstValue(ClaimTypes.NameIdentifier), out var id))
        {
            return null;
        }

        long? issuerId = long.TryParse(principal.FindFirstValue(IssuerIdClaim), out var i) ? i : null;
        return new CurrentUser(id, principal.FindFirstValue(ClaimTypes.Email) ?? "",
            principal.FindFirstValue(ClaimTypes.Role) ?? "", issuerId);
    }

    public static ClaimsPrincipal ToPrincipal(UserRecord user)
    {
        List<Claim> claims =
        [
            new(ClaimTypes.NameIdentifier, user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new(ClaimTypes.Email, user.Email),
            new(ClaimTypes.Name, user.Email),
            new(ClaimTypes.Role, user.Role),
            new(StampClaim, Stamp(user)),
        ];
        if (user.IssuerId is { } issuerId)
        {
            claims.Add(new(IssuerIdClaim, issuerId.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, Policies.CookieScheme));
    }

    /// <summary>Changes when the password, address, role or organisation changes: older cookies stop working.</summary>
    public static string Stamp(UserRecord user) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(
        $"{user.PasswordHash}|{user.Email}|{user.Role}|{user.IssuerId}|{user.EmailVerifiedAt is not null}")))[..16];

    /// <summary>Cookie check on each authenticated request: the account must still exist, unchanged.</summary>
    public static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var current = context.Principal is { } p ? From(p) : null;
        var db = context.HttpContext.RequestServices.GetRequiredService<NpgsqlDataSource>();
        UserRecord? user = null;
        if (current is not null)
        {
            await using var conn = await db.OpenConnectionAsync(context.HttpContext.RequestAborted);
            user = await AccountStore.GetByIdAsync(conn, current.Id);
        }

        if (user is null || Stamp(user) != context.Principal!.FindFirstValue(StampClaim))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(Policies.CookieScheme);
        }
    }
}
