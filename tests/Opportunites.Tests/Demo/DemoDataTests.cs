using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Demo;

namespace Opportunites.Tests.Demo;

public sealed class DemoDataTests
{
    private static string N51Path => Path.Combine(DemoData.DefaultDirectory, "opportunites-n51.csv");

    [Test]
    public void ReadNewsletterCsv_N51_ParsesEveryLineWithAccentsIntact()
    {
        var rows = DemoData.ReadNewsletterCsv(N51Path);

        var dataLines = File.ReadAllLines(N51Path).Skip(1).Count(l => l.Length > 0);
        Assert.That(rows, Has.Count.EqualTo(dataLines).And.Count.EqualTo(13));
        Assert.That(rows.Count(r => r.Kind == "aap"), Is.EqualTo(7));
        Assert.That(rows.Count(r => r.Kind == "emploi"), Is.EqualTo(6));
        Assert.That(rows.Select(r => r.Title), Does.Contain("Réfèrent insertion"));
        Assert.That(rows.Select(r => r.Title), Does.Contain("FDVA \"fonctionnement-innovation\" 2025"));
        Assert.That(rows.Select(r => r.Issuer), Does.Contain("Ministère des sports, de la jeunesse et de la vie associative"));
        var deuxSevres = rows.Single(r => r.TerritoryCode == "79");
        Assert.That(deuxSevres.TerritoryName, Is.EqualTo("Deux-Sèvres"));
        Assert.That(deuxSevres.Deadline, Is.EqualTo(new DateOnly(2025, 6, 30)));
    }

    [Test]
    public async Task LoadIfEmpty_EmptyDatabase_LoadsN51OpenTodayAndSomeArchive_OnceOnly()
    {
        var cs = await TestDatabase.CreateEmptyAsync("opportunites_demo");
        try
        {
            await using var db = NpgsqlDataSource.Create(cs);
            await TestDatabase.MigrateAsync(db);
            var demo = new DemoData(db, TimeProvider.System, NullLogger<DemoData>.Instance);

            var loaded = await demo.LoadIfEmptyAsync();
            var again = await demo.LoadIfEmptyAsync();

            Assert.That(loaded, Is.GreaterThan(300));
            Assert.That(again, Is.Zero);
            await using var conn = await db.OpenConnectionAsync();
            var n51Open = await conn.ExecuteScalarAsync<int>(
                "SELECT count(*) FROM opportunities WHERE title = 'Réfèrent insertion' AND status = 'published' AND closes_at > now()");
            Assert.That(n51Open, Is.EqualTo(1));
            Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM opportunities WHERE status = 'expired'"), Is.GreaterThan(0));
            Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(DISTINCT kind) FROM opportunities"), Is.EqualTo(3));
            Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(DISTINCT c) FROM opportunities, unnest(territory_codes) c"), Is.GreaterThan(15));

            // Amounts written the French way ("68 000 €"), whatever the culture of the process that loads them.
            Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM opportunities WHERE description ~ '[0-9],[0-9]{3} €'"), Is.Zero);
            Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM opportunities WHERE description ~ '[0-9]\u202F[0-9]{3} €'"), Is.GreaterThan(0));

            // Coherent: every organisation has a home, and its offers (and their places of work) lie within it.
            Assert.That(await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM issuers WHERE home_territory_code IS NULL"), Is.Zero);
            Assert.That(await conn.ExecuteScalarAsync<int>("""
                SELECT count(*) FROM opportunities o JOIN issuers i ON i.id = o.issuer_id
                WHERE EXISTS (SELECT 1 FROM unnest(o.territory_codes || o.work_territory_code) c JOIN territories t ON t.code = c
                              WHERE NOT i.home_territory_code = ANY (t.lineage))
                """), Is.Zero);
            // Commune- and intercommunality-level offers in Nouvelle-Aquitaine, as in the real newsletter; jobs with a place of work.
            var levels = (await conn.QueryAsync<string>("""
                SELECT DISTINCT t.level FROM opportunities o, unnest(o.territory_codes) c JOIN territories t ON t.code = c
                WHERE 'R75' = ANY (t.lineage)
                """)).ToList();
            Assert.That(levels, Does.Contain("commune").And.Contain("epci"));
            Assert.That(await conn.ExecuteScalarAsync<int>("""
                SELECT count(*) FROM opportunities o JOIN issuers i ON i.id = o.issuer_id
                WHERE i.name = 'Ville de Bègles' AND o.territory_codes = '{C33039}'
                """), Is.GreaterThan(0));
            Assert.That(await conn.ExecuteScalarAsync<string>("""
                SELECT o.territory_codes[1] FROM opportunities o WHERE o.title = 'Chargé(e) de mission Emploi - Entreprises'
                """), Is.EqualTo("E248719312"));
            Assert.That(await conn.ExecuteScalarAsync<int>(
                "SELECT count(*) FROM opportunities WHERE kind = 'emploi' AND work_territory_code IS NOT NULL"), Is.GreaterThan(10));
            // A generated job names its town ("… - Strasbourg"): it is for that town, not for the whole of France.
            Assert.That(await conn.ExecuteScalarAsync<int>(
                "SELECT count(*) FROM opportunities WHERE kind = 'emploi' AND title ~ ' - ' AND territory_codes = '{FR}'"), Is.Zero);
        }
        finally
        {
            await TestDatabase.DropAsync(cs);
        }
    }
}
