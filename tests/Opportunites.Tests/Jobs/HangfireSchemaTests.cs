using System.Globalization;
using System.Text;
using Dapper;
using Opportunites.Web.Data;

namespace Opportunites.Tests.Jobs;

public sealed class HangfireSchemaTests
{
    [Test]
    public async Task Migration0070_EqualsInstallScriptsEmbeddedInHangfirePostgreSql()
    {
        var assembly = typeof(Hangfire.PostgreSql.PostgreSqlStorage).Assembly;
        var versions = assembly.GetManifestResourceNames()
            .Select(n => System.Text.RegularExpressions.Regex.Match(n, @"^Hangfire\.PostgreSql\.Scripts\.Install\.v(\d+)\.sql$"))
            .Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))
            .Order()
            .ToList();
        var expected = new StringBuilder();
        foreach (var v in versions)
        {
            await using var stream = assembly.GetManifestResourceStream($"Hangfire.PostgreSql.Scripts.Install.v{v}.sql")!;
            using var reader = new StreamReader(stream);
            var script = (await reader.ReadToEndAsync()).TrimStart('\uFEFF').Replace("\r", "", StringComparison.Ordinal);
            expected.Append(CultureInfo.InvariantCulture, $"\n-- ==== Install.v{v}.sql ====\n{script}\nUPDATE \"hangfire\".\"schema\" SET \"version\" = {v};\n");
        }

        var migration = (await File.ReadAllTextAsync(Path.Combine(Migrator.DefaultDirectory, "0070_hangfire_schema.sql"))).ReplaceLineEndings("\n");

        // Our file is the package's scripts, in order, each with its version bump, after a few comment lines of our own:
        // a package upgrade that adds a script fails here until a new migration adds it.
        Assert.That(versions, Is.EqualTo(Enumerable.Range(3, 21)), "scripts v3 to v23 in Hangfire.PostgreSql 1.21.1");
        Assert.That(migration, Does.EndWith(expected.ToString()));
        var header = migration[..^expected.Length];
        Assert.That(header.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.All.StartsWith("--"));
    }

    [Test]
    public async Task Migrate_SharedDatabase_HasHangfireSchemaAtLatestVersionAndNoQuartzTable()
    {
        await using var conn = await SharedDatabase.DataSource.OpenConnectionAsync();
        var tables = (await conn.QueryAsync<string>(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'hangfire' ORDER BY 1")).ToList();
        var version = await conn.ExecuteScalarAsync<int>("SELECT max(version) FROM hangfire.schema");
        var quartz = await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'qrtz\\_%'");

        Assert.That(tables, Is.SupersetOf(new[] { "job", "jobqueue", "state", "hash", "set", "lock", "server", "counter", "jobparameter" }));
        Assert.That(version, Is.EqualTo(23));
        Assert.That(quartz, Is.Zero, "migration 0071 drops Quartz's tables");
    }
}
