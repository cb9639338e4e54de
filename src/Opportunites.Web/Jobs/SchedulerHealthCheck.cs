using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Quartz;

namespace Opportunites.Web.Jobs;

/// <summary>/healthz: is this node's scheduler running, and did every job's last run succeed.</summary>
internal sealed class SchedulerHealthCheck(ISchedulerFactory factory, IOptions<JobsSettings> settings, JobsQueries queries) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        var scheduler = await factory.GetScheduler(ct);
        var running = scheduler.Status == SchedulerStatus.Running;
        var last = await queries.GetLastRunsAsync(ct);
        var data = new Dictionary<string, object> { ["noeud_actif"] = running };
        foreach (var run in last)
        {
            data[$"{run.JobName}_dernier"] = $"{run.Outcome} {run.StartedAt:O}";
        }

        var failed = last.Where(r => r.Outcome == "failed").Select(r => r.JobName).ToList();
        if (!settings.Value.Enabled)
        {
            return HealthCheckResult.Healthy("planificateur désactivé sur ce nœud (Jobs:Enabled=false)", data);
        }

        if (!running)
        {
            return HealthCheckResult.Unhealthy("planificateur arrêté", data: data);
        }

        return failed.Count > 0
            ? HealthCheckResult.Degraded($"dernière exécution en échec : {string.Join(", ", failed)}", data: data)
            : HealthCheckResult.Healthy("planificateur actif", data);
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
        services.AddHealthChecks().AddCheck<SchedulerHealthCheck>("scheduler");
        services.Configure<HealthCheckOptions>(o => o.ResponseWriter = WriteResponseAsync);
    }
}
