using Opportunites.Web.Jobs;

namespace Opportunites.Tests.Jobs;

public sealed class JobSchedulesTests
{
    [TestCase("0 0 7 ? * MON", "chaque lundi à 7 h")]
    [TestCase("0 0 7 * * ?", "chaque jour à 7 h")]
    [TestCase("0 30 8 * * ?", "chaque jour à 8 h 30")]
    [TestCase("0 0/15 * * * ?", "toutes les 15 minutes")]
    [TestCase("0 * * * * ?", "chaque minute")]
    [TestCase("0/10 * * * * ?", "toutes les 10 secondes")]
    [TestCase("* * * * * ?", "chaque seconde")]
    [TestCase("0 0 7 ? * MON-FRI", "du lundi au vendredi à 7 h")]
    [TestCase("0 0 9 ? * MON,THU", "chaque lundi et jeudi à 9 h")]
    [TestCase("0 0 6 1 * ?", "le 1er de chaque mois à 6 h")]
    [TestCase("0 0 0 31 2 ?", "jamais")]
    [TestCase("0 15 7 1-7 * ?", "selon l'expression cron « 0 15 7 1-7 * ? »")]
    public void Describe_CommonSchedules_SaysThemInFrench(string cron, string words)
    {
        Assert.That(JobSchedules.Describe(cron), Is.EqualTo(words));
    }

    [Test]
    public void OccurrenceAt_PollInstantAfterTheOccurrence_GivesTheOccurrenceInParisTime()
    {
        // Monday 23 November 2026, 07:00 Paris = 06:00 UTC; Hangfire's scheduler created the run 1.4 s later.
        var occurrence = JobSchedules.OccurrenceAt("0 0 7 ? * MON", new DateTimeOffset(2026, 11, 23, 6, 0, 1, 400, TimeSpan.Zero));

        Assert.That(occurrence, Is.EqualTo(new DateTimeOffset(2026, 11, 23, 6, 0, 0, TimeSpan.Zero)));
    }

    [Test]
    public void OccurrenceAt_RunCreatedLateAfterDowntime_GivesTheLatestMissedOccurrence()
    {
        // Every node down from Monday 06:50 to Wednesday 10:00 (summer, UTC+2): one catch-up run, for Wednesday's 07:00.
        var occurrence = JobSchedules.OccurrenceAt("0 0 7 * * ?", new DateTimeOffset(2027, 6, 9, 8, 0, 0, TimeSpan.Zero));

        Assert.That(occurrence, Is.EqualTo(new DateTimeOffset(2027, 6, 9, 5, 0, 0, TimeSpan.Zero)));
    }

    [Test]
    public void TryParse_SevenFieldsWithAYear_IsRefused()
    {
        Assert.That(JobSchedules.TryParse("0 0 3 1 1 ? 2099", out _), Is.False, "Hangfire's cron has no year field");
    }
}
