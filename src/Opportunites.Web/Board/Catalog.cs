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
