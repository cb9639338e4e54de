using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Board;
using Opportunites.Web.Opportunities;
using static Opportunites.Tests.Board.BoardSeed;

namespace Opportunites.Tests.Board;

public sealed class BoardFeedTests
{
    private const string SiteBaseUrl = "https://opportunites.test";
    private AppFactory _app = null!;
    private HttpClient _client = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _app = new AppFactory(new Dictionary<string, string> { ["Site:BaseUrl"] = SiteBaseUrl });
        _client = _app.CreateClient();
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
    }

    [Test]
    public async Task FeedsAndApi_ForgedHostHeader_LinksStillOnTheSiteAddress()
    {
        var issuer = await IssuerAsync();
        var title = TestData.Unique("Flux hôte");
        var id = await OfferAsync(issuer, title, ["33"]);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/offres/flux.rss?emetteur={issuer}");
        request.Headers.Host = "pirate.example";
        using var api = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/opportunites/{id}");
        api.Headers.Host = "pirate.example";

        var rss = await (await _client.SendAsync(request)).Content.ReadAsStringAsync();
        var json = await (await _client.SendAsync(api)).Content.ReadAsStringAsync();

        Assert.That(rss, Does.Contain($"{SiteBaseUrl}/offres/{id}-").And.Not.Contain("pirate.example"));
        Assert.That(json, Does.Contain($"{SiteBaseUrl}/offres/{id}-").And.Not.Contain("pirate.example"));
    }

    [Test]
    public async Task Rss_Search_ParsesAsXmlWithTheMatchingItems()
    {
        var issuer = await IssuerAsync();
        var tag = TestData.Unique("Flux <Éducation> & \"jeunesse\"");
        await OfferAsync(issuer, tag + " Gironde", ["33"]);
        await OfferAsync(issuer, tag + " emploi", ["33"], kind: Kinds.Emploi);
        await OfferAsync(issuer, tag + " Landes", ["40"]);
        await OfferAsync(issuer, tag + " échue", ["33"], deadline: new DateOnly(2022, 1, 1));

        var response = await _client.GetAsync($"/offres/flux.rss?emetteur={issuer}&territoire=33&type=aap");
        var doc = XDocument.Parse(await response.Content.ReadAsStringAsync());
        var items = doc.Descendants("item").ToList();

        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/rss+xml"));
        Assert.That(response.Content.Headers.ContentType.CharSet, Is.EqualTo("utf-8"));
        Assert.That(doc.Root!.Attribute("version")!.Value, Is.EqualTo("2.0"));
        Assert.That(response.Headers.CacheControl!.MaxAge, Is.EqualTo(TimeSpan.FromMinutes(5)));
        Assert.That(items.Select(i => i.Element("title")!.Value), Is.EqualTo(new[] { $"[AAP] {tag} Gironde" }));
        var link = items[0].Element("link")!.Value;
        Assert.That(link, Does.Match(@"^https://opportunites\.test/offres/\d+-flux-"));
        Assert.That(items[0].Element("guid")!.Value, Does.StartWith("https://opportunites.test/offres/"));
        Assert.That(items[0].Element("pubDate")!.Value, Does.EndWith("GMT"));
        Assert.That((await _client.GetAsync(new Uri(link).PathAndQuery)).StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task Ics_Search_OneEventPerOfferWithDeadlineOnDtstart()
    {
        var issuer = await IssuerAsync();
        var tag = TestData.Unique("Agenda; virgule, antislash\\ et accents éèà 😀🎓 " + new string('x', 40));
        var allDay = await OfferAsync(issuer, tag + " journée", daysLeft: 12);
        var timed = await OfferAsync(issuer, tag + " midi", daysLeft: 20, time: new TimeOnly(12, 30));
        await OfferAsync(issuer, tag + " sans date", daysLeft: null);

        var response = await _client.GetAsync($"/offres/agenda.ics?emetteur={issuer}");
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var text = Encoding.UTF8.GetString(bytes);
        var unfolded = text.Replace("\r\n ", "", StringComparison.Ordinal);
        var events = Regex.Matches(unfolded, "BEGIN:VEVENT\r\n(.*?)END:VEVENT", RegexOptions.Singleline).Select(m => m.Groups[1].Value).ToList();

        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("text/calendar"));
        Assert.That(text, Does.StartWith("BEGIN:VCALENDAR\r\n").And.EndWith("END:VCALENDAR\r\n"));
        Assert.That(text.Replace("\r\n", "", StringComparison.Ordinal), Does.Not.Contain("\n").And.Not.Contain("\r"));
        Assert.That(text.Split("\r\n").Select(l => Encoding.UTF8.GetByteCount(l)).Max(), Is.LessThanOrEqualTo(75));
        Assert.That(events, Has.Count.EqualTo(2));
        Assert.That(events[0], Does.Contain($"UID:opportunite-{allDay}@localhost\r\n"));
        Assert.That(events[0], Does.Contain($"DTSTART;VALUE=DATE:{Today.AddDays(12):yyyyMMdd}\r\n"));
        Assert.That(events[1], Does.Contain($"UID:opportunite-{timed}@localhost\r\n"));
        Assert.That(events[1], Does.Contain($"DTSTART;TZID=Europe/Paris:{Today.AddDays(20):yyyyMMdd}T123000\r\n"));
        Assert.That(unfolded, Does.Contain("BEGIN:VTIMEZONE\r\nTZID:Europe/Paris"));
        Assert.That(events[0], Does.Contain("SUMMARY:Date limite : [AAP] Agenda\\; virgule\\, antislash\\\\ et accents éèà 😀🎓 "));
        Assert.That(text, Does.Not.Contain("\uFFFD"), "a character outside the BMP is never split by folding");
    }

    [Test]
    public async Task Ics_DeadlineChanges_SameUidNewDate()
    {
        var issuer = await IssuerAsync();
        var id = await OfferAsync(issuer, TestData.Unique("Report"), daysLeft: 10);
        var before = await _client.GetStringAsync($"/offres/{id}/agenda.ics");
        await using (var conn = await Db.OpenConnectionAsync())
        {
            await using var cmd = new Npgsql.NpgsqlCommand("UPDATE opportunities SET deadline_date = deadline_date + 5, updated_at = now() WHERE id = $1", conn);
            cmd.Parameters.AddWithValue(id);
            await cmd.ExecuteNonQueryAsync();
        }

        var after = await _client.GetStringAsync($"/offres/{id}/agenda.ics");

        Assert.That(before, Does.Contain($"UID:opportunite-{id}@localhost").And.Contain($"DTSTART;VALUE=DATE:{Today.AddDays(10):yyyyMMdd}"));
        Assert.That(after, Does.Contain($"UID:opportunite-{id}@localhost").And.Contain($"DTSTART;VALUE=DATE:{Today.AddDays(15):yyyyMMdd}"));
        Assert.That(Regex.Matches(after, "BEGIN:VEVENT").Count, Is.EqualTo(1));
    }

    [Test]
    public async Task Ics_OfferWithoutDeadlineOrUnknown_404()
    {
        var id = await OfferAsync(await IssuerAsync(), TestData.Unique("Permanente"), daysLeft: null);

        Assert.That((await _client.GetAsync($"/offres/{id}/agenda.ics")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await _client.GetAsync("/offres/999999999/agenda.ics")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That((await _client.GetAsync("/offres/abc/agenda.ics")).StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public void Fold_LongAccentedLine_NeverSplitsACharacterNorExceeds75Octets()
    {
        var sb = new StringBuilder();
        IcsCalendar.Fold(sb, "SUMMARY:" + string.Concat(Enumerable.Repeat("éà€😀", 40)));
        var lines = sb.ToString().Split("\r\n", StringSplitOptions.RemoveEmptyEntries);

        Assert.That(lines.Select(l => Encoding.UTF8.GetByteCount(l)), Has.All.LessThanOrEqualTo(75));
        Assert.That(lines.Skip(1), Has.All.StartWith(" "));
        Assert.That(string.Concat(lines.Select((l, i) => i == 0 ? l : l[1..])), Is.EqualTo("SUMMARY:" + string.Concat(Enumerable.Repeat("éà€😀", 40))));
    }

    [Test]
    public async Task Csv_Search_SemicolonsUtf8BomAndEscapedFields()
    {
        var issuer = await IssuerAsync();
        var tag = TestData.Unique("Export; \"guillemets\" é");
        await OfferAsync(issuer, tag + " un", daysLeft: 4);
        await OfferAsync(issuer, "=SOMME(A1) " + tag, daysLeft: 5);

        var response = await _client.GetAsync($"/offres/export.csv?emetteur={issuer}");
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var text = Encoding.UTF8.GetString(bytes, 3, bytes.Length - 3);
        var lines = text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);

        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("text/csv"));
        Assert.That(bytes[..3], Is.EqualTo(new byte[] { 0xEF, 0xBB, 0xBF }));
        Assert.That(lines[0], Does.StartWith("Identifiant;Type;Titre;Émetteur;Territoires;Date limite"));
        Assert.That(lines, Has.Length.EqualTo(3));
        Assert.That(lines[1], Does.Contain($"\"{tag.Replace("\"", "\"\"", StringComparison.Ordinal)} un\""));
        Assert.That(lines[1], Does.Contain($";{Today.AddDays(4):dd/MM/yyyy};"));
        Assert.That(lines[2], Does.Contain(";\"'=SOMME(A1) "));
    }

    [TestCase("/offres/flux.rss?type=stage")]
    [TestCase("/offres/agenda.ics?page=-1")]
    [TestCase("/offres/export.csv?territoire=Atlantide")]
    public async Task Feeds_BadFilter_400ProblemDetails(string url)
    {
        var response = await _client.GetAsync(url);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(response.Content.Headers.ContentType!.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That(response.Headers.CacheControl, Is.Null);
    }
}
