using Microsoft.Extensions.DependencyInjection;
using Opportunites.Web.Digests;
using Opportunites.Web.Shared;
using Quartz;

namespace Opportunites.Tests.Subscriptions;

public sealed class DigestScheduleTests
{
    [Test]
    public async Task Schedules_DigestsAndReminders_FireAtSevenAndEightParisTime()
    {
        await using var app = new AlertsAppFactory();
        var scheduler = await app.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        // A Saturday evening in winter (UTC+1): the next weekly fire is Monday 07:00 Paris = 06:00 UTC.
        var saturday = new DateTimeOffset(2026, 11, 21, 20, 0, 0, TimeSpan.Zero);

        var weekly = (ICronTrigger?)await scheduler.GetTrigger(new TriggerKey(WeeklyDigestJob.Name));
        var daily = (ICronTrigger?)await scheduler.GetTrigger(new TriggerKey(DailyDigestJob.Name));
        var reminders = (ICronTrigger?)await scheduler.GetTrigger(new TriggerKey(DeadlineReminderJob.Name));

        Assert.That(weekly, Is.Not.Null);
        Assert.That(daily, Is.Not.Null);
        Assert.That(reminders, Is.Not.Null);
        Assert.That(weekly!.TimeZone.Id, Is.EqualTo(ParisTime.Zone.Id));
        Assert.That(new CronExpression(weekly!.CronExpressionString!, weekly.TimeZone).GetNextValidTimeAfter(saturday),
            Is.EqualTo(new DateTimeOffset(2026, 11, 23, 6, 0, 0, TimeSpan.Zero)));
        Assert.That(new CronExpression(daily!.CronExpressionString!, daily.TimeZone).GetNextValidTimeAfter(saturday),
            Is.EqualTo(new DateTimeOffset(2026, 11, 22, 6, 0, 0, TimeSpan.Zero)));
        Assert.That(new CronExpression(reminders!.CronExpressionString!, reminders.TimeZone).GetNextValidTimeAfter(saturday),
            Is.EqualTo(new DateTimeOffset(2026, 11, 22, 7, 0, 0, TimeSpan.Zero)));
        var job = await scheduler.GetJobDetail(new JobKey(WeeklyDigestJob.Name));
        Assert.That(job!.ConcurrentExecutionDisallowed, Is.True);
    }
}
