using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Jobs;
using Opportunites.Web.Mail;

namespace Opportunites.Tests.Jobs;

/// <summary>Mail leaves when the transaction that queued it commits, not at the next sweep.</summary>
public sealed class DeliveryOnCommitTests
{
    [Test]
    public async Task EnqueueAsync_TransactionCommitted_EmailReachesSmtpServerWithinTwoSeconds()
    {
        await using var db = await PrivateDatabase.CreateAsync();
        await using var smtp = await SmtpServer.StartAsync();
        using var host = BuildNode(db.ConnectionString, smtp);
        await host.StartAsync();
        try
        {
            // A first email warms the node up (connections, JIT), as a node that has been up for a while is.
            var warm = $"chauffe-{Guid.NewGuid():N}@example.org";
            await QueueAsync(db, warm);
            await smtp.WaitForAsync(m => m.Any(x => x.RcptTos.Contains(warm)), TimeSpan.FromSeconds(30));

            var to = $"confirmation-{Guid.NewGuid():N}@example.org";
            var watch = Stopwatch.StartNew();
            TestContext.Out.WriteLine($"commit at {DateTime.UtcNow:HH:mm:ss.fff}");
            await QueueAsync(db, to);
            await smtp.WaitForAsync(m => m.Any(x => x.RcptTos.Contains(to)), TimeSpan.FromSeconds(10));
            watch.Stop();
            TestContext.Out.WriteLine($"commit → SMTP server: {watch.ElapsedMilliseconds} ms");
            await using (var c = await db.DataSource.OpenConnectionAsync())
            {
                foreach (var r in await c.QueryAsync<(DateTime S, DateTime Started, int? Ms, string Kind)>(
                    "SELECT scheduled_at, started_at, duration_ms, trigger_kind FROM job_runs ORDER BY id"))
                {
                    TestContext.Out.WriteLine($"run {r.Kind} asked {r.S:HH:mm:ss.fff} started {r.Started:HH:mm:ss.fff} {r.Ms} ms");
                }
            }

            Assert.That(smtp.MessagesTo(to), Has.Count.EqualTo(1));
            Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)));
            await using var conn = await db.DataSource.OpenConnectionAsync();
            Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM job_runs WHERE job_name = 'deliver' AND trigger_kind = 'event'"),
                Is.GreaterThanOrEqualTo(1), "delivery asked for by the commit, recorded as such");
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Test]
    public async Task OutboxInsert_RolledBackThenCommitted_NotifiesOnlyAtCommit()
    {
        await using var db = await PrivateDatabase.CreateAsync();
        await using var listener = await db.DataSource.OpenConnectionAsync();
        var received = 0;
        listener.Notification += (_, e) => { if (e.Channel == MailQueuedListener.Channel) { Interlocked.Increment(ref received); } };
        await listener.ExecuteAsync($"LISTEN {MailQueuedListener.Channel}");

        await using var conn = await db.DataSource.OpenConnectionAsync();
        await using (var tx = await conn.BeginTransactionAsync())
        {
            await Outbox.EnqueueAsync(conn, tx, new OutgoingEmail("verification", "annule@example.org", "S", "t", "<p>h</p>"));
            await tx.RollbackAsync();
        }

        await listener.WaitAsync(TimeSpan.FromMilliseconds(500));
        var afterRollback = received;
        await using (var tx = await conn.BeginTransactionAsync())
        {
            await Outbox.EnqueueAsync(conn, tx, new OutgoingEmail("verification", "un@example.org", "S", "t", "<p>h</p>"));
            await Outbox.EnqueueAsync(conn, tx, new OutgoingEmail("verification", "deux@example.org", "S", "t", "<p>h</p>"));
            await listener.WaitAsync(TimeSpan.FromMilliseconds(300));
            Assert.That(received, Is.Zero, "nothing before the commit");
            await tx.CommitAsync();
        }

        await listener.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.That(afterRollback, Is.Zero);
        Assert.That(received, Is.EqualTo(1), "one notification per transaction, however many emails it queued");
    }

    private static async Task QueueAsync(PrivateDatabase db, string to)
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await Outbox.EnqueueAsync(conn, tx, new OutgoingEmail("verification", to, "Confirmez votre adresse", "t", "<p>h</p>"));
        await tx.CommitAsync();
    }

    private static IHost BuildNode(string connectionString, SmtpServer smtp)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Default"] = connectionString,
            // No sweep: only the commit can have sent it.
            ["Jobs:Schedules:deliver"] = ClusterTests.Never,
            ["Jobs:Schedules:purge"] = ClusterTests.Never,
            ["Smtp:Host"] = smtp.Host,
            ["Smtp:Port"] = smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
        builder.AddJobs();
        builder.AddMail();
        return builder.Build();
    }
}
