using System.Globalization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Digests;
using Opportunites.Web.Jobs;
using Opportunites.Web.Mail;

namespace Opportunites.Tests.Browser;

/// <summary>
/// Base of the journeys that read their emails as a user would: the app delivers its outbox over SMTP to a real
/// aiosmtpd process (the delivery job runs every few seconds on this node's scheduler) and the test opens the links
/// of the messages that server received. A database of the fixture's own: the delivery and digest jobs act on
/// every row, and would send other tests' emails on the shared database.
/// </summary>
public abstract class SmtpJourneyTest : BrowserTest
{
    /// <summary>The public address written in emails; the browser follows the path and query of a link on the app.</summary>
    protected const string SiteBaseUrl = "https://opportunites.test";

    /// <summary>Generous: a loaded 2-core machine may take a while to schedule a job and deliver.</summary>
    protected static readonly TimeSpan MailWait = TimeSpan.FromSeconds(90);

    // Every job but the delivery is scheduled in 2099: nothing runs behind the test's back, and "Lancer maintenant"
    // on the jobs page is taken by this node's scheduler. Checked in StartServicesAsync.
    private const string Never = "0 0 3 1 1 ? 2099";
    private const string EveryThreeSeconds = "0/3 * * * * ?";
    private static readonly string[] Jobs =
    [
        WeeklyDigestJob.Name, DailyDigestJob.Name, DeadlineReminderJob.Name, DeliveryJob.Name, ExpiryJob.Name, PurgeJob.Name,
        Opportunites.Web.Moderation.ModerationQueueJob.Name,
    ];

    private PrivateDatabase? db;
    private SmtpServer? smtp;

    protected PrivateDatabase Db => db ?? throw new InvalidOperationException("The database is not created.");

    protected SmtpServer Smtp => smtp ?? throw new InvalidOperationException("The SMTP server is not started.");

    protected override string ConnectionString => Db.ConnectionString;

    protected override async Task StartServicesAsync()
    {
        db = await PrivateDatabase.CreateAsync("opportunites_journeys");
        smtp = await SmtpServer.StartAsync();
    }

    protected override void ConfigureApp(IWebHostBuilder builder)
    {
        BrowserAccounts.RaiseFormLimits(builder);
        builder.UseSetting("Smtp:Host", Smtp.Host);
        builder.UseSetting("Smtp:Port", Smtp.Port.ToString(CultureInfo.InvariantCulture));
        builder.UseSetting("Smtp:From", "veille@opportunites.test");
        builder.UseSetting("Smtp:TimeoutSeconds", "30");
        builder.UseSetting("Site:BaseUrl", SiteBaseUrl);
        builder.UseSetting("Jobs:Enabled", "true");
        foreach (var job in Jobs)
        {
            builder.UseSetting($"Jobs:Schedules:{job}", job == DeliveryJob.Name ? EveryThreeSeconds : Never);
        }
    }

    [OneTimeSetUp]
    public void CheckEveryJobIsScheduled()
    {
        var registered = App.Services.GetRequiredService<JobsRegistry>().All.Select(j => j.Name);
        Assert.That(registered.Except(Jobs), Is.Empty, "a job added to the app must be put off to 2099 here");
    }

    protected override async Task StopServicesAsync()
    {
        if (smtp is not null)
        {
            await smtp.DisposeAsync();
        }

        if (db is not null)
        {
            await db.DisposeAsync();
        }
    }

    /// <summary>Waits until the SMTP server has received a message for <paramref name="to"/> that matches.</summary>
    protected async Task<ReceivedMessage> WaitForMessageAsync(string to, Func<ReceivedMessage, bool> match, string what)
    {
        var messages = await Smtp.WaitForAsync(all => all.Any(m => m.IsTo(to) && match(m)), MailWait);
        return messages.LastOrDefault(m => m.IsTo(to) && match(m))
            ?? throw new AssertionException($"No {what} for {to} at the SMTP server after {MailWait.TotalSeconds} s; "
                + $"received: {string.Join(" | ", messages.Select(m => $"{string.Join(',', m.RcptTos)}: {m.Header("Subject")}"))}");
    }

    /// <summary>Opens a link of a received email in the browser: the path and query on the app under test.</summary>
    protected static async Task FollowAsync(IPage page, Uri link)
    {
        Assert.That(link.GetLeftPart(UriPartial.Authority), Is.EqualTo(SiteBaseUrl), "links in emails use Site:BaseUrl");
        await page.GotoAsync(link.PathAndQuery);
    }
}
