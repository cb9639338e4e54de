using System.Globalization;
using Dapper;
using Npgsql;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Board;

public sealed class Territory
{
    public string Code { get; init; } = "";
    public string InseeCode { get; init; } = "";
    public string Name { get; init; } = "";
    public string Level { get; init; } = "";

    /// <summary>Ancestors and self, root first (<see cref="TerritoryInfo.Lineage"/>).</summary>
    public string[] Lineage { get; init; } = [];

    public string[] PostalCodes { get; init; } = [];
    public string? DepartementCode { get; init; }
    public string? DepartementName { get; init; }
    public string? RegionCode { get; init; }
    public string? RegionName { get; init; }

    /// <summary>What the territory field shows and accepts back: "Gironde (33)", "Bègles (33)", "Nouvelle-Aquitaine (région)".</summary>
    public string Label { get; init; } = "";

    /// <summary>"en Gironde", "à Bègles" (<see cref="TerritoryInfo.In"/>).</summary>
    public string In { get; init; } = "";

    public string LevelLabel => Level switch
    {
        "pays" => "Pays",
        "region" => "Région",
        "departement" => "Département",
        "epci" => "Intercommunalité",
        "commune" => "Commune",
        _ => Level,
    };

    internal static Territory From(TerritoryInfo t, TerritoryTree tree) => new()
    {
        Code = t.Code,
        InseeCode = t.InseeCode,
        Name = t.Name,
        Level = t.Level,
        Lineage = t.Lineage,
        PostalCodes = t.PostalCodes,
        DepartementCode = t.DepartementCode,
        DepartementName = tree.Get(t.DepartementCode)?.Name,
        RegionCode = t.RegionCode,
        RegionName = tree.Get(t.RegionCode)?.Name,
        Label = t.Label,
        In = t.In,
    };
}

public sealed class Theme
{
    public string Code { get; init; } = "";
    public string Label { get; init; } = "";
}

/// <summary>
/// Finds territories by name (case-, accent- and hyphen-insensitive, "st" for "saint"), code, INSEE code, postal code
/// or SIREN, for filters and autocomplete: answered from the <see cref="TerritoryTree"/> in memory, no query.
/// </summary>
public sealed class TerritoryDirectory(NpgsqlDataSource db)
{
    /// <summary>The tree of every territory (read once per process).</summary>
    public Task<TerritoryTree> GetTreeAsync() => TerritoryTree.LoadAsync(db);

    /// <summary>The territory meant by a code, a name or a "Name (code)" label; null when none. For homonyms, the
    /// larger then the more populous: <see cref="ResolveCandidatesAsync"/> gives them all.</summary>
    public async Task<Territory?> ResolveAsync(string text, CancellationToken ct = default)
    {
        var tree = await GetTreeAsync();
        return tree.Resolve(text) is { } t ? Territory.From(t, tree) : null;
    }

    /// <summary>Every territory an entry may designate (homonyms "Saint-Denis", a postal code shared by several
    /// communes), best first; empty when none. One: the entry is not ambiguous.</summary>
    public async Task<IReadOnlyList<Territory>> ResolveCandidatesAsync(string text, CancellationToken ct = default)
    {
        var tree = await GetTreeAsync();
        return [.. tree.ResolveCandidates(text).Select(t => Territory.From(t, tree))];
    }

    /// <summary>Autocomplete: best matches for what the user typed so far.</summary>
    public async Task<IReadOnlyList<Territory>> SearchAsync(string text, int limit = 10, CancellationToken ct = default)
    {
        var tree = await GetTreeAsync();
        return [.. tree.Search(text, limit).Select(t => Territory.From(t, tree))];
    }

    private IReadOnlyList<Territory>? _main;

    /// <summary>The territory of the main list whose code is <paramref name="text"/> (any case); null when none.</summary>
    internal static Territory? FindMainCode(IReadOnlyList<Territory> main, string text) =>
        main.FirstOrDefault(t => string.Equals(t.Code, text.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>France, régions and départements: the list offered without JavaScript.</summary>
    public async Task<IReadOnlyList<Territory>> GetMainAsync(CancellationToken ct = default)
    {
        if (_main is { } cached)
        {
            return cached;
        }

        var tree = await GetTreeAsync();
        var comparer = StringComparer.Create(Shared.ParisTime.French, CompareOptions.IgnoreCase | CompareOptions.IgnoreNonSpace);
        _main = [.. tree.All.Where(t => t.LevelRank <= 2).OrderBy(t => t.LevelRank).ThenBy(t => t.Name, comparer).Select(t => Territory.From(t, tree))];
        return _main;
    }
}

/// <summary>The themes (a small fixed list from migrations, kept in memory).</summary>
public sealed class ThemeCatalog(NpgsqlDataSource db)
{
    private const string AllSql = "SELECT code, label FROM themes ORDER BY label";

    private IReadOnlyList<Theme>? _all;

    public async Task<IReadOnlyList<Theme>> GetAllAsync(CancellationToken ct = default)
    {
        if (_all is { } cached)
        {
            return cached;
        }

        await using var conn = await db.OpenConnectionAsync(ct);
        // French order: "Économie" among the E, not after Z as the database's C collation would put it.
        var comparer = StringComparer.Create(Shared.ParisTime.French, CompareOptions.IgnoreCase | CompareOptions.IgnoreNonSpace);
        var rows = (await conn.QueryAsync<Theme>(new CommandDefinition(AllSql, cancellationToken: ct)))
            .OrderBy(t => t.Label, comparer).ToList();
        _all = rows;
        return rows;
    }
}
