using System.Diagnostics;
using Dapper;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Mail;

namespace Opportunites.Tests.Jobs;

/// <summary>
/// Two real app processes on one database; the node running a delivery is killed (SIGKILL) mid-message. Slow (~30 s),
/// so behind JOBS_FAILOVER_TEST=1.
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
        long id;
        await using (var conn = await db.DataSource.OpenConnectionAsync())
        {
            id = (await Outbox.EnqueueAsync(conn, null, new OutgoingEmail("verification", to, "Reprise", "t", "<p>h</p>")))!.Value;
        }

        var nodes = new Dictionary<string, Process>
        {
            ["noeud-a"] = StartNode(db.ConnectionString, "noeud-a", smtp.Port),
            ["noeud-b"] = StartNode(db.ConnectionString, "noeud-b", smtp.Port),
        };
        try
        {
            // The node that took the delivery is stuck in DATA (slow server): kill it there.
            var running = await WaitForAsync(db, "SELECT node, scheduled_at FROM job_runs WHERE job_name = 'deliver' AND outcome = 'running'",
                TimeSpan.FromSeconds(60));
            Assert.That(running, Is.Not.Null, "no delivery started");
            var (victim, scheduledAt) = ((string, DateTime))running!;
            nodes[victim].Kill();
            await nodes[victim].WaitForExitAsync();
            smtp.SlowDown(TimeSpan.Zero);
            var survivor = nodes.Keys.Single(k => k != victim);

            var recovered = await WaitForAsync(db,
                $"SELECT node, scheduled_at FROM job_runs WHERE job_name = 'deliver' AND outcome = 'succeeded' AND scheduled_at = '{scheduledAt:O}'::timestamptz",
                TimeSpan.FromSeconds(60));
            var sent = await WaitForAsync(db, $"SELECT 'sent', now()::timestamp FROM outbox WHERE id = {id} AND status = 'sent'",
                TimeSpan.FromSeconds(60));

            Assert.That(recovered, Is.Not.Null, "the killed node's run was not recovered");
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
        psi.Environment["Jobs__CheckinIntervalSeconds"] = "1";
        psi.Environment["Jobs__Schedules__deliver"] = "0/2 * * * * ?";
        psi.Environment["Jobs__Schedules__expire"] = "0 0 0 31 2 ?";
        psi.Environment["Smtp__Host"] = "127.0.0.1";
        psi.Environment["Smtp__Port"] = smtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        psi.Environment["Smtp__TimeoutSeconds"] = "60";
        psi.Environment["Mail__ClaimLeaseSeconds"] = "5";
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
