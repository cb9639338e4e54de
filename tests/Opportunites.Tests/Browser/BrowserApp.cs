using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Opportunites.Tests.Browser;

/// <summary>
/// The real app served by Kestrel on http://127.0.0.1:&lt;free port&gt; inside the test process, on the test
/// database, so that a real browser can reach it. Extra settings and services (an SMTP server's port, a test clock)
/// come from <paramref name="configure"/>.
/// </summary>
public sealed class BrowserApp : WebApplicationFactory<Program>
{
    private readonly string connectionString;
    private readonly Action<IWebHostBuilder>? configure;

    public BrowserApp(string connectionString, Action<IWebHostBuilder>? configure = null)
    {
        this.connectionString = connectionString;
        this.configure = configure;
        // Port 0: the OS picks a free port, so parallel runs and other helpers' apps never clash.
        UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
    }

    /// <summary>The address Kestrel bound, without trailing slash (e.g. http://127.0.0.1:41234).</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>Starts Kestrel and reads the bound address.</summary>
    public void Start()
    {
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>();
        BaseUrl = addresses.Addresses.Single().TrimEnd('/');
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("ConnectionStrings:Default", connectionString);
        // Program binds 127.0.0.1:5080 when no URL is set; say one so it keeps out of the way of Kestrel's Listen above.
        builder.UseSetting("urls", "http://127.0.0.1:0");
        // No scheduler working on the shared test database (a journey may turn it on with ConfigureApp).
        builder.UseSetting("Jobs:Enabled", "false");
        builder.UseSetting("Accounts:RateLimitPermits", "100000");
        configure?.Invoke(builder);
    }
}
