using System.Net;
using System.Text.RegularExpressions;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Accounts;
using Opportunites.Web.Shared;
using static Opportunites.Tests.Infrastructure.WebForms;

namespace Opportunites.Tests.Admin;

/// <summary>
/// Issue 21, item 13, on a database of this fixture's own: "since the last export" reads every export made, which other
/// tests of the shared database would move.
/// </summary>
public sealed partial class ExportPageTests
{
    private PrivateDatabase db = null!;
    private AppFactory app = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        db = await PrivateDatabase.CreateAsync("opportunites_export");
        app = new AppFactory(db.ConnectionString);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await app.DisposeAsync();
        await db.DisposeAsync();
    }

    private async Task<HttpClient> AdminAsync()
    {
        var client = CreateClient(app);
        await TestUsers.LoginAsync(client, await TestUsers.CreateAsync(db.DataSource, Policies.AdminRole));
        return client;
    }

    [GeneratedRegex("id=\"(du|au)\" name=\"\\1\" value=\"([^\"]*)\"")]
    private static partial Regex DateField();

    private static Dictionary<string, string> Dates(string html) =>
        DateField().Matches(html).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);

    [Test, Order(1)]
    public async Task Get_NoExportYetThenAfterOne_Last30DaysThenDayAfterLastPeriod()
    {
        var admin = await AdminAsync();
        var today = ParisTime.Today(TimeProvider.System);

        var first = Dates(await GetTextAsync(admin, "/admin/export"));
        Assert.That(first["du"], Is.EqualTo(ParisTime.FormatDate(today.AddDays(-30))));
        Assert.That(first["au"], Is.EqualTo(ParisTime.FormatDate(today)));

        var exported = await admin.GetAsync($"/admin/export?du={ParisTime.FormatDate(today.AddDays(-20))}&au={ParisTime.FormatDate(today.AddDays(-3))}&territoire=33");
        Assert.That(exported.StatusCode, Is.EqualTo(HttpStatusCode.OK));

        var next = await GetTextAsync(admin, "/admin/export");
        Assert.That(Dates(next)["du"], Is.EqualTo(ParisTime.FormatDate(today.AddDays(-2))));
        Assert.That(Dates(next)["au"], Is.EqualTo(ParisTime.FormatDate(today)));
        Assert.That(next, Does.Contain($"offres publiées jusqu'au {ParisTime.FormatDate(today.AddDays(-3))}"));
        admin.Dispose();
    }

    [Test, Order(2)]
    public async Task Get_WithoutNational_LeavesFranceWideOffersOutOfTerritoryBlocks()
    {
        var admin = await AdminAsync();
        var today = ParisTime.FormatDate(ParisTime.Today(TimeProvider.System));
        var deadline = DateOnly.FromDateTime(DateTime.UtcNow.AddDays(30));
        var national = TestData.Unique("AAP national");
        var gironde = TestData.Unique("AAP girondin");
        await TestData.CreateOpportunityAsync(db.DataSource, national, ["FR"], deadline: deadline);
        await TestData.CreateOpportunityAsync(db.DataSource, gironde, ["33"], deadline: deadline);

        var all = await GetTextAsync(admin, $"/admin/export?du={today}&au={today}&territoire=33");
        var local = await GetTextAsync(admin, $"/admin/export?du={today}&au={today}&territoire=33&nationales=non");

        Assert.That(all, Does.Contain(national).And.Contain(gironde));
        Assert.That(local, Does.Contain(gironde).And.Not.Contain(national));
        Assert.That(local, Does.Contain("name=\"nationales\" value=\"non\" checked"));
        admin.Dispose();
    }

    [Test, Order(3)]
    public async Task Get_Blocks_CopyButtonsServedByScriptFileNoInlineStyle()
    {
        var admin = await AdminAsync();
        var today = ParisTime.FormatDate(ParisTime.Today(TimeProvider.System));

        var html = await admin.GetStringAsync($"/admin/export?du={today}&au={today}&territoire=FR");
        var main = html[html.IndexOf("<main", StringComparison.Ordinal)..html.IndexOf("</main>", StringComparison.Ordinal)];

        Assert.That(html, Does.Contain("data-copy=\"html\"").And.Contain("data-copy=\"lignes\""));
        Assert.That(html, Does.Match("<script src=\"/js/copier.js[^\"]*\""));
        Assert.That(Regex.IsMatch(html, "<script>"), Is.False, "no inline script (CSP script-src 'self')");
        Assert.That(main[..main.IndexOf("export-preview", StringComparison.Ordinal)], Does.Not.Contain("style=\""),
            "no inline style (CSP style-src 'self') outside the email preview");
        admin.Dispose();
    }
}
