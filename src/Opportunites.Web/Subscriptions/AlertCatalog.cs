using Dapper;
using Npgsql;

namespace Opportunites.Web.Subscriptions;

public sealed class TerritoryOption
{
    public string Code { get; init; } = "";
    public string Name { get; init; } = "";
    public string Level { get; init; } = "";
    public string? ParentCode { get; init; }
}

public sealed class ThemeOption
{
    public string Code { get; init; } = "";
    public string Label { get; init; } = "";
}

/// <summary>Territories and themes offered by the alert forms; they only change with a migration, so read once.</summary>
public sealed class AlertCatalog(NpgsqlDataSource db)
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private IReadOnlyList<TerritoryOption>? territories;
    private IReadOnlyList<ThemeOption>? themes;

    private const string TerritoriesSql = """
        SELECT code, name, level, parent_code FROM territories
        WHERE level IN ('pays', 'region', 'departement')
        ORDER BY array_length(lineage, 1), name
        """;

    private const string ThemesSql = "SELECT code, label FROM themes";

    public async Task<IReadOnlyList<TerritoryOption>> GetTerritoriesAsync(CancellationToken ct = default)
    {
        await LoadAsync(ct);
        return territories!;
    }

    public async Task<IReadOnlyList<ThemeOption>> GetThemesAsync(CancellationToken ct = default)
    {
        await LoadAsync(ct);
        return themes!;
    }

    public async Task<string> TerritoryNamesAsync(IEnumerable<string> codes, CancellationToken ct = default)
    {
        var all = (await GetTerritoriesAsync(ct)).ToDictionary(t => t.Code, t => t.Name);
        return string.Join(", ", codes.Select(c => all.GetValueOrDefault(c, c)));
    }

    public async Task<IReadOnlyList<string>> ValidateAsync(DigestPreferences prefs, CancellationToken ct = default)
    {
        var t = (await GetTerritoriesAsync(ct)).Select(x => x.Code).ToHashSet(StringComparer.Ordinal);
        var th = (await GetThemesAsync(ct)).Select(x => x.Code).ToHashSet(StringComparer.Ordinal);
        return prefs.Validate(t, th);
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        if (territories is not null && themes is not null)
        {
            return;
        }

        await gate.WaitAsync(ct);
        try
        {
            if (territories is null || themes is null)
            {
                await using var conn = await db.OpenConnectionAsync(ct);
                // French order: "Égalité" among the E, not after Z as the database's C collation puts it.
                var french = StringComparer.Create(Shared.ParisTime.French, System.Globalization.CompareOptions.IgnoreCase | System.Globalization.CompareOptions.IgnoreNonSpace);
                themes = (await conn.QueryAsync<ThemeOption>(new CommandDefinition(ThemesSql, cancellationToken: ct)))
                    .OrderBy(t => t.Label, french).ToList();
                territories = (await conn.QueryAsync<TerritoryOption>(new CommandDefinition(TerritoriesSql, cancellationToken: ct))).AsList();
            }
        }
        finally
        {
            gate.Release();
        }
    }
}
