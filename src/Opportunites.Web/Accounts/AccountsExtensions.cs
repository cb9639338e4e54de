
namespace Opportunites.Web.Accounts;

public static class AccountsExtensions
{
    public static void AddAccounts(this WebApplicationBuilder builder)
    {
        builder.Services.AddAuthentication(Policies.CookieScheme)
            .AddCookie(Policies.CookieScheme, o =>
            {
                o.Cookie.Name = "opportunites.auth";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.LoginPath = "/connexion";
                o.LogoutPath = "/deconnexion";
                o.AccessDeniedPath = "/acces-refuse";
                o.SlidingExpiration = true;
                o.ExpireTimeSpan = TimeSpan.FromDays(14);
            });
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Admin, p => p.RequireRole(Policies.AdminRole))
            .AddPolicy(Policies.Issuer, p => p.RequireRole(Policies.IssuerRole, Policies.AdminRole));
    }
}
