using Dapper;
using Npgsql;

namespace Opportunites.Web.Subscriptions;

public sealed class ThemeOption
{
    public string Code { get; init; } = "";
    public string Label { get; init; } = "";
}

/// <summary>
/// Themes offered by the alert forms (a migration-only list, read once) and the names of chosen territories, which may
/// be any of the ~37,000 (commune, EPCI, département…): those are read for the codes at hand, never listed whole.
/// </summary>
public sealed class AlertCatalog(NpgsqlDataSource db)
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private IReadOnlyList<ThemeOption>? themes;

    private const string ThemesSql = "SELECT code, label FROM themes";

    public async Task<IReadOnlyList<ThemeOption>> GetThemesAsync(CancellationToken ct = default)
    {
        if (themes is { } cached)
        {
            return cached;
        }

        await gate.WaitAsync(ct);
        try
        {
            if (themes is null)
            {
                await using var conn = await db.OpenConnectionAsync(ct);
                // French order: "Égalité" among the E, not after Z as the database's C collation puts it.
                var french = StringComparer.Create(Shared.ParisTime.French, System.Globalization.CompareOptions.IgnoreCase | System.Globalization.CompareOptions.IgnoreNonSpace);
                themes = (await conn.QueryAsync<ThemeOption>(new CommandDefinition(ThemesSql, cancellationToken: ct)))
                    .OrderBy(t => t.Label, french).ToList();
            }

            return themes;
        }
        finally
        {
            gate.Release();
        }
    }

    private const string NamesSql = "SELECT code, name FROM territories WHERE code = ANY (@codes)";

    private async Task<Dictionary<string, string>> GetNamesAsync(IReadOnlyList<string> codes, CancellationToken ct)
    {
        if (codes.Count == 0)
        {
            return [];
        }

        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<(string Code, string Name)>(new CommandDefinition(NamesSql, new { codes = codes.ToArray() },
            cancellationToken: ct))).ToDictionary(r => r.Code, r => r.Name, StringComparer.Ordinal);
    }

    public async Task<string> TerritoryNamesAsync(IEnumerable<string> codes, CancellationToken ct = default)
    {
        var list = codes.ToList();
        var names = await GetNamesAsync(list, ct);
        return string.Join(", ", list.Select(c => names.GetValueOrDefault(c, c)));
    }

    public async Task<IReadOnlyList<string>> ValidateAsync(DigestPreferences prefs, CancellationToken ct = default)
    {
        var known = prefs.TerritoryCodes.Count is > 0 and <= 50
            ? (await GetNamesAsync(prefs.TerritoryCodes, ct)).Keys.ToHashSet(StringComparer.Ordinal)
            : [];
        var th = (await GetThemesAsync(ct)).Select(x => x.Code).ToHashSet(StringComparer.Ordinal);
        return prefs.Validate(known, th);
    }
}
