namespace Opportunites.Web.Shared;

public static class HostingExtensions
{
    public const int DefaultPort = 5080;

    /// <summary>Binds http://127.0.0.1:5080 (or PORT) when no URL is configured explicitly.</summary>
    public static void UseDefaultAddress(this WebApplicationBuilder builder)
    {
        if (!string.IsNullOrEmpty(builder.Configuration["urls"]))
        {
            return;
        }

        var port = int.TryParse(builder.Configuration["PORT"], out var p) && p is > 0 and < 65536 ? p : DefaultPort;
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
    }
}
