using System.Diagnostics;
using System.Net;
using Npgsql;
using Opportunites.Tests.Infrastructure;

namespace Opportunites.Tests.Shared;

public sealed class SecurityTests
{
    [TestCase("/")]
    [TestCase("/cette-page-n-existe-pas")]
    public async Task AnyPage_CarriesSecurityHeaders(string path)
    {
        await using var app = new AppFactory();
        using var client = app.CreateClient();

        var response = await client.GetAsync(path);

        var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.That(csp, Does.Contain("frame-ancestors 'none'").And.Contain("default-src 'self'"));
        Assert.That(response.Headers.GetValues("X-Content-Type-Options"), Does.Contain("nosniff"));
        Assert.That(response.Headers.GetValues("Referrer-Policy"), Does.Contain("strict-origin-when-cross-origin"));
    }

    [Test]
    public async Task Page_DatabaseGoesAwayThenComesBack_Fails503FastThenRecoversWithoutRestart()
    {
        var real = new NpgsqlConnectionStringBuilder(SharedDatabase.ConnectionString);
        await using var proxy = new TcpProxy(real.Host!, real.Port);
        proxy.Start();
        var viaProxy = new NpgsqlConnectionStringBuilder(SharedDatabase.ConnectionString) { Port = proxy.Port };
        await using var app = new AppFactory(viaProxy.ConnectionString);
        using var client = app.CreateClient();
        Assert.That((await client.GetAsync("/")).StatusCode, Is.EqualTo(HttpStatusCode.OK));

        proxy.Stop();
        var watch = Stopwatch.StartNew();
        // A page nobody viewed yet: the board keeps pages a few seconds, and until the app notices the loss it could
        // serve "/" again from memory (Board/PageCache.cs).
        var down = await client.GetAsync("/offres?tri=recent");
        var downBody = await down.Content.ReadAsStringAsync();
        watch.Stop();

        Assert.That(down.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(downBody, Does.Contain("momentanément indisponible").And.Not.Contain("Exception"));
        // Not a hang: the connect timeout is a few seconds at most (a generous bound, not a benchmark).
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)));

        proxy.Start();
        var recovered = Stopwatch.StartNew();
        HttpStatusCode status;
        do
        {
            status = (await client.GetAsync("/offres?type=aap")).StatusCode;
        }
        while (status != HttpStatusCode.OK && recovered.Elapsed < TimeSpan.FromSeconds(5));

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), "the app serves again within 5 s of the database being back");
    }
}
