using System.Net;
using Opportunites.Tests.Infrastructure;
using static Opportunites.Tests.Infrastructure.WebForms;

namespace Opportunites.Tests.Accounts;

public sealed class RateLimitTests
{
    [Test]
    public async Task Login_TooManyAttempts_429InFrench()
    {
        // Its own app with a low limit, so that the other tests never meet the limiter.
        await using var app = new AppFactory(new Dictionary<string, string>
        {
            ["Accounts:RateLimitPermits"] = "3",
            ["Accounts:RateLimitWindowSeconds"] = "600",
        });
        using var client = CreateClient(app);
        var token = GetAntiforgeryToken(await client.GetStringAsync("/connexion"));
        var email = $"inconnu-{Guid.NewGuid():N}@example.org";

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            var r = await PostWithTokenAsync(client, "/connexion", token, [F("Email", email), F("Password", "mauvais-mot-de-passe")]);
            statuses.Add(r.StatusCode);
            if (r.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.That(await r.Content.ReadAsStringAsync(), Does.Contain("Trop de tentatives"));
                Assert.That(r.Headers.RetryAfter, Is.Not.Null);
            }
        }

        Assert.That(statuses, Is.EqualTo(new[] { HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests }));
        // Even the right password is refused while locked out; reading pages is never limited.
        var user = await TestUsers.CreateAsync(SharedDatabase.DataSource);
        var locked = await PostWithTokenAsync(client, "/connexion", token, [F("Email", user.Email), F("Password", user.Password)]);
        Assert.That(locked.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests));
        Assert.That((await client.GetAsync("/connexion")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        // Other forms have their own bucket, with the same limit.
        foreach (var form in new[] { "/mot-de-passe-oublie", "/inscription", "/reinitialisation" })
        {
            var codes = new List<HttpStatusCode>();
            for (var i = 0; i < 4; i++)
            {
                codes.Add((await PostWithTokenAsync(client, form, token, [F("Email", $"x{i}-{Guid.NewGuid():N}@example.org")])).StatusCode);
            }

            Assert.That(codes[..3], Has.None.EqualTo(HttpStatusCode.TooManyRequests), form);
            Assert.That(codes[3], Is.EqualTo(HttpStatusCode.TooManyRequests), form);
        }
    }
}
