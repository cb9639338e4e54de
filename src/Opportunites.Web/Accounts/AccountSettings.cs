namespace Opportunites.Web.Accounts;

/// <summary>Settings of the accounts feature; defaults in code, overridden by configuration.</summary>
public sealed class AccountSettings
{
    /// <summary>Public address of the site, for absolute links in emails (Site:BaseUrl).</summary>
    public string BaseUrl { get; set; } = "http://127.0.0.1:5080";

    /// <summary>Attempts allowed per client address and per form (login, sign-up, reset) in one window.</summary>
    public int RateLimitPermits { get; set; } = 10;

    public int RateLimitWindowSeconds { get; set; } = 60;

    public static AccountSettings From(IConfiguration configuration)
    {
        var s = new AccountSettings();
        configuration.GetSection("Accounts").Bind(s);
        if (configuration["Site:BaseUrl"] is { Length: > 0 } url)
        {
            s.BaseUrl = url;
        }

        s.BaseUrl = s.BaseUrl.TrimEnd('/');
        return s;
    }

    public string Link(string pathAndQuery) => BaseUrl + pathAndQuery;
}
