using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Subscriptions;

namespace Opportunites.Tests.Security;

/// <summary>
/// Hostile input on every public form, query string and API endpoint: generated values (seeded, printed), sent
/// through the in-memory app with a valid antiforgery token so that they reach validation. Checks: no 5xx, no
/// payload echoed raw in HTML/XML/JSON, and nothing stored from the invalid submissions.
/// </summary>
[NonParallelizable]
public sealed class FuzzTests
{
    private const int DefaultSeed = 20261122;

    // Enough parallel requests to keep both cores busy without queuing thousands of tasks.
    private const int Parallelism = 8;

    private AppFactory factory = null!;
    private Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> app = null!;
    private readonly LogCapture logs = new();
    private HostileInput gen = null!;
    private int seed;
    private Fixture fx = null!;
    private readonly ConcurrentQueue<(string Kind, string Detail)> failures = new();
    private int sent;

    private sealed record Fixture(
        HttpClient Anonymous, string AnonymousToken,
        HttpClient Issuer, string IssuerToken, TestUser IssuerUser, long IssuerOfferId,
        HttpClient TrustedIssuer, string TrustedToken, TestUser TrustedUser,
        long OpenOfferId, long SubscriberId, string ManageToken, string[] TerritoryCodes);

    private sealed record Probe(string Name, HttpClient Client, HttpMethod Method, string Url, string? Form = null);

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        seed = int.TryParse(Environment.GetEnvironmentVariable("FUZZ_SEED"), CultureInfo.InvariantCulture, out var s) ? s : DefaultSeed;
        gen = new HostileInput(seed);
        TestContext.Progress.WriteLine($"Fuzz : graine {seed} (FUZZ_SEED={seed} pour rejouer), marqueur {gen.Marker}");
        factory = new AppFactory(new Dictionary<string, string>
        {
            ["Accounts:RateLimitPermits"] = "10000000",
            ["Alertes:FormPermitLimit"] = "10000000",
            ["Site:BaseUrl"] = "http://localhost",
        });
        // The app's own logs name the exception behind any 4xx/5xx the fuzzing finds.
        app = logs.Attach(factory);
        fx = await CreateFixtureAsync();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await app.DisposeAsync();
        await factory.DisposeAsync();
    }

    private async Task<Fixture> CreateFixtureAsync()
    {
        var db = SharedDatabase.DataSource;
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var openOffer = await TestData.CreateOpportunityAsync(db, TestData.Unique("Offre cible du fuzz"), ["33"], deadline: today.AddDays(30));

        var anonymous = WebForms.CreateClient(app);
        var anonymousToken = WebForms.GetAntiforgeryToken(await anonymous.GetStringAsync("/inscription"));

        var (issuer, issuerUser) = await TestUsers.LoggedInAsync(app);
        var issuerToken = WebForms.GetAntiforgeryToken(await issuer.GetStringAsync("/espace/offres/nouvelle"));
        var issuerOffer = await TestData.CreateOpportunityAsync(db, TestData.Unique("Offre de l'émetteur fuzz"), ["33"],
            deadline: today.AddDays(20), issuerId: issuerUser.IssuerId);

        var (trusted, trustedUser) = await TestUsers.LoggedInAsync(app, trusted: true);
        var trustedToken = WebForms.GetAntiforgeryToken(await trusted.GetStringAsync("/espace/offres/nouvelle"));

        var subscriptions = app.Services.GetRequiredService<SubscriptionService>();
        var email = $"fuzz-gerer-{Guid.NewGuid():N}@example.org";
        await subscriptions.SubscribeAsync(email, DigestPreferences.Canonical(["33"], ["aap"], [], "weekly"), "192.0.2.1");
        await using var conn = await db.OpenConnectionAsync();
        var subscriberId = await conn.ExecuteScalarAsync<long>("SELECT id FROM subscribers WHERE email = @email", new { email });
        var manageToken = app.Services.GetRequiredService<AlertTokens>().Create(TokenPurpose.Manage, subscriberId);
        var codes = (await conn.QueryAsync<string>("SELECT code FROM territories ORDER BY code LIMIT 60")).ToArray();

        return new Fixture(anonymous, anonymousToken, issuer, issuerToken, issuerUser, issuerOffer, trusted, trustedToken,
            trustedUser, openOffer, subscriberId, manageToken, codes);
    }

    [Test]
    public async Task EveryFormAndEndpoint_TenThousandHostileInputs_No5xxNothingRawNothingStored()
    {
        var watch = Stopwatch.StartNew();
        var before = await SnapshotAsync();

        await RunAsync(InvalidForms().Concat(Queries()));

        var after = await SnapshotAsync();
        TestContext.Progress.WriteLine($"Fuzz : {sent} requêtes invalides ou hostiles en {watch.Elapsed.TotalSeconds:F1} s");
        Assert.That(failures.Count, Is.Zero, Report());
        Assert.That(after, Is.EqualTo(before), $"graine {seed} : rien ne doit être enregistré d'une saisie invalide");
        Assert.That(sent, Is.GreaterThanOrEqualTo(10_000));

        // Hostile but valid offers: stored, then shown escaped on every page, feed and API that lists them.
        await RunValidHostileOffersAsync();
        TestContext.Progress.WriteLine($"Fuzz : {sent} requêtes au total en {watch.Elapsed.TotalSeconds:F1} s");
        Assert.That(failures.Count, Is.Zero, Report());
    }

    /// <summary>Failures grouped by endpoint and kind, with two examples each (the seed replays them).</summary>
    private string Report() =>
        $"graine {seed} : {failures.Count} échec(s)\n" + string.Join("\n", failures.GroupBy(f => f.Kind).Select(g =>
            $"{g.Count()} × {g.Key}\n    " + string.Join("\n    ", g.Take(2).Select(f => f.Detail)))) + "\n"
        + string.Join("\n", logs.Lines.Where(l => l.StartsWith("Error", StringComparison.Ordinal)).Select(l => Short(l, 1200))
            .DistinctBy(l => l.Split('\n').Skip(1).FirstOrDefault()).Take(5));

    /// <summary>Rows that an invalid submission could leave: anything carrying the marker, and the fixtures' own rows.</summary>
    private async Task<string> SnapshotAsync()
    {
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        var like = "%" + gen.Marker + "%";
        var counts = await conn.QuerySingleAsync<(long, long, long, long, long, long, long)>("""
            SELECT (SELECT count(*) FROM users WHERE email ILIKE @like),
                   (SELECT count(*) FROM subscribers WHERE email ILIKE @like),
                   (SELECT count(*) FROM outbox_messages WHERE to_address ILIKE @like OR text_body ILIKE @like),
                   (SELECT count(*) FROM issuers WHERE name ILIKE @like),
                   (SELECT count(*) FROM opportunities WHERE title ILIKE @like OR description ILIKE @like OR issuer_id = @issuerId),
                   (SELECT count(*) FROM account_tokens WHERE user_id = @userId),
                   (SELECT count(*) FROM deadline_reminders)
            """, new { like, issuerId = fx.IssuerUser.IssuerId, userId = fx.IssuerUser.Id });
        var offer = await conn.QuerySingleAsync<string>(
            "SELECT concat_ws('|', title, description, url, contact, deadline_date, status, updated_at) FROM opportunities WHERE id = @id",
            new { id = fx.IssuerOfferId });
        var prefs = await conn.QuerySingleAsync<string>(
            "SELECT concat_ws('|', territory_codes, kinds, themes, frequency, paused_at, updated_at) FROM digest_subscriptions WHERE subscriber_id = @id",
            new { id = fx.SubscriberId });
        var user = await conn.QuerySingleAsync<string>("SELECT concat_ws('|', email, password_hash) FROM users WHERE id = @id", new { id = fx.IssuerUser.Id });
        return $"comptes/abonnés/courriels/organisations/offres/jetons/rappels = {counts}\noffre = {offer}\npréférences = {prefs}\ncompte = {user}";
    }

    private async Task RunAsync(IEnumerable<Probe> probes) =>
        await Parallel.ForEachAsync(probes, new ParallelOptions { MaxDegreeOfParallelism = Parallelism },
            async (probe, ct) => await SendAsync(probe, ct));

    private async Task<(HttpStatusCode Status, string Body, HttpResponseMessage? Response)> SendAsync(Probe probe, CancellationToken ct = default)
    {
        Interlocked.Increment(ref sent);
        try
        {
            using var request = new HttpRequestMessage(probe.Method, probe.Url);
            if (probe.Form is not null)
            {
                request.Content = new StringContent(probe.Form, Encoding.ASCII, "application/x-www-form-urlencoded");
            }

            var response = await probe.Client.SendAsync(request, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            Check(probe, response, body);
            return (response.StatusCode, body, response);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            failures.Enqueue(($"{probe.Name} exception {ex.GetType().Name}", $"{probe.Method} {Short(probe.Url)} [{Short(probe.Form)}] : {Short(ex.Message)}"));
            return (0, "", null);
        }
    }

    private void Check(Probe probe, HttpResponseMessage response, string body)
    {
        var what = $"{probe.Method} {Short(probe.Url)} [{Short(probe.Form)}]";
        if ((int)response.StatusCode >= 500)
        {
            failures.Enqueue(($"{probe.Name} {(int)response.StatusCode}", what));
        }

        // ICS and CSV are not interpreted by a browser; HTML, XML (RSS) and JSON are.
        var type = response.Content.Headers.ContentType?.MediaType ?? "";
        if (type is "text/calendar" or "text/csv")
        {
            return;
        }

        foreach (var raw in gen.Dangerous.Append("href=\"javascript:"))
        {
            var at = body.IndexOf(raw, StringComparison.OrdinalIgnoreCase);
            if (at >= 0)
            {
                var context = body.Substring(Math.Max(0, at - 80), Math.Min(body.Length - Math.Max(0, at - 80), 200));
                failures.Enqueue(($"{probe.Name} {type} « {raw} » non échappé", $"{what} … {context}"));
            }
        }
    }

    private static string Short(string? s, int max = 160) => s is null ? "" : s.Length > max ? s[..max] + "…" : s;

    private Probe Post(string name, HttpClient client, string url, string token, params (string, FieldValue)[] fields) =>
        new(name, client, HttpMethod.Post, url, FormBody.Encode(fields.Append(("__RequestVerificationToken", (FieldValue)token))));

    /// <summary>A value from the generator, or (one time in five) the field left out.</summary>
    private IEnumerable<(string, FieldValue)> Maybe(string key, Func<FieldValue> value)
    {
        if (gen.Next(5) == 0)
        {
            yield break;
        }

        yield return (key, value());
        // Repeated parameter, one time in eight.
        if (gen.Next(8) == 0)
        {
            yield return (key, gen.Any());
        }
    }

    private string InvalidEmail(int i) => $"inv{gen.Marker}.{i}@example.org";

    /// <summary>A generated value that cannot be an email address (no @).</summary>
    private FieldValue NotAnEmail()
    {
        var v = gen.Any();
        return v.IsRaw ? v : FieldValue.Text(v.Value.Replace("@", "", StringComparison.Ordinal));
    }

    private FieldValue EmailOrJunk(int i) => gen.Next(2) == 0 ? InvalidEmail(i) : gen.Any();

    private IEnumerable<Probe> InvalidForms()
    {
        var a = fx.Anonymous;
        var t = fx.AnonymousToken;
        for (var i = 0; i < 400; i++)
        {
            // Sign-up: always one field that cannot pass (short password, unknown type or bad name length).
            var fields = new List<(string, FieldValue)>();
            fields.AddRange(Maybe("Email", () => EmailOrJunk(i)));
            switch (i % 3)
            {
                case 0:
                    fields.Add(("Password", "court" + i));
                    fields.AddRange(Maybe("OrganisationName", gen.Any));
                    fields.AddRange(Maybe("OrganisationType", () => gen.Pick(new FieldValue[] { "association", gen.Any() })));
                    break;
                case 1:
                    fields.AddRange(Maybe("Password", gen.Any));
                    fields.Add(("OrganisationName", "Organisation " + gen.Marker + i));
                    fields.Add(("OrganisationType", gen.Any()));
                    break;
                default:
                    fields.AddRange(Maybe("Password", gen.Any));
                    fields.Add(("OrganisationName", gen.Next(2) == 0 ? "" : gen.Marker + new string('o', 200)));
                    fields.AddRange(Maybe("OrganisationType", gen.Any));
                    break;
            }

            yield return Post("inscription", a, "/inscription", t, [.. fields]);
        }

        for (var i = 0; i < 100; i++)
        {
            // Login: every attempt hashes a password (on purpose), so fewer of them.
            yield return Post("connexion", a, "/connexion?retour=" + gen.Any().Encoded, t,
                [.. Maybe("Email", () => EmailOrJunk(i)), .. Maybe("Password", gen.Any), .. Maybe("retour", gen.Any)]);
        }

        for (var i = 0; i < 600; i++)
        {
            yield return Post("mot-de-passe-oublie", a, "/mot-de-passe-oublie", t, [.. Maybe("Email", () => EmailOrJunk(i))]);
        }

        for (var i = 0; i < 600; i++)
        {
            yield return Post("reinitialisation", a, "/reinitialisation?jeton=" + gen.Any().Encoded, t,
                [.. Maybe("jeton", gen.Any), .. Maybe("Password", gen.Any), .. Maybe("Confirmation", gen.Any)]);
        }

        for (var i = 0; i < 900; i++)
        {
            yield return Post("alertes", a, "/alertes", t, [.. SubscribeFields(i, withEmail: true)]);
        }

        for (var i = 0; i < 500; i++)
        {
            var id = gen.Next(2) == 0 ? NotAPositiveId() : fx.OpenOfferId.ToString(CultureInfo.InvariantCulture);
            var email = id.Value == fx.OpenOfferId.ToString(CultureInfo.InvariantCulture) ? NotAnEmail() : EmailOrJunk(i);
            yield return Post("rappel", a, "/alertes/rappel?offre=" + gen.Any().Encoded, t,
                [("OpportunityId", id), .. Maybe("OpportunityId", NotAPositiveId), ("Email", email)]);
        }

        var manage = "/alertes/gerer?jeton=" + Uri.EscapeDataString(fx.ManageToken);
        for (var i = 0; i < 500; i++)
        {
            yield return Post("gerer", a, manage + "&handler=Save", t, [.. SubscribeFields(i, withEmail: false)]);
            if (i % 5 == 0)
            {
                yield return Post("gerer-rappel", a, manage + "&handler=RemoveReminder", t, [.. Maybe("reminderId", gen.Any)]);
                var handler = gen.Pick(new[] { "Save", "Pause", "Resume", "Delete", "RemoveReminder", gen.Any().Encoded });
                yield return Post("gerer-jeton", a, $"/alertes/gerer?handler={handler}&jeton={gen.Any().Encoded}", t,
                    [.. SubscribeFields(i, withEmail: false)]);
                yield return Post("confirmer", a, "/alertes/confirmer?jeton=" + gen.Any().Encoded, t, [.. Maybe("jeton", gen.Any)]);
                yield return new Probe("desinscription", a, HttpMethod.Post,
                    $"/alertes/desinscription?{gen.Pick(new[] { "jeton", "rappel" })}={gen.Any().Encoded}",
                    FormBody.Encode([.. Maybe("List-Unsubscribe", () => gen.Pick(new FieldValue[] { "One-Click", gen.Any() }))]));
            }
        }

        for (var i = 0; i < 500; i++)
        {
            var offerFields = InvalidOfferFields(i).ToArray();
            yield return Post("espace-nouvelle", fx.Issuer, "/espace/offres/nouvelle", fx.IssuerToken, offerFields);
            if (i % 2 == 0)
            {
                yield return Post("espace-modifier", fx.Issuer, $"/espace/offres/{fx.IssuerOfferId}/modifier", fx.IssuerToken, offerFields);
            }

            if (i % 10 == 0)
            {
                yield return Post("espace-rouvrir", fx.Issuer, $"/espace/offres/{fx.IssuerOfferId}?handler=Rouvrir", fx.IssuerToken,
                    [.. Maybe("nouvelleDate", gen.Any)]);
                yield return Post("compte-email", fx.Issuer, "/compte/email", fx.IssuerToken,
                    [.. Maybe("NewEmail", () => EmailOrJunk(i)), .. Maybe("CurrentPassword", gen.Any)]);
            }
        }
    }

    private FieldValue NotAPositiveId()
    {
        var v = gen.Any();
        return long.TryParse(v.Value.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? "0" : v;
    }

    /// <summary>Preference fields that can never be valid: no territory, an unknown one, more than 50, or an unknown kind or theme.</summary>
    private IEnumerable<(string, FieldValue)> SubscribeFields(int i, bool withEmail)
    {
        if (withEmail)
        {
            foreach (var f in Maybe("Email", () => EmailOrJunk(i)))
            {
                yield return f;
            }
        }

        var breaker = i % 5;
        var territories = breaker switch
        {
            0 => [],
            1 => new FieldValue[] { "33", gen.Any() },
            2 => fx.TerritoryCodes.Take(51).Select(c => (FieldValue)c).ToArray(),
            _ => ["33"],
        };
        if (breaker == 1 && string.IsNullOrWhiteSpace(territories[1].Value))
        {
            territories[1] = "ZZ" + gen.Marker;
        }

        foreach (var code in territories)
        {
            yield return ("territoire", code);
        }

        yield return ("Kinds", breaker == 3 ? "x" + gen.Any().Value : gen.Pick(new FieldValue[] { "aap", "ami", "emploi" }));
        if (breaker == 4)
        {
            yield return ("Themes", "x" + gen.Marker + gen.Next(100));
        }

        foreach (var f in Maybe("Themes", gen.Any).Concat(Maybe("Frequency", gen.Any)))
        {
            yield return f;
        }
    }

    /// <summary>An offer with at least one field that cannot pass; the marker is always in the description.</summary>
    private IEnumerable<(string, FieldValue)> InvalidOfferFields(int i)
    {
        var breaker = i % 6;
        // Only offers with beneficiaries (AAP, AMI) read the amount.
        var kind = breaker switch
        {
            0 => (FieldValue)("x" + gen.Any().Value),
            5 => "aap",
            _ => gen.Pick(new FieldValue[] { "aap", "ami", "emploi" }),
        };
        yield return ("Input.Kind", kind);
        yield return ("Input.Title", breaker == 1 ? gen.Pick(new FieldValue[] { "", "ab", gen.Marker + new string('t', 300) }) : gen.Any());
        yield return ("Input.Description", gen.Marker + " " + gen.Pick(gen.Payloads));
        foreach (var code in breaker == 2 ? [gen.Any(), "ZZ" + gen.Marker] : new FieldValue[] { "33", gen.Any() })
        {
            yield return ("Input.Territories", code);
        }

        yield return ("Input.Deadline", breaker == 3 ? gen.Pick(new FieldValue[] { "01/01/2000", "31/02/2030", "x" + gen.Any().Value }) : gen.Any());
        yield return ("Input.Url", breaker == 4 ? "javascript:" + gen.Any().Value : gen.Any());
        yield return ("Input.Amount", breaker == 5 ? "x" + gen.Any().Value : gen.Any());
        foreach (var f in Maybe("Input.Contact", gen.Any).Concat(Maybe("Input.ContractType", gen.Any))
                     .Concat(Maybe("Input.Beneficiaries", gen.Any)).Concat(Maybe("Action", gen.Any))
                     .Concat(Maybe("ConfirmDuplicate", gen.Any)))
        {
            yield return f;
        }
    }

    private static readonly string[] BoardParams =
        ["q", "type", "territoire", "theme", "emetteur", "cloture", "limite", "archives", "tri", "page", "apres", "avant"];

    private string RandomQuery()
    {
        var parts = new List<string>();
        var n = gen.Next(5) + 1;
        for (var k = 0; k < n; k++)
        {
            var name = gen.Next(10) == 0 ? gen.Any().Encoded : gen.Pick(BoardParams);
            parts.Add(name + "=" + gen.Any().Encoded);
        }

        return string.Join("&", parts);
    }

    private IEnumerable<Probe> Queries()
    {
        var a = fx.Anonymous;
        for (var i = 0; i < 1400; i++)
        {
            yield return Get("board", a, gen.Pick(new[] { "/", "/offres" }) + "?" + RandomQuery());
        }

        for (var i = 0; i < 1200; i++)
        {
            yield return Get("feeds", a, gen.Pick(new[] { "/offres/flux.rss", "/offres/agenda.ics", "/offres/export.csv" }) + "?" + RandomQuery());
        }

        for (var i = 0; i < 1200; i++)
        {
            yield return Get("api", a, "/api/v1/opportunites?" + RandomQuery());
        }

        for (var i = 0; i < 300; i++)
        {
            yield return Get("api-detail", a, "/api/v1/opportunites/" + PathSegment() + "?" + RandomQuery());
            yield return Get("api-territoires", a, "/api/v1/territoires?q=" + gen.Any().Encoded + (i % 4 == 0 ? "&q=" + gen.Any().Encoded : ""));
            yield return Get("detail", a, "/offres/" + PathSegment());
            yield return Get("detail-slug", a, $"/offres/{fx.OpenOfferId}-" + PathSegment());
            yield return Get("offre-ics", a, "/offres/" + PathSegment() + "/agenda.ics");
        }

        string[] tokenPages =
        [
            "/alertes/gerer?jeton=", "/alertes/confirmer?jeton=", "/alertes/desinscription?jeton=", "/alertes/desinscription?rappel=",
            "/reinitialisation?jeton=", "/compte/verification?jeton=", "/compte/email/confirmation?jeton=", "/connexion?retour=",
            "/connexion?info=", "/alertes/rappel?offre=", "/inscription?envoye=", "/alertes?demande=", "/erreur?code=",
            "/alertes/gerer?ok=" + Uri.EscapeDataString(fx.ManageToken) + "&jeton=",
        ];
        for (var i = 0; i < 100; i++)
        {
            foreach (var page in tokenPages)
            {
                yield return Get("lien", a, page + gen.Any().Encoded);
            }
        }

        yield return Get("openapi", a, "/openapi/v1.json?" + RandomQuery());
    }

    /// <summary>
    /// A generated path segment without NUL: the in-memory test server throws on "%00" in a path before the app sees it
    /// (Kestrel answers 400 by itself), so only query strings and bodies carry NUL.
    /// </summary>
    private string PathSegment()
    {
        var v = gen.Any().Encoded;
        return v.Contains("%00", StringComparison.Ordinal) ? v.Replace("%00", "%01", StringComparison.Ordinal) : v;
    }

    private static Probe Get(string name, HttpClient client, string url) => new(name, client, HttpMethod.Get, url);

    /// <summary>Offers full of payloads that pass validation: published (trusted issuer), then read back everywhere.</summary>
    private async Task RunValidHostileOffersAsync()
    {
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var ids = new List<long>();
        var kinds = new[] { "aap", "ami", "emploi" };
        // NUL is refused by the framework's form reader itself (400 before the app runs; see HostileInputRegressionTests).
        var payloads = gen.Payloads.Where(p => !p.Contains('\0', StringComparison.Ordinal)).ToArray();
        for (var i = 0; i < payloads.Length; i++)
        {
            var payload = payloads[i];
            var kind = kinds[i % 3];
            var (status, body, response) = await SendAsync(Post("offre-hostile", fx.TrustedIssuer, "/espace/offres/nouvelle", fx.TrustedToken,
                ("Input.Kind", kind), ("Input.Title", Truncate($"{payload} {i}", 300)),
                ("Input.Description", $"{payload}\n\n[lien](javascript:alert('{gen.Marker}'))\n\n<img src=x onerror=y{gen.Marker}>"),
                ("Input.Territories", "33"), ("Input.Deadline", today.AddDays(10 + i).ToString("dd/MM/yyyy", CultureInfo.InvariantCulture)),
                ("Input.Url", "https://example.org/?q=" + FieldValue.Text(payload).Encoded), ("Input.Contact", Truncate(payload, 500)),
                ("Input.ContractType", "cdd"), ("Input.Beneficiaries", Truncate(payload, 1000)), ("Input.Amount", "15 000"),
                ("Action", "soumettre"), ("ConfirmDuplicate", "true")));
            var location = response?.Headers.Location?.ToString() ?? "";
            Assert.That(status, Is.EqualTo(HttpStatusCode.Redirect), $"offre valide n° {i} refusée : {Short(payload)}\n"
                + string.Join("\n", logs.Lines.Where(l => l.Contains("Exception", StringComparison.Ordinal)).TakeLast(3).Select(l => Short(l, 1500))));
            ids.Add(long.Parse(location.Split('/')[^1], CultureInfo.InvariantCulture));
        }

        var issuer = fx.TrustedUser.IssuerId!.Value;
        var a = fx.Anonymous;
        var reads = new List<Probe>
        {
            Get("liste", a, $"/offres?emetteur={issuer}"),
            Get("liste-archives", a, $"/?emetteur={issuer}&archives=1&tri=recent"),
            Get("rss", a, $"/offres/flux.rss?emetteur={issuer}"),
            Get("ics", a, $"/offres/agenda.ics?emetteur={issuer}"),
            Get("csv", a, $"/offres/export.csv?emetteur={issuer}"),
            Get("api", a, $"/api/v1/opportunites?emetteur={issuer}"),
            Get("espace", fx.TrustedIssuer, "/espace"),
        };
        foreach (var id in ids)
        {
            reads.Add(Get("api-detail", a, $"/api/v1/opportunites/{id}"));
            reads.Add(Get("offre-ics", a, $"/offres/{id}/agenda.ics"));
            reads.Add(Get("espace-offre", fx.TrustedIssuer, $"/espace/offres/{id}"));
            reads.Add(Get("espace-modifier", fx.TrustedIssuer, $"/espace/offres/{id}/modifier"));
            var redirect = await SendAsync(Get("detail", a, $"/offres/{id}"));
            reads.Add(Get("detail", a, redirect.Response?.Headers.Location?.ToString() ?? $"/offres/{id}"));
        }

        var bodies = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(reads, new ParallelOptions { MaxDegreeOfParallelism = Parallelism },
            async (probe, _) => bodies.Add((await SendAsync(probe)).Body));
        // The payloads were really shown (escaped), not silently dropped.
        Assert.That(bodies.Count(b => b.Contains(gen.Marker, StringComparison.Ordinal)), Is.GreaterThan(ids.Count));

        // A reminder on a hostile offer: its confirmation email and the manage page show the title escaped too.
        var email = $"fuzz-rappel-{Guid.NewGuid():N}@example.org";
        var reminder = await SendAsync(Post("rappel-hostile", a, "/alertes/rappel", fx.AnonymousToken,
            ("OpportunityId", ids[0].ToString(CultureInfo.InvariantCulture)), ("Email", email)));
        Assert.That(reminder.Status, Is.EqualTo(HttpStatusCode.OK));
        var mails = await OutboxReader.GetAsync(SharedDatabase.DataSource, email);
        Assert.That(mails, Is.Not.Empty);
        foreach (var raw in gen.Dangerous)
        {
            Assert.That(mails.Select(m => m.HtmlBody), Has.None.Contain(raw), "courriel HTML");
        }
    }

    private static string Truncate(string s, int max) => s.Length > max ? s[..max] : s;
}
