using Dapper;
using Opportunites.Web.Mail;

namespace Opportunites.Tests.Mail;

public sealed class OutboxTests
{
    [Test]
    public async Task Enqueue_RolledBackTransaction_LeavesNoEmail()
    {
        var to = $"rollback-{Guid.NewGuid():N}@example.org";
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        await using (var tx = await conn.BeginTransactionAsync())
        {
            await Outbox.EnqueueAsync(conn, tx, new OutgoingEmail("verification", to, "Sujet", "texte", "<p>html</p>"));
            await tx.RollbackAsync();
        }

        Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM outbox WHERE to_address = @to", new { to }), Is.Zero);
    }

    [Test]
    public async Task Enqueue_SameDedupeKeyTwice_QueuesOneEmail()
    {
        var to = $"dedupe-{Guid.NewGuid():N}@example.org";
        var key = "test:" + to;
        var email = new OutgoingEmail("digest", to, "Votre sélection", "texte", "<p>html</p>", DedupeKey: key,
            Headers: new Dictionary<string, string> { ["List-Id"] = "<digest.opportunites.local>" });
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();

        var first = await Outbox.EnqueueAsync(conn, null, email);
        var second = await Outbox.EnqueueAsync(conn, null, email);

        Assert.That(first, Is.Not.Null);
        Assert.That(second, Is.Null);
        var row = await conn.QuerySingleAsync<(string Status, string MessageId, string Headers)>(
            "SELECT status, message_id, headers::text FROM outbox WHERE to_address = @to", new { to });
        Assert.That(row.Status, Is.EqualTo("queued"));
        Assert.That(row.MessageId, Does.StartWith("<").And.EndWith("@opportunites.local>"));
        Assert.That(row.Headers, Does.Contain("List-Id"));
    }
}
