using Dapper;
using Opportunites.Web.Data;

namespace Opportunites.Tests.Jobs;

public sealed class QuartzSchemaTests
{
    private const string ResourceName = "Quartz.Impl.AdoJobStore.Schema.create_postgres.sql";

    [Test]
    public async Task Migration0020_EqualsScriptEmbeddedInQuartzPackage()
    {
        await using var stream = typeof(Quartz.IJob).Assembly.GetManifestResourceStream(ResourceName);
        Assert.That(stream, Is.Not.Null, $"ressource {ResourceName} absente de Quartz.dll");
        using var reader = new StreamReader(stream!);
        var embedded = (await reader.ReadToEndAsync()).Replace("{0}", "qrtz_").Replace("{1}", "qrtz_").ReplaceLineEndings("\n");
        var migration = (await File.ReadAllTextAsync(Path.Combine(Migrator.DefaultDirectory, "0020_quartz_schema.sql"))).ReplaceLineEndings("\n");

        // Our file is the package's script after a few comment lines of our own, nothing else.
        Assert.That(migration, Does.EndWith(embedded));
        var header = migration[..^embedded.Length];
        Assert.That(header.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.All.StartsWith("--"));
    }

    [Test]
    public async Task Migrate_SharedDatabase_HasEveryQuartzTable()
    {
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        var tables = (await conn.QueryAsync<string>(
            "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'qrtz\\_%' ORDER BY 1")).ToList();

        Assert.That(tables, Is.SupersetOf(new[]
        {
            "qrtz_job_details", "qrtz_triggers", "qrtz_cron_triggers", "qrtz_fired_triggers", "qrtz_scheduler_state",
            "qrtz_locks", "qrtz_execution_history",
        }));
    }
}
