using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;
using Opportunites.Web.Board;
using Opportunites.Web.Territories;

namespace Opportunites.Bench;

/// <summary>One SQL statement the app sends, with its parameters.</summary>
internal sealed record Statement(string Sql, DynamicParameters Parameters);

/// <summary>What one GET of a board URL makes the app run: its filter and its statements, in order (the count last).</summary>
/// <param name="CountCapped">The search matches more than BoardQueries.CountCap offers: after its first view the app
/// remembers that for five minutes and runs the page statement alone (<see cref="SteadyStatements"/>).</param>
internal sealed record PageView(string Url, BoardFilter Filter, IReadOnlyList<Statement> Statements, bool CountCapped)
{
    /// <summary>What the app runs once it knows the count passes the cap: the page alone, planned for a broad search.</summary>
    public IReadOnlyList<Statement> SteadyStatements
    {
        get
        {
            if (!CountCapped)
            {
                return Statements;
            }

            var (sql, parameters) = BoardQueries.BuildPageQuery(Filter, BoardFilter.PageSize, broad: true);
            return [.. Statements.Take(Statements.Count - 2), new Statement(sql, parameters)];
        }
    }
}

/// <summary>
/// Turns a board URL into the statements the app runs for it, through the app's own classes: BoardFilterParser
/// (territories resolve from the tree in memory) and
/// BoardQueries.BuildSearchBatch (page and count, sent together). Themes and the territory list are cached by the app
/// after the first request, so they are not part of a page view.
/// </summary>
internal sealed partial class PageViews(NpgsqlDataSource db)
{
    private readonly ThemeCatalog _themes = new(db);

    public async Task<PageView> ForAsync(string url)
    {
        var mark = url.IndexOf('?', StringComparison.Ordinal);
        var input = BoardQueryInput.Parse(mark < 0 ? "" : url[mark..]);
        var parsed = await new BoardFilterParser(await TerritoryDirectory.LoadAsync(db), _themes).ParseAsync(input);
        if (!parsed.IsValid)
        {
            throw new InvalidOperationException($"URL refusée par le filtre : {url} ({string.Join(" ", parsed.Errors.Values.SelectMany(v => v))})");
        }

        // Territories resolve in memory (TerritoryTree): no statement of their own.
        var statements = new List<Statement>();
        var (batch, parameters) = BoardQueries.BuildSearchBatch(parsed.Filter);
        statements.AddRange(batch.Split(";\n").Select(sql => new Statement(sql, parameters)));
        await using var conn = await db.OpenConnectionAsync();
        var count = await conn.ExecuteScalarAsync<long>(statements[^1].Sql, statements[^1].Parameters);
        return new PageView(url, parsed.Filter, statements, count > BoardQueries.CountCap);
    }

    [GeneratedRegex(@"(?<![@\w])@([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex Placeholder();

    /// <summary>The statement with its parameters written as typed literals (for pgbench scripts and EXPLAIN).</summary>
    public static string Inline(Statement s) => Placeholder().Replace(s.Sql, m => Literal(s.Parameters.Get<object?>(m.Groups[1].Value)));

    private static string Literal(object? value) => value switch
    {
        null => "NULL",
        string text => Quote(text) + "::text",
        int i => i.ToString(CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture) + "::bigint",
        DateOnly d => Quote(d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)) + "::date",
        string[] items => "ARRAY[" + string.Join(", ", items.Select(Quote)) + "]::text[]",
        _ => throw new NotSupportedException($"Type de paramètre non prévu : {value.GetType()}"),
    };

    private static string Quote(string text)
    {
        var sb = new StringBuilder("'");
        sb.Append(text.Replace("'", "''", StringComparison.Ordinal));
        return sb.Append('\'').ToString();
    }
}
