using Microsoft.Extensions.Options;
using Npgsql;
using Opportunites.Web.Shared;
using Quartz;

namespace Opportunites.Web.Jobs;

public static class JobsExtensions
{
    /// <summary>Quartz scheduler name: the same on every node, which is what makes them one cluster.</summary>
    public const string SchedulerName = "opportunites";

    /// <summary>
    /// Quartz on the app's PostgreSQL (qrtz_ tables from migration 0020), clustered, JSON job data, Europe/Paris, plus the
    /// job-run ledger. Features add their jobs with <see cref="AddClusteredJob{TJob}"/>, before or after this call.
    /// </summary>
    public static void AddJobs(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<JobsSettings>().BindConfiguration("Jobs");
        services.AddSingleton<JobsRegistry>();
        services.AddSingleton<JobRunner>();
        services.AddSingleton<JobsQueries>();
        services.AddSingleton<JobControl>();
        SchedulerHealthCheck.Register(services);
        services.AddTransient<QuartzJob>();

        var checkin = TimeSpan.FromSeconds(Math.Max(1, builder.Configuration.GetValue("Jobs:CheckinIntervalSeconds", 5)));
        services.AddQuartz(q =>
        {
            q.ConfigureScheduler(o =>
            {
                o.InstanceName = SchedulerName;
                // Cron triggers also name the zone themselves; this covers any trigger that would not.
                o.DefaultTimeZone = ParisTime.Zone;
            });
            q.UsePersistentStore(s =>
            {
                // The app's own pool; the schema comes from our migrations (0020), not from Quartz at start.
                s.UsePostgres(ds => ds.DataSourceFactory = sp => sp.GetRequiredService<NpgsqlDataSource>());
                s.UseClustering(c =>
                {
                    c.CheckinInterval = checkin;
                    c.CheckinMisfireThreshold = checkin * 2;
                });
                s.UseSystemTextJsonSerializer();
            });
        });

        // Shutdown: running jobs are told to stop (delivery finishes its current message) and awaited.
        services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        services.AddOptions<QuartzHostedServiceOptions>()
            .Configure<IOptions<JobsSettings>>((o, jobs) => o.AutoStart = jobs.Value.Enabled);
        services.Configure<QuartzSchedulerOptions>(o => o.ShutdownJobInterruption = ShutdownJobInterruption.WhenWaitingForJobs);

        // Daily at 04:00 Paris: history older than Jobs:HistoryDays.
        builder.AddClusteredJob<PurgeJob>(PurgeJob.Name, "0 0 4 * * ?", "Ménage de l'historique (exécutions, courriels envoyés)",
            MisfirePolicy.FireOnceNow, requestRecovery: false);
    }

    /// <summary>
    /// Registers a job that runs on one node of the cluster at each time of its cron schedule (Europe/Paris), from the
    /// admin page and from <c>jobs run &lt;name&gt;</c>. The schedule can be changed with <c>Jobs:Schedules:&lt;name&gt;</c>.
    /// </summary>
    /// <example><code>builder.AddClusteredJob&lt;DigestJob&gt;("digest", "0 0 7 ? * MON", "Envoi des sélections hebdomadaires");</code></example>
    public static void AddClusteredJob<TJob>(this IHostApplicationBuilder builder, string name, string defaultCron, string label,
        MisfirePolicy misfire = MisfirePolicy.FireOnceNow, bool requestRecovery = true)
        where TJob : class, IClusteredJob
    {
        if (!CronExpression.TryParse(defaultCron, out _))
        {
            throw new ArgumentException($"Expression cron invalide pour la tâche {name} : {defaultCron}", nameof(defaultCron));
        }

        var definition = new ClusteredJobDefinition(name, typeof(TJob), defaultCron, label, misfire, requestRecovery);
        builder.Services.AddSingleton(definition);
        builder.Services.AddScoped<TJob>();
        // AddQuartz is additive for the default scheduler: each feature adds its own job and trigger.
        builder.Services.AddQuartz(q =>
        {
            q.AddJob<QuartzJob>(j => j
                .WithIdentity(name)
                .WithDescription(label)
                .StoreDurably()
                .DisallowConcurrentExecution()
                .RequestRecovery(requestRecovery));
            q.AddTrigger((sp, t) =>
            {
                var cron = sp.GetRequiredService<IOptions<JobsSettings>>().Value.CronFor(definition);
                t.ForJob(name)
                    .WithIdentity(name)
                    .WithDescription(label)
                    .WithCronSchedule(cron, c => c
                        .InTimeZone(ParisTime.Zone)
                        .WithMisfireInstruction(misfire == MisfirePolicy.FireOnceNow
                            ? CronTriggerMisfireInstruction.FireAndProceed
                            : CronTriggerMisfireInstruction.DoNothing));
            });
        });
    }
}
