using System.Text;
using System.Text.Json;
using Microsoft.Playwright;

namespace Opportunites.Tests.Browser;

/// <summary>Runs axe-core (installed into var/axe by tools/provision.sh test) in a page and reports its violations.</summary>
public static class Axe
{
    /// <summary>RGAA follows WCAG 2.1 AA: these are the impacts that block a user, so they fail a test.</summary>
    public static readonly string[] BlockingImpacts = ["serious", "critical"];

    private static readonly Lazy<string> ScriptPath = new(FindScript);

    // Returns plain data: axe's result objects hold DOM nodes that cannot cross to .NET.
    private const string RunScript = """
        async () => {
          const results = await axe.run(document, { resultTypes: ['violations'] });
          return results.violations.map(v => ({
            id: v.id,
            impact: v.impact || '',
            help: v.help,
            helpUrl: v.helpUrl,
            nodes: v.nodes.map(n => ({ target: n.target.join(' '), summary: n.failureSummary || '' })),
          }));
        }
        """;

    public static async Task<IReadOnlyList<AxeViolation>> RunAsync(IPage page)
    {
        if (!await page.EvaluateAsync<bool>("() => typeof window.axe !== 'undefined'"))
        {
            await page.AddScriptTagAsync(new() { Path = ScriptPath.Value });
        }

        var json = await page.EvaluateAsync<JsonElement>(RunScript);
        return json.Deserialize<List<AxeViolation>>(new JsonSerializerOptions(JsonSerializerDefaults.Web)) ?? [];
    }

    public static string Report(string pageName, IEnumerable<AxeViolation> violations)
    {
        var report = new StringBuilder($"axe-core: violations on {pageName}\n");
        foreach (var v in violations)
        {
            report.AppendLine($"- {v.Id} [{v.Impact}] {v.Help} ({v.HelpUrl})");
            foreach (var node in v.Nodes)
            {
                report.AppendLine($"    at {node.Target}");
                foreach (var line in node.Summary.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    report.AppendLine($"       {line.Trim()}");
                }
            }
        }

        return report.ToString();
    }

    private static string FindScript()
    {
        var path = Environment.GetEnvironmentVariable("AXE_CORE_SCRIPT") is { Length: > 0 } configured
            ? configured
            : Path.Combine(RepositoryRoot.Path, "var", "axe", "node_modules", "axe-core", "axe.min.js");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"axe-core is missing ({path}): run tools/provision.sh test (./test.sh does it).", path);
        }

        return path;
    }
}

public sealed class AxeViolation
{
    public string Id { get; init; } = "";
    public string Impact { get; init; } = "";
    public string Help { get; init; } = "";
    public string HelpUrl { get; init; } = "";
    public List<AxeNode> Nodes { get; init; } = [];
}

public sealed class AxeNode
{
    public string Target { get; init; } = "";
    public string Summary { get; init; } = "";
}
