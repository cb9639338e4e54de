using Dapper;
using Npgsql;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Data;

namespace Opportunites.Tests.Data;

public sealed class MigratorTests
{
    private string _cs = "";
    private NpgsqlDataSource _db = null!;

    [SetUp]
    public async Task CreateDatabaseAsync()
    {
        _cs = await TestDatabase.CreateEmptyAsync("opportunites_mig");
        _db = NpgsqlDataSource.Create(_cs);
    }

    [TearDown]
    public async Task DropDatabaseAsync()
    {
        await _db.DisposeAsync();
        await TestDatabase.DropAsync(_cs);
    }

    [Test]
    public async Task Migrate_EmptyDatabase_AppliesEveryScriptThenNothingOnRerun()
    {
        var files = Directory.GetFiles(Migrator.DefaultDirectory, "*.sql").Length;

        var first = await TestDatabase.MigrateAsync(_db);
        var second = await TestDatabase.MigrateAsync(_db);

        Assert.That(first, Is.EqualTo(files).And.GreaterThan(0));
        Assert.That(second, Is.Zero);
        await using var conn = await _db.OpenConnectionAsync();
        Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM schema_migrations"), Is.EqualTo(files));
        Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM territories WHERE level = 'departement'"), Is.EqualTo(109));
        Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM territories WHERE level = 'region'"), Is.EqualTo(26));
    }

    [Test]
    public async Task Migrate_AppliedScriptChanged_RefusesWithClearMessage()
    {
        var dir = Path.Combine(Path.GetTempPath(), "mig-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            foreach (var f in Directory.GetFiles(Migrator.DefaultDirectory, "*.sql"))
            {
                File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
            }

            await TestDatabase.MigrateAsync(_db, dir);
            var first = Directory.GetFiles(dir, "*.sql").Order(StringComparer.Ordinal).First();
            await File.AppendAllTextAsync(first, "\n-- modifié après coup\n");

            var ex = Assert.ThrowsAsync<MigrationChangedException>(() => TestDatabase.MigrateAsync(_db, dir));
            Assert.That(ex!.Message, Does.Contain(Path.GetFileName(first)).And.Contain("a changé"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Test]
    public async Task Migrate_TwoRunnersAtOnce_BothSucceedAndScriptsApplyOnce()
    {
        await using var other = NpgsqlDataSource.Create(_cs);

        var results = await Task.WhenAll(TestDatabase.MigrateAsync(_db), TestDatabase.MigrateAsync(other));

        var files = Directory.GetFiles(Migrator.DefaultDirectory, "*.sql").Length;
        Assert.That(results.Sum(), Is.EqualTo(files));
        await using var conn = await _db.OpenConnectionAsync();
        Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM schema_migrations"), Is.EqualTo(files));
    }
}
