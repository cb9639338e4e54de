using System.Globalization;
using System.Web;
using Dapper;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Digests;
using Opportunites.Web.Jobs;
using Opportunites.Web.Mail;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Subscriptions;
using static Opportunites.Tests.Subscriptions.AlertTestKit;

namespace Opportunites.Tests.Subscriptions;

/// <summary>
/// A digest's body is stored once per preference group (outbox_bodies) and personalised when it is sent: the rows
/// written, and what a real SMTP server receives. Batches of 2 and fetches of 3, so that a group spans several reads,
/// write transactions and delivery claims.
/// One database of this fixture's own: the delivery sends every queued row.
/// </summary>
public sealed class DigestSharedBodyTests
{
    private PrivateDatabase _db = null!;
    private SmtpServer _smtp = null!;
    private WebApplicationFactory<Program> _app = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _db = await PrivateDatabase.CreateAsync("opportunites_sharedbody");
        _smtp = await SmtpServer.StartAsync();
        _app = new AppFactory(_db.ConnectionString, new Dictionary<string, string>
        {
            ["Smtp:Host"] = _smtp.Host,
            ["Smtp:Port"] = _smtp.Port.ToString(CultureInfo.InvariantCulture),
            ["Smtp:From"] = "veille@opportunites.test",
            ["Smtp:TimeoutSeconds"] = "10",
            ["Site:BaseUrl"] = "http://localhost",
            ["Alertes:DigestBatchSize"] = "2",
            // Subscribers fetched 3 at a time from the run's cursor: a group also spans two fetches.
            ["Alertes:DigestFetchSize"] = "3",
            // Claims of 2 as well: a group's body is read once and kept for the next claims.
            ["Mail:BatchSize"] = "2",
            ["Alertes:FormPermitLimit"] = "1000",
        });
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _app.DisposeAsync();
        await _smtp.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Test]
    public async Task RunAsync_FiveSubscribersOfOneGroup_OneBodyRowFiveOutboxRowsEachMessageWithItsOwnLinks()
    {
        const int n = 5;
        var territory = "2A";
        // Characters of two, three and four UTF-8 bytes: bodies are stored and read back as UTF-8 bytes.
        var offer = TestData.Unique("Appel à projets « Corse solidaire » — été & jeunesse 🌞");
        await TestData.CreateOpportunityAsync(_db.DataSource, offer, [territory], Kinds.Aap,
            ParisDay(DateTimeOffset.UtcNow).AddDays(60), publishedAt: DateTimeOffset.UtcNow.AddMinutes(-10));
        var subscribers = new Dictionary<long, string>();
        for (var i = 0; i < n; i++)
        {
            var email = UniqueEmail($"partage{i}");
            subscribers[await SubscribeAsync(email, territory)] = email;
        }

        var result = await _app.Services.GetRequiredService<DigestRunner>()
            .RunAsync(DateTimeOffset.UtcNow, Frequencies.Weekly, subscribers.Keys);

        Assert.That((result.Groups, result.Queued), Is.EqualTo((1, n)));
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var rows = (await conn.QueryAsync<(Guid? BodyId, bool HasOwnBody, int Personal)>("""
            SELECT body_id, text_body IS NOT NULL OR html_body IS NOT NULL, cardinality(personal)
            FROM outbox WHERE category = 'digest' AND to_address = ANY (@emails)
            """, new { emails = subscribers.Values.ToArray() })).ToList();
        Assert.That(rows, Has.Count.EqualTo(n));
        Assert.That(rows.Select(r => (r.HasOwnBody, r.Personal)), Is.All.EqualTo((false, 6)), "three links, plain and for HTML");
        var bodyIds = rows.Select(r => r.BodyId).Distinct().ToArray();
        Assert.That(bodyIds, Has.Length.EqualTo(1).And.All.Not.Null, "un seul corps pour le groupe, sur trois lots");
        Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM outbox_bodies WHERE id = @id", new { id = bodyIds[0] }),
            Is.EqualTo(1));

        var counts = await _app.Services.GetRequiredService<OutboxDelivery>().DeliverDueAsync(CancellationToken.None);
        Assert.That(counts.Retried + counts.Failed, Is.Zero);

        var tokens = _app.Services.GetRequiredService<AlertTokens>();
        var unsubscribeLinks = new HashSet<string>();
        foreach (var (id, email) in subscribers)
        {
            var digest = _smtp.MessagesTo(email).Single(m => m.Header("List-Id") is not null);
            var unsubscribe = digest.Link("/alertes/desinscription");
            var manage = digest.Link("/alertes/gerer");
            Assert.Multiple(() =>
            {
                Assert.That(digest.Defects, Is.Empty);
                Assert.That(digest.Text, Does.Contain(offer).And.Not.Contain("{{"));
                Assert.That(digest.Html, Does.Not.Contain("{{").And.Contain(offer.Replace("&", "&amp;", StringComparison.Ordinal)));
                Assert.That(tokens.Read(TokenPurpose.UnsubscribeDigest, Token(unsubscribe)), Is.EqualTo(id), "le lien de désinscription de son abonné");
                Assert.That(tokens.Read(TokenPurpose.Manage, Token(manage)), Is.EqualTo(id), "le lien de gestion de son abonné");
                Assert.That(digest.ListUnsubscribeUrl, Is.EqualTo(unsubscribe));
                Assert.That(digest.HtmlLinks, Does.Contain(unsubscribe).And.Contain(manage));
            });
            unsubscribeLinks.Add(unsubscribe.ToString());
        }

        Assert.That(unsubscribeLinks, Has.Count.EqualTo(n));

        // What readers see through the view is what was sent.
        var first = subscribers.First();
        var viewed = await conn.QuerySingleAsync<string>(
            "SELECT text_body FROM outbox_messages WHERE category = 'digest' AND to_address = @email", new { email = first.Value });
        Assert.That(viewed, Does.Contain(_smtp.MessagesTo(first.Value).Single(m => m.Header("List-Id") is not null).Link("/alertes/desinscription").ToString()));
    }

    [Test]
    public async Task RunAsync_TwoCommunesWithTheSameOffers_OneBodyEachEmailLinksToItsOwnCommune()
    {
        // Bastia and Corte have no offer of their own: both see the Haute-Corse one, in the same body.
        var offer = TestData.Unique("AAP Haute-Corse pour toutes les communes");
        await TestData.CreateOpportunityAsync(_db.DataSource, offer, ["2B"], Kinds.Aap,
            ParisDay(DateTimeOffset.UtcNow).AddDays(60), publishedAt: DateTimeOffset.UtcNow.AddMinutes(-10));
        var communes = new Dictionary<string, string>
        {
            [UniqueEmail("bastia1")] = "C2B033",
            [UniqueEmail("bastia2")] = "C2B033",
            [UniqueEmail("corte")] = "C2B096",
        };
        var ids = new List<long>();
        foreach (var (email, commune) in communes)
        {
            ids.Add(await SubscribeAsync(email, commune));
        }

        var result = await _app.Services.GetRequiredService<DigestRunner>().RunAsync(DateTimeOffset.UtcNow, Frequencies.Weekly, ids);

        Assert.That((result.Groups, result.Queued), Is.EqualTo((2, 3)));
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var bodyIds = (await conn.QueryAsync<Guid>("SELECT DISTINCT body_id FROM outbox WHERE category = 'digest' AND to_address = ANY (@emails)",
            new { emails = communes.Keys.ToArray() })).ToList();
        Assert.That(bodyIds, Has.Count.EqualTo(1), "same offers, same bytes: one body for both groups");
        Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM outbox_bodies WHERE id = @id", new { id = bodyIds[0] }), Is.EqualTo(1));

        var counts = await _app.Services.GetRequiredService<OutboxDelivery>().DeliverDueAsync(CancellationToken.None);
        Assert.That(counts.Retried + counts.Failed, Is.Zero);
        foreach (var (email, commune) in communes)
        {
            var digest = _smtp.MessagesTo(email).Single(m => m.Header("List-Id") is not null);
            var board = digest.Links.First(u => u.AbsolutePath == "/offres");
            Assert.Multiple(() =>
            {
                Assert.That(digest.Text, Does.Contain(offer).And.Not.Contain("{{"));
                Assert.That(digest.Html, Does.Not.Contain("{{"));
                Assert.That(HttpUtility.ParseQueryString(board.Query).GetValues("territoire"), Is.EqualTo(new[] { commune }), email);
                Assert.That(digest.HtmlLinks, Does.Contain(board), "the HTML part links to the same search");
            });
        }
    }

    [Test]
    public async Task Purge_SharedBodyNoLongerUsed_DeletedWhileUsedOneStays()
    {
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var unused = Guid.NewGuid();
        var used = Guid.NewGuid();
        var tag = Guid.NewGuid().ToString("N");
        await conn.ExecuteAsync("""
            INSERT INTO outbox_bodies (id, placeholders, text_body, html_body, created_at)
            VALUES (@unused, '{"{{a}}"}', 't', 'h', now() - interval '40 days'),
                   (@used, '{"{{a}}"}', 't {{a}}', 'h {{a}}', now() - interval '40 days');
            INSERT INTO outbox (message_id, category, to_address, subject, body_id, personal, status, created_at)
            VALUES ('<' || @tag || '@t>', 'digest', @tag || '@example.org', 's', @used, '{x,y}', 'queued', now() - interval '40 days');
            """, new { unused, used, tag });

        var purge = ActivatorUtilities.CreateInstance<PurgeJob>(_app.Services);
        var counts = await purge.RunAsync(new JobRunContext(PurgeJob.Name, DateTimeOffset.UtcNow, "cli", null), CancellationToken.None);

        Assert.That(counts["corps_partages_supprimes"], Is.GreaterThanOrEqualTo(1));
        var left = (await conn.QueryAsync<Guid>("SELECT id FROM outbox_bodies WHERE id = ANY (@ids)",
            new { ids = new[] { unused, used } })).ToList();
        Assert.That(left, Is.EqualTo(new[] { used }));
        Assert.That(await conn.QuerySingleAsync<(string Text, string Html)>(
            "SELECT text_body, html_body FROM outbox_messages WHERE message_id = '<' || @tag || '@t>'", new { tag }),
            Is.EqualTo(("t x", "h y")));
    }

    [Test]
    public async Task Delivery_RowWhoseSharedBodyIsMissing_FailsWithItsReason()
    {
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var tag = Guid.NewGuid().ToString("N");
        var id = await conn.ExecuteScalarAsync<long>("""
            INSERT INTO outbox (message_id, category, to_address, subject, body_id, personal)
            VALUES ('<' || @tag || '@t>', 'digest', @tag || '@example.org', 's', @missing, '{x,y,z,w}')
            RETURNING id
            """, new { tag, missing = Guid.NewGuid() });

        await _app.Services.GetRequiredService<OutboxDelivery>().DeliverDueAsync(CancellationToken.None);

        var (status, error) = await conn.QuerySingleAsync<(string, string?)>("SELECT status, last_error FROM outbox WHERE id = @id", new { id });
        Assert.That(status, Is.EqualTo("failed"));
        Assert.That(error, Does.Contain("introuvable"));
        Assert.That(_smtp.MessagesTo(tag + "@example.org"), Is.Empty);
    }

    private Task<long> SubscribeAsync(string email, string territory) =>
        SubscribeConfirmedAsync(_app.Services, email, [territory], [Kinds.Aap], db: _db.DataSource);

    private static string? Token(Uri link) => HttpUtility.ParseQueryString(link.Query)["jeton"];
}
