using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;

namespace Opportunites.Web.Data;

/// <summary>
/// Applies the forward-only scripts of db/migrations in file-name order, each in its own transaction,
/// and records them in schema_migrations with a SHA-256 checksum. Production, the `migrate` verb and the
/// tests all go through here.
/// </summary>
public sealed partial class Migrator(NpgsqlDataSource db, ILogger<Migrator> log)
{
    // Any constant shared by every node: two processes starting at once queue on it instead of racing.
    private const long AdvisoryLockKey = 0x4F50_504F_5254;

    public static string DefaultDirectory => Path.Combine(AppContext.BaseDirectory, "db", "migrations");

    [GeneratedRegex(@"^(\d{4})_[a-z0-9_]+\.sql$")]
    private static partial Regex FileName();

    private const string CreateLedgerSql = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
          version    text PRIMARY KEY,
          name       text NOT NULL,
          checksum   text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )
        """;

    private const string AppliedSql = "SELECT version, checksum FROM schema_migrations";

    private const string RecordSql = "INSERT INTO schema_migrations (version, name, checksum) VALUES (@version, @name, @checksum)";

    /// <returns>The number of scripts applied by this call.</returns>
    public async Task<int> MigrateAsync(string? directory = null, CancellationToken ct = default)
    {
        var files = ReadScripts(directory ?? DefaultDirectory);
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_lock(@key)", new { key = AdvisoryLockKey }, cancellationToken: ct));
        try
        {
            await conn.ExecuteAsync(new CommandDefinition(CreateLedgerSql, cancellationToken: ct));
            var applied = (await conn.QueryAsync<(string Version, string Checksum)>(new CommandDefinition(AppliedSql, cancellationToken: ct)))
                .ToDictionary(r => r.Version, r => r.Checksum);

            var count = 0;
            foreach (var script in files)
            {
                if (applied.TryGetValue(script.Version, out var checksum))
                {
                    if (checksum != script.Checksum)
                    {
                        throw new MigrationChangedException(
                            $"La migration {script.Name} a déjà été appliquée mais son contenu a changé " +
                            $"(somme {checksum[..12]}… en base, {script.Checksum[..12]}… sur disque). " +
                            "Les migrations sont définitives : rétablissez le fichier et ajoutez une nouvelle migration numérotée.");
                    }

                    continue;
                }

                var started = TimeProvider.System.GetTimestamp();
                await using var tx = await conn.BeginTransactionAsync(ct);
                await conn.ExecuteAsync(new CommandDefinition(script.Sql, transaction: tx, cancellationToken: ct, commandTimeout: 0));
                await conn.ExecuteAsync(new CommandDefinition(RecordSql,
                    new { version = script.Version, name = script.Name, checksum = script.Checksum }, tx, cancellationToken: ct));
                await tx.CommitAsync(ct);
                count++;
                log.LogInformation("Migration {Name} appliquée en {Ms} ms", script.Name,
                    (int)TimeProvider.System.GetElapsedTime(started).TotalMilliseconds);
            }

            // New tables or types may have appeared: let Npgsql see them on the next open.
            if (count > 0)
            {
                await conn.ReloadTypesAsync(ct);
            }

            return count;
        }
        finally
        {
            await conn.ExecuteAsync("SELECT pg_advisory_unlock(@key)", new { key = AdvisoryLockKey });
        }
    }

    private static List<Script> ReadScripts(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"Dossier des migrations introuvable : {directory}");
        }

        var scripts = new List<Script>();
        foreach (var path in Directory.GetFiles(directory, "*.sql").Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            var match = FileName().Match(name);
            if (!match.Success)
            {
                throw new InvalidOperationException($"Nom de migration invalide : {name} (attendu : 0001_description.sql)");
            }

            var bytes = File.ReadAllBytes(path);
            var sql = System.Text.Encoding.UTF8.GetString(bytes).ReplaceLineEndings("\n");
            var checksum = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(sql)));
            scripts.Add(new Script(match.Groups[1].Value, name, sql, checksum));
        }

        var duplicate = scripts.GroupBy(s => s.Version).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"Deux migrations portent le numéro {duplicate.Key}.");
        }

        return scripts;
    }

    private sealed record Script(string Version, string Name, string Sql, string Checksum);
}

public sealed class MigrationChangedException(string message) : Exception(message);
