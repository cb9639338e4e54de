namespace Opportunites.Web.Accounts;

/// <summary>Authorization seams shared by every feature: roles carried as ClaimTypes.Role in the auth cookie.</summary>
public static class Policies
{
    public const string Admin = "Admin";
    public const string Issuer = "Issuer";

    public const string AdminRole = "admin";
    public const string IssuerRole = "issuer";

    public const string CookieScheme = "opportunites";
}
