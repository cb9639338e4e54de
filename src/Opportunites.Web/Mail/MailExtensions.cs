using Microsoft.Extensions.Options;
using Opportunites.Web.Jobs;

namespace Opportunites.Web.Mail;

public static class MailExtensions
{
    /// <summary>Outbox delivery (SMTP, or .eml files when Smtp:Host is empty), absolute links, the delivery job.</summary>
    public static void AddMail(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<SmtpSettings>().BindConfiguration("Smtp");
        services.AddOptions<MailSettings>().BindConfiguration("Mail");
        services.AddOptions<SiteSettings>().BindConfiguration("Site");
        services.AddSingleton<SiteLinks>();
        services.AddSingleton<SmtpMailSender>();
        services.AddSingleton<PickupMailSender>();
        // Decided when first used, so settings given by tests or the environment after startup code count.
        services.AddSingleton<IMailSender>(sp => string.IsNullOrWhiteSpace(sp.GetRequiredService<IOptions<SmtpSettings>>().Value.Host)
            ? sp.GetRequiredService<PickupMailSender>()
            : sp.GetRequiredService<SmtpMailSender>());
        services.AddSingleton<OutboxDelivery>();
        services.AddSingleton<OutboxAdmin>();
        services.AddHealthChecks().AddCheck<OutboxHealthCheck>("outbox");

        // Delivery runs as soon as mail is queued (MailQueuedListener); this sweep, once a minute, is the safety net and
        // sends the deferred retries when they fall due. A missed sweep is not caught up (the next one sends it all);
        // no Hangfire retry: each message has its own retries, with backoff, in the outbox.
        builder.AddClusteredJob<DeliveryJob>(DeliveryJob.Name, DeliveryJob.Cron, "Envoi des courriels en attente",
            MisfirePolicy.DoNothing, requestRecovery: true, retries: 0);
    }
}
