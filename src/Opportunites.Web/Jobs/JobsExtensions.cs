using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Opportunites.Web.Jobs;

public static class JobsExtensions
{
    /// <summary>PostgreSQL schema of Hangfire's tables (migration 0070).</summary>
    public const string HangfireSchema = "hangfire";

    /// <summary>Where admins find Hangfire's own dashboard (admin role only, see <see cref="MapJobsDashboard"/>).</summary>
    public const string DashboardPath = "/admin/hangfire";

    /// <summary>
    /// Hangfire on the app's PostgreSQL (schema "hangfire" from migration 0070), a server on this node unless
    /// Jobs:Enabled=false, the job-run ledger, and delivery as soon as mail is queued. Features add their jobs with
    /// <see cref="AddClusteredJob{TJob}"/>, before or after this call.
    /// </summary>
    public static void AddJobs(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<JobsSettings>().BindConfiguration("Jobs");
        services.AddSingleton<JobsRegistry>();
        services.AddSingleton<JobRunner>();
        services.AddSingleton<JobsQueries>();
        services.AddSingleton<JobControl>();
        services.AddTransient<HangfireJob>();
        JobsHealthCheck.Register(services);

        // Hangfire's own pool, from the same connection string. Persist Security Info: its LISTEN connection reconnects
        // from the connection's own string, which otherwise has lost the password (measured: with password
        // authentication it never came back after PostgreSQL restarted). No reset-free pooling here either: a
        // connection that listened must not go back to the app's pool still listening.
        services.AddKeyedSingleton(HangfireSchema, (sp, _) =>
        {
            var cs = sp.GetRequiredService<IConfiguration>().GetConnectionString("Default")
                ?? throw new InvalidOperationException("Aucune base configurée : définissez ConnectionStrings__Default (voir README).");
            var csb = new NpgsqlConnectionStringBuilder(cs) { PersistSecurityInfo = true, ApplicationName = "opportunites-taches" };
            if (csb.Timeout == 15)
            {
                csb.Timeout = 3;
            }

            return NpgsqlDataSource.Create(csb.ConnectionString);
        });

        // Registered before AddHangfire, which only adds a storage when none is there (and would use the static one).
        services.AddSingleton<JobStorage>(sp =>
        {
            sp.GetRequiredService<IGlobalConfiguration>();
            var jobs = sp.GetRequiredService<IOptions<JobsSettings>>().Value;
            return new PostgreSqlStorage(new DataSourceConnectionFactory(sp.GetRequiredKeyedService<NpgsqlDataSource>(HangfireSchema)),
                StorageOptions(jobs));
        });
        services.AddHangfire(config => config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings());

        // The scope of each job from this host's container (Hangfire's default is a static, last host wins).
        services.AddSingleton<JobActivator>(sp => new Hangfire.AspNetCore.AspNetCoreJobActivator(sp.GetRequiredService<IServiceScopeFactory>()));
        // Each decides at start from Jobs:Enabled (read then, so that settings given after registration count).
        services.AddHostedService<JobsServer>();
        services.AddHostedService<RecurringJobsRegistration>();
        services.AddHostedService<MailQueuedListener>();

        // Daily at 04:00 Paris: history older than Jobs:HistoryDays.
        builder.AddClusteredJob<PurgeJob>(PurgeJob.Name, "0 0 4 * * ?", "Ménage de l'historique (exécutions, courriels envoyés)",
            MisfirePolicy.FireOnceNow, requestRecovery: false);
    }

    internal static PostgreSqlStorageOptions StorageOptions(JobsSettings jobs) => new()
    {
        SchemaName = HangfireSchema,
        // The schema is ours (migration 0070): four nodes installing it at once raced in the prototype.
        PrepareSchemaIfNecessary = false,
        // A fetched job stays invisible while its node renews it; a killed node's job comes back after the timeout
        // (defaults: not sliding, 30 min — measured 29 min 51 s; sliding 60 s — 58 s).
        UseSlidingInvisibilityTimeout = true,
        InvisibilityTimeout = TimeSpan.FromSeconds(Math.Max(10, jobs.InvisibilitySeconds)),
        // LISTEN/NOTIFY wakes a worker when a job is queued (41 ms instead of seconds); the poll stays as the fallback
        // while the LISTEN connection reconnects.
        EnableLongPolling = true,
        QueuePollInterval = TimeSpan.FromSeconds(5),
        // A killed node's lock row (the recurring scheduler's, for instance) blocks what it locked until this has passed:
        // 10 min by default stopped every recurring job that long. Hangfire's own locks are held for moments.
        DistributedLockTimeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>
    /// Registers a job that runs on one node of the cluster at each occurrence of its cron schedule (Europe/Paris), from
    /// the admin page and from <c>jobs run &lt;name&gt;</c>. The schedule can be changed with <c>Jobs:Schedules:&lt;name&gt;</c>.
    /// </summary>
    /// <param name="requestRecovery">false: a run cut short by a killed or stopped node is not started over (the next occurrence does the work).</param>
    /// <param name="retries">Hangfire attempts after a failure (exponential delays from ~20 s); 0 = wait for the next occurrence.</param>
    /// <example><code>builder.AddClusteredJob&lt;DigestJob&gt;("digest", "0 0 7 ? * MON", "Envoi des sélections hebdomadaires");</code></example>
    public static void AddClusteredJob<TJob>(this IHostApplicationBuilder builder, string name, string defaultCron, string label,
        MisfirePolicy misfire = MisfirePolicy.FireOnceNow, bool requestRecovery = true, int retries = 0)
        where TJob : class, IClusteredJob
    {
        if (!JobSchedules.TryParse(defaultCron, out _))
        {
            throw new ArgumentException($"Expression cron invalide pour la tâche {name} : {defaultCron}", nameof(defaultCron));
        }

        builder.Services.AddSingleton(new ClusteredJobDefinition(name, typeof(TJob), defaultCron, label, misfire, requestRecovery,
            Math.Max(0, retries)));
        builder.Services.AddScoped<TJob>();
    }

    /// <summary>
    /// Hangfire's dashboard at <see cref="DashboardPath"/>: admin role only (the app's policy: anonymous visitors are sent
    /// to the sign-in page, other accounts get 403), in French, its POST actions checked by the app's antiforgery.
    /// </summary>
    public static void MapJobsDashboard(this WebApplication app)
    {
        // The dashboard follows the request culture; the app has no per-request culture, so French is set here.
        app.UseWhen(c => c.Request.Path.StartsWithSegments(DashboardPath), branch => branch.Use((context, next) =>
        {
            System.Globalization.CultureInfo.CurrentCulture = System.Globalization.CultureInfo.CurrentUICulture =
                System.Globalization.CultureInfo.GetCultureInfo("fr-FR");
            return next(context);
        }));
        app.MapHangfireDashboardWithAuthorizationPolicy(Accounts.Policies.Admin, DashboardPath, new DashboardOptions
        {
            DashboardTitle = "Tâches — Opportunités",
            AppPath = "/admin/taches",
            DisplayStorageConnectionString = false,
            // Its forms and AJAX actions carry the app's antiforgery token (the default; stated because it matters).
            IgnoreAntiforgeryToken = false,
        });
    }

    /// <summary>Hangfire's connections from our own data source (the package takes a factory, not an NpgsqlDataSource).</summary>
    private sealed class DataSourceConnectionFactory(NpgsqlDataSource source) : IConnectionFactory
    {
        public NpgsqlConnection GetOrCreateConnection() => source.CreateConnection();
    }
}
