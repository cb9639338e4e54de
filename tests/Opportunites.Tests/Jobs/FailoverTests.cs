using System.Diagnostics;
using Dapper;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Mail;

namespace Opportunites.Tests.Jobs;

/// <summary>
/// Two real app processes on one database; the node running a delivery is killed (SIGKILL) mid-message. The other
/// node takes the same Hangfire job over once its invisibility timeout (60 s, sliding) has passed: within 90 s, printed.
/// Slow (~1.5 min), so behind JOBS_FAILOVER_TEST=1 (./test.sh --resilience).
/// </summary>
public sealed class FailoverTests
{
    [Test]
    public async Task NodeKilledMidDelivery_OtherNodeRecoversTheRunAndTheEmailIsDelivered()
    {
        if (Environment.GetEnvironmentVariable("JOBS_FAILOVER_TEST") != "1" && Environment.GetEnvironmentVariable("FAULT_TESTS") != "1")
        {
            Assert.Ignore("Test lent : ./test.sh --resilience (ou JOBS_FAILOVER_TEST=1) pour l'exécuter.");
        }

        await using var db = await PrivateDatabase.CreateAsync();
        await using var smtp = await SmtpServer.StartAsync();
        smtp.SlowDown(TimeSpan.FromSeconds(30));
        var to = $"reprise-{Guid.NewGuid():N}@example.org";
        var nodes = new Dictionary<string, Process>
        {
            ["noeud-a"] = StartNode(db.ConnectionString, "noeud-a", smtp.Port),
            ["noeud-b"] = StartNode(db.ConnectionString, "noeud-b", smtp.Port),
        };
        try
        {
            // Both nodes listening (each has had a moment to start its Hangfire server and listener), the email is queued:
            // its commit asks for a delivery, taken by one node, which gets stuck in DATA (slow server): kill it there.
            var up = await WaitForAsync(db, "SELECT 'serveurs', now()::timestamp FROM hangfire.server HAVING count(*) = 2", TimeSpan.FromSeconds(60));
            Assert.That(up, Is.Not.Null, "both Hangfire servers started");
            long id;
            await using (var conn = await db.DataSource.OpenConnectionAsync())
            {
                id = (await Outbox.EnqueueAsync(conn, null, new OutgoingEmail("verification", to, "Reprise", "t", "<p>h</p>")))!.Value;
            }

            var running = await WaitForAsync(db,
                "SELECT node, scheduled_at FROM job_runs x WHERE job_name = 'deliver' AND outcome = 'running' AND " +
                ClusterTests.DeliveryLockHeld, TimeSpan.FromSeconds(60));
            Assert.That(running, Is.Not.Null, "no delivery started");
            // The server holds DATA for 30 s: the message is on the wire well within these two.
            await Task.Delay(2000);
            var (victim, scheduledAt) = ((string, DateTime))running!;
            nodes[victim].Kill();
            await nodes[victim].WaitForExitAsync();
            var killedAt = DateTime.UtcNow;
            smtp.SlowDown(TimeSpan.Zero);
            var survivor = nodes.Keys.Single(k => k != victim);

            // The same run (same Hangfire job, same ledger row), started again by the survivor.
            var resumed = await WaitForAsync(db,
                $"SELECT node, started_at FROM job_runs WHERE job_name = 'deliver' AND node = '{survivor}' AND scheduled_at = '{scheduledAt:O}'::timestamptz",
                TimeSpan.FromSeconds(120));
            var takeover = resumed is { } r ? r.At - killedAt : (TimeSpan?)null;
            TestContext.Out.WriteLine($"SIGKILL → reprise par {survivor} : {takeover?.TotalSeconds:0.0} s");
            var recovered = await WaitForAsync(db,
                $"SELECT node, scheduled_at FROM job_runs WHERE job_name = 'deliver' AND outcome = 'succeeded' AND scheduled_at = '{scheduledAt:O}'::timestamptz",
                TimeSpan.FromSeconds(60));
            var sent = await WaitForAsync(db, $"SELECT 'sent', now()::timestamp FROM outbox WHERE id = {id} AND status = 'sent'",
                TimeSpan.FromSeconds(60));

            Assert.That(resumed, Is.Not.Null, "the killed node's run was not taken over");
            Assert.That(takeover, Is.LessThan(TimeSpan.FromSeconds(90)), "takeover after SIGKILL");
            Assert.That(recovered, Is.Not.Null, "the killed node's run did not finish");
            Assert.That(recovered!.Value.Node, Is.EqualTo(survivor));
            Assert.That(sent, Is.Not.Null, "the email was never marked sent");
            // At least once: the killed node's transaction may also have reached the server before it died.
            Assert.That(smtp.GetMessages().Count(m => m.RcptTos.Contains(to)), Is.GreaterThanOrEqualTo(1));
        }
        finally
        {
            foreach (var p in nodes.Values.Where(p => !p.HasExited))
            {
                p.Kill();
                await p.WaitForExitAsync();
            }
        }
    }

    private static Process StartNode(string connectionString, string name, int smtpPort)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Opportunites.Web.dll"));
        psi.Environment["ConnectionStrings__Default"] = connectionString;
        psi.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        psi.Environment["Jobs__Enabled"] = "true";
        psi.Environment["Jobs__NodeName"] = name;
        // No sweep: the takeover alone can send the email (delivery starts when it is queued).
        psi.Environment["Jobs__Schedules__deliver"] = ClusterTests.Never;
        psi.Environment["Jobs__Schedules__expire"] = ClusterTests.Never;
        psi.Environment["Jobs__Schedules__purge"] = ClusterTests.Never;
        psi.Environment["Smtp__Host"] = "127.0.0.1";
        psi.Environment["Smtp__Port"] = smtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        psi.Environment["Smtp__TimeoutSeconds"] = "60";
        psi.Environment["Mail__Connections"] = "1";
        var process = Process.Start(psi)!;
        // Drain the output so the child never blocks on a full pipe.
        var log = Environment.GetEnvironmentVariable("JOBS_FAILOVER_LOG") is { Length: > 0 } dir ? Path.Combine(dir, name + ".log") : null;
        process.OutputDataReceived += (_, e) => { if (log is not null && e.Data is not null) { File.AppendAllText(log, e.Data + "\n"); } };
        process.ErrorDataReceived += (_, e) => { if (log is not null && e.Data is not null) { File.AppendAllText(log, e.Data + "\n"); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<(string Node, DateTime At)?> WaitForAsync(PrivateDatabase db, string sql, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            await using var conn = await db.DataSource.OpenConnectionAsync();
            var row = await conn.QueryFirstOrDefaultAsync<(string, DateTime)?>(sql);
            if (row is not null)
            {
                return row;
            }

            await Task.Delay(200);
        }

        return null;
    }
}
