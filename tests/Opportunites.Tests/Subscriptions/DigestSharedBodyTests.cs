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
    public async Task RunAsync_TwoBodiesListingOneOffer_ItsLinesStoredOnceSentInBothAsTheViewShowsThem()
    {
        // Côtes-d'Armor and Finistère each have an offer of their own, and both see the Bretagne one.
        var due = ParisDay(DateTimeOffset.UtcNow).AddDays(60);
        var published = DateTimeOffset.UtcNow.AddMinutes(-10);
        var shared = TestData.Unique("AAP Bretagne « partagé » & cie");
        var armor = TestData.Unique("AAP Côtes-d'Armor");
        var finistere = TestData.Unique("AAP Finistère");
        await TestData.CreateOpportunityAsync(_db.DataSource, shared, ["R53"], Kinds.Aap, due, publishedAt: published);
        await TestData.CreateOpportunityAsync(_db.DataSource, armor, ["22"], Kinds.Aap, due, publishedAt: published);
        await TestData.CreateOpportunityAsync(_db.DataSource, finistere, ["29"], Kinds.Aap, due, publishedAt: published);
        var toArmor = UniqueEmail("armor");
        var toFinistere = UniqueEmail("finistere");
        long[] ids = [await SubscribeAsync(toArmor, "22"), await SubscribeAsync(toFinistere, "29")];

        var result = await _app.Services.GetRequiredService<DigestRunner>().RunAsync(DateTimeOffset.UtcNow, Frequencies.Weekly, ids);

        Assert.That((result.Groups, result.Queued), Is.EqualTo((2, 2)));
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var bodies = (await conn.QueryAsync<(string Text, string Html, Guid[] Fragments)>("""
            SELECT b.text_body, b.html_body, b.fragments FROM outbox o JOIN outbox_bodies b ON b.id = o.body_id
            WHERE o.to_address = ANY (@emails)
            """, new { emails = new[] { toArmor, toFinistere } })).ToList();
        Assert.That(bodies, Has.Count.EqualTo(2));
        Assert.That(bodies.Select(b => b.Text + b.Html), Is.All.Not.Contain(shared).And.All.Not.Contain(armor).And.All.Not.Contain(finistere),
            "a body holds its own text, the offers' lines are fragments");
        var common = bodies[0].Fragments.Intersect(bodies[1].Fragments).ToList();
        Assert.That(common, Has.Count.EqualTo(1), "the Bretagne offer: one fragment listed by both bodies");
        Assert.That(await conn.QuerySingleAsync<string>("SELECT text_part FROM outbox_fragments WHERE id = @id", new { id = common[0] }),
            Does.Contain(shared));

        var counts = await _app.Services.GetRequiredService<OutboxDelivery>().DeliverDueAsync(CancellationToken.None);
        Assert.That(counts.Retried + counts.Failed, Is.Zero);
        foreach (var (email, own, other) in new[] { (toArmor, armor, finistere), (toFinistere, finistere, armor) })
        {
            var sent = _smtp.MessagesTo(email).Single(m => m.Header("List-Id") is not null);
            var viewed = await conn.QuerySingleAsync<(string Text, string Html)>(
                "SELECT text_body, html_body FROM outbox_messages WHERE category = 'digest' AND to_address = @email", new { email });
            Assert.Multiple(() =>
            {
                Assert.That(sent.Defects, Is.Empty);
                Assert.That(sent.Text, Does.Contain(shared).And.Contain(own).And.Not.Contain(other));
                Assert.That(sent.Html, Does.Contain(shared.Replace("&", "&amp;", StringComparison.Ordinal))
                    .And.Contain(own.Replace("'", "&#39;", StringComparison.Ordinal)));
                // Ordinal: a culture-aware search ignores U+001A and finds it anywhere.
                Assert.That(sent.Text!.Contains('\u001A') || sent.Html!.Contains('\u001A'), Is.False, "no marker left");
                Assert.That(viewed.Text, Is.EqualTo(sent.Text!.ReplaceLineEndings("\n")), "the view shows what was sent");
                Assert.That(viewed.Html, Is.EqualTo(sent.Html!.ReplaceLineEndings("\n")));
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
        // Fragments: one listed only by the unused body, one by the used body, one by none but young.
        Guid gone = Guid.NewGuid(), listed = Guid.NewGuid(), young = Guid.NewGuid();
        await conn.ExecuteAsync("""
            INSERT INTO outbox_fragments (id, text_part, html_part, created_at)
            VALUES (@gone, 'g' || chr(10), 'G' || chr(10), now() - interval '40 days'),
                   (@listed, 'l' || chr(10), 'L' || chr(10), now() - interval '40 days'),
                   (@young, 'y' || chr(10), 'Y' || chr(10), now());
            INSERT INTO outbox_bodies (id, placeholders, text_body, html_body, fragments, created_at)
            VALUES (@unused, '{"{{a}}"}', 't', 'h', ARRAY[@gone], now() - interval '40 days'),
                   (@used, '{"{{a}}"}', 't {{a}}' || chr(10) || chr(26) || chr(10), 'h {{a}}' || chr(10) || chr(26) || chr(10),
                    ARRAY[@listed], now() - interval '40 days');
            INSERT INTO outbox (message_id, category, to_address, subject, body_id, personal, status, created_at)
            VALUES ('<' || @tag || '@t>', 'digest', @tag || '@example.org', 's', @used, '{x,y}', 'queued', now() - interval '40 days');
            """, new { unused, used, tag, gone, listed, young });

        var purge = ActivatorUtilities.CreateInstance<PurgeJob>(_app.Services);
        var counts = await purge.RunAsync(new JobRunContext(PurgeJob.Name, DateTimeOffset.UtcNow, "cli", null), CancellationToken.None);

        Assert.That(counts["corps_partages_supprimes"], Is.GreaterThanOrEqualTo(1));
        var left = (await conn.QueryAsync<Guid>("SELECT id FROM outbox_bodies WHERE id = ANY (@ids)",
            new { ids = new[] { unused, used } })).ToList();
        Assert.That(left, Is.EqualTo(new[] { used }));
        Assert.That(await conn.QuerySingleAsync<(string Text, string Html)>(
            "SELECT text_body, html_body FROM outbox_messages WHERE message_id = '<' || @tag || '@t>'", new { tag }),
            Is.EqualTo(("t x\nl\n", "h y\nL\n")));
        Assert.That(counts["fragments_supprimes"], Is.GreaterThanOrEqualTo(1));
        Assert.That(await conn.QueryAsync<Guid>("SELECT id FROM outbox_fragments WHERE id = ANY (@ids)", new { ids = new[] { gone, listed, young } }),
            Is.EquivalentTo(new[] { listed, young }));
    }

    [Test]
    public async Task Enqueue_FragmentOlderThanADayWrittenAgain_MadeYoungSoThePurgeKeepsIt()
    {
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var fragment = MailFragment.Of($"- {Guid.NewGuid():N}\n", "<li>x</li>\n");
        await conn.ExecuteAsync("""
            INSERT INTO outbox_fragments (id, text_part, html_part, created_at)
            VALUES (@id, convert_from(@text, 'UTF8'), convert_from(@html, 'UTF8'), now() - interval '40 days')
            """, new { id = fragment.Id, text = fragment.Text, html = fragment.Html });
        var body = System.Text.Encoding.UTF8.GetBytes("Offres :\n" + MailFragment.Marker + "{{a}}\n");
        var email = UniqueEmail("fragment");

        await using (var tx = await conn.BeginTransactionAsync())
        {
            var id = await conn.ExecuteScalarAsync<long>("SELECT nextval(pg_get_serial_sequence('outbox', 'id'))", transaction: tx);
            await Outbox.EnqueueManyAsync(conn, tx, "digest", ["{{a}}"], [new MailTemplate(Guid.NewGuid(), "s", body, body, [fragment])],
                [new TemplatedEmail(id, 0, email, ["x"], ["y"])]);
            await tx.CommitAsync();
        }

        Assert.That(await conn.ExecuteScalarAsync<bool>(
            "SELECT created_at > now() - interval '1 minute' FROM outbox_fragments WHERE id = @id", new { id = fragment.Id }), Is.True);
        Assert.That(await conn.QuerySingleAsync<string>("SELECT text_body FROM outbox_messages WHERE to_address = @email", new { email }),
            Is.EqualTo("Offres :\n" + System.Text.Encoding.UTF8.GetString(fragment.Text) + "x\n"));
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

    [Test]
    public async Task Delivery_BodyWhoseFragmentIsMissing_ItsRowFailsWithItsReasonTheOthersGo()
    {
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var tag = Guid.NewGuid().ToString("N");
        Guid broken = Guid.NewGuid(), whole = Guid.NewGuid();
        var ids = (await conn.QueryAsync<long>("""
            INSERT INTO outbox_bodies (id, placeholders, text_body, html_body, fragments)
            VALUES (@broken, '{"{{a}}"}', 'Offres :' || chr(10) || chr(26) || chr(10) || '{{a}}', 'h' || chr(10) || chr(26) || chr(10),
                    ARRAY[gen_random_uuid()]),
                   (@whole, '{"{{a}}"}', 'Rien de neuf {{a}}', '<p>Rien {{a}}</p>', '{}');
            INSERT INTO outbox (message_id, category, to_address, subject, body_id, personal)
            VALUES ('<b' || @tag || '@t>', 'digest', 'b' || @tag || '@example.org', 's', @broken, '{x,y}'),
                   ('<w' || @tag || '@t>', 'digest', 'w' || @tag || '@example.org', 's', @whole, '{x,y}')
            RETURNING id
            """, new { tag, broken, whole })).ToList();

        await _app.Services.GetRequiredService<OutboxDelivery>().DeliverDueAsync(CancellationToken.None);

        var rows = (await conn.QueryAsync<(long Id, string Status, string? Error)>(
            "SELECT id, status, last_error FROM outbox WHERE id = ANY (@ids) ORDER BY id", new { ids = ids.ToArray() })).ToList();
        Assert.That(rows.Select(r => r.Status), Is.EqualTo(new[] { "failed", "sent" }));
        Assert.That(rows[0].Error, Does.Contain("introuvable"));
        Assert.That(_smtp.MessagesTo("b" + tag + "@example.org"), Is.Empty);
        Assert.That(_smtp.MessagesTo("w" + tag + "@example.org").Single().Text, Does.Contain("Rien de neuf x"));
    }

    private Task<long> SubscribeAsync(string email, string territory) =>
        SubscribeConfirmedAsync(_app.Services, email, [territory], [Kinds.Aap], db: _db.DataSource);

    private static string? Token(Uri link) => HttpUtility.ParseQueryString(link.Query)["jeton"];
}
