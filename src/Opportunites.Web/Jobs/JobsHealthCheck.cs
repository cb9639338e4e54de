using System.Text.Json;
using Hangfire;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Opportunites.Web.Jobs;

/// <summary>
/// /healthz: the Hangfire servers alive in the cluster (their heartbeat), whether this node runs one, and whether every
/// job's last run succeeded. The outbox backlog is the "outbox" check beside it.
/// </summary>
internal sealed class JobsHealthCheck(JobStorage storage, IOptions<JobsSettings> settings, JobsQueries queries) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        var servers = storage.GetMonitoringApi().Servers();
        var here = settings.Value.Node;
        var last = await queries.GetLastRunsAsync(ct);
        var data = new Dictionary<string, object>
        {
            ["serveurs_hangfire"] = servers.Count,
            ["noms_serveurs"] = string.Join(", ", servers.Select(s => s.Name).Order(StringComparer.Ordinal)),
            ["serveur_local"] = settings.Value.Enabled,
        };
        foreach (var run in last)
        {
            data[$"{run.JobName}_dernier"] = $"{run.Outcome} {run.StartedAt:O}";
        }

        var failed = last.Where(r => r.Outcome == "failed").Select(r => r.JobName).ToList();
        // Never Unhealthy: a node that serves pages stays in the load balancer while jobs are down; Degraded says it.
        if (servers.Count == 0)
        {
            return settings.Value.Enabled
                ? HealthCheckResult.Degraded("aucun serveur Hangfire actif : aucune tâche ne tourne", data: data)
                : HealthCheckResult.Healthy("ce nœud ne lance pas de tâches ; aucun serveur Hangfire actif ailleurs", data);
        }

        if (settings.Value.Enabled && !servers.Any(s => s.Name.StartsWith(here, StringComparison.OrdinalIgnoreCase)))
        {
            return HealthCheckResult.Degraded($"le serveur Hangfire de ce nœud ({here}) ne s'est pas encore signalé", data: data);
        }

        return failed.Count > 0
            ? HealthCheckResult.Degraded($"dernière exécution en échec : {string.Join(", ", failed)}", data: data)
            : HealthCheckResult.Healthy($"{servers.Count} serveur(s) Hangfire actif(s)", data);
    }

    /// <summary>
    /// /healthz body: the bare status ("Healthy"), as load balancers and the existing probes expect; with
    /// <c>?details</c> or <c>Accept: application/json</c>, each check's status, description and figures as JSON.
    /// </summary>
    public static Task WriteResponseAsync(HttpContext http, HealthReport report)
    {
        var details = http.Request.Query.ContainsKey("details") ||
                      http.Request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase));
        if (!details)
        {
            http.Response.ContentType = "text/plain";
            return http.Response.WriteAsync(report.Status.ToString());
        }

        http.Response.ContentType = "application/json; charset=utf-8";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString(),
                description = e.Value.Description,
                data = e.Value.Data,
            }),
        };
        return http.Response.WriteAsync(JsonSerializer.Serialize(body, JsonOptions));
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.Create(System.Text.Unicode.UnicodeRanges.All),
    };

    internal static void Register(IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<JobsHealthCheck>("jobs");
        services.Configure<HealthCheckOptions>(o => o.ResponseWriter = WriteResponseAsync);
    }
}
