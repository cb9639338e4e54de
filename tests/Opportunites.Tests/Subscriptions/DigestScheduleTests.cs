using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Opportunites.Web.Digests;
using Opportunites.Web.Jobs;

namespace Opportunites.Tests.Subscriptions;

public sealed class DigestScheduleTests
{
    [Test]
    public async Task Schedules_DigestsAndReminders_FireAtSevenAndEightParisTime()
    {
        await using var app = new AlertsAppFactory();
        var registry = app.Services.GetRequiredService<JobsRegistry>();
        var settings = app.Services.GetRequiredService<IOptions<JobsSettings>>().Value;
        // A Saturday evening in winter (UTC+1): the next weekly occurrence is Monday 07:00 Paris = 06:00 UTC.
        var saturday = new DateTimeOffset(2026, 11, 21, 20, 0, 0, TimeSpan.Zero);
        DateTimeOffset? Next(string job) => JobSchedules.NextAfter(settings.CronFor(registry.Find(job)!), saturday);

        Assert.That(Next(WeeklyDigestJob.Name), Is.EqualTo(new DateTimeOffset(2026, 11, 23, 6, 0, 0, TimeSpan.Zero)));
        Assert.That(Next(DailyDigestJob.Name), Is.EqualTo(new DateTimeOffset(2026, 11, 22, 6, 0, 0, TimeSpan.Zero)));
        Assert.That(Next(DeadlineReminderJob.Name), Is.EqualTo(new DateTimeOffset(2026, 11, 22, 7, 0, 0, TimeSpan.Zero)));
        Assert.That(registry.Find(WeeklyDigestJob.Name)!.Retries, Is.GreaterThan(0), "an idempotent digest is retried after a failure");
    }
}
