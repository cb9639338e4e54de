using System.Net;
using System.Text;
using Dapper;
using Npgsql;
using Opportunites.Web.Accounts;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Shared;

namespace Opportunites.Web.Import;

public sealed class ExportItem
{
    public long Id { get; init; }
    public string Kind { get; init; } = "";
    public string Title { get; init; } = "";
    public string IssuerName { get; init; } = "";
    public DateOnly? DeadlineDate { get; init; }
    public string? Url { get; init; }
}

public sealed record NewsletterBlocks(IReadOnlyList<ExportItem> Projects, IReadOnlyList<ExportItem> Jobs, string Html, string Lines);

/// <summary>
/// The two blocks of a newsletter for a period and a territory, as email-safe HTML (inline styles, links on titles)
/// and as plain lines in the format the import reads back (<c>Émetteur / Titre - Jusqu'au JJ/MM/AAAA</c>).
/// </summary>
public sealed class NewsletterExport(NpgsqlDataSource db, AccountSettings settings)
{
    public const string ProjectsHeader = "Appels à projets / AMI";
    public const string JobsHeader = "Offres d'emploi";
    public const string AmiHeader = "Appels à manifestation d'intérêt";

    // Offers published in the period (Paris days, inclusive), still open, matching the territory both ways. Without
    // national offers, "FR" leaves the match set: an offer for all of France drops out, one also tagged with a
    // territory of the block stays.
    private const string ItemsSql = """
        SELECT o.id, o.kind, o.title, o.issuer_name, o.deadline_date, o.url
        FROM opportunities o
        WHERE o.status = 'published' AND o.deadline_sort > now()
          AND o.published_at >= (@from::date)::timestamp AT TIME ZONE 'Europe/Paris'
          AND o.published_at < (@to::date + 1)::timestamp AT TIME ZONE 'Europe/Paris'
          AND o.territory_codes && array_remove(territory_match_set(@territory), CASE WHEN @national THEN NULL ELSE 'FR' END)
        ORDER BY o.deadline_sort, lower(o.issuer_name), o.id
        LIMIT 500
        """;

    /// <param name="national">false: leave out the offers for all of France (a territory's own newsletter).</param>
    public async Task<NewsletterBlocks> BuildAsync(DateOnly from, DateOnly to, string territory, bool national = true)
    {
        await using var conn = await db.OpenConnectionAsync();
        var items = (await conn.QueryAsync<ExportItem>(ItemsSql, new { from, to, territory, national })).AsList();
        var projects = items.Where(i => i.Kind != Kinds.Emploi).ToList();
        var jobs = items.Where(i => i.Kind == Kinds.Emploi).ToList();
        return new NewsletterBlocks(projects, jobs, Html(projects, jobs), Lines(projects, jobs));
    }

    private const string RecordSql = """
        INSERT INTO newsletter_exports (from_date, to_date, territory, national, exported_by)
        VALUES (@from, @to, @territory, @national, @userId)
        """;

    /// <summary>Remembers the period exported: the next export starts after it.</summary>
    public async Task RecordAsync(DateOnly from, DateOnly to, string territory, bool national, long? userId)
    {
        await using var conn = await db.OpenConnectionAsync();
        await conn.ExecuteAsync(RecordSql, new { from, to, territory, national, userId });
    }

    private const string LastToSql = "SELECT max(to_date) FROM newsletter_exports";

    /// <summary>
    /// The period a new export covers by default: from the day after the last period exported (not after today) to
    /// today, or the last 30 days when nothing was exported yet. LastExported is the end of the last period, if any.
    /// </summary>
    public async Task<(DateOnly From, DateOnly To, DateOnly? LastExported)> GetDefaultPeriodAsync(DateOnly today)
    {
        await using var conn = await db.OpenConnectionAsync();
        var last = await conn.ExecuteScalarAsync<DateTime?>(LastToSql) is { } t ? DateOnly.FromDateTime(t) : (DateOnly?)null;
        var from = last is { } l ? (l < today ? l.AddDays(1) : today) : today.AddDays(-30);
        return (from, today, last);
    }

    public static string Line(ExportItem i) =>
        $"{i.IssuerName} / {i.Title}" + (i.DeadlineDate is { } d ? $" - Jusqu'au {ParisTime.FormatDate(d)}" : "");

    public static string Lines(IReadOnlyList<ExportItem> projects, IReadOnlyList<ExportItem> jobs)
    {
        // Read back, a line under "Appels à projets / AMI" is an AAP unless its title starts with "AMI": an AMI titled
        // otherwise ("Appel à manifestation d'intérêt…", "Repérage des…") goes under a header of its own, so that the
        // import gives it its kind again without changing its title.
        var marked = projects.Where(i => (NewsletterLineParser.KindOfTitle(i.Title) ?? Kinds.Aap) == i.Kind).ToList();
        var amis = projects.Except(marked).ToList();
        var sb = new StringBuilder();
        foreach (var (header, list) in new[] { (ProjectsHeader, marked), (AmiHeader, amis), (JobsHeader, jobs) })
        {
            if (list.Count == 0)
            {
                continue;
            }

            if (sb.Length > 0)
            {
                sb.Append('\n');
            }

            sb.Append(header).Append('\n');
            foreach (var i in list)
            {
                sb.Append(Line(i)).Append('\n');
            }
        }

        return sb.ToString();
    }

    private string Html(IReadOnlyList<ExportItem> projects, IReadOnlyList<ExportItem> jobs)
    {
        static string E(string s) => WebUtility.HtmlEncode(s);
        var sb = new StringBuilder();
        foreach (var (header, list) in new[] { (ProjectsHeader, projects), (JobsHeader, jobs) })
        {
            if (list.Count == 0)
            {
                continue;
            }

            sb.Append($"<h2 style=\"font-family:Arial,sans-serif;font-size:18px;color:#000091;margin:16px 0 8px\">{E(header)}</h2>\n");
            sb.Append("<ul style=\"font-family:Arial,sans-serif;font-size:14px;color:#161616;padding-left:20px;margin:0\">\n");
            foreach (var i in list)
            {
                var link = i.Url ?? settings.Link($"/offres/{i.Id}");
                sb.Append($"<li style=\"margin:0 0 6px\">{E(i.IssuerName)} / <a href=\"{E(link)}\" style=\"color:#000091\">{E(i.Title)}</a>");
                if (i.DeadlineDate is { } d)
                {
                    sb.Append($" - Jusqu'au {ParisTime.FormatDate(d)}");
                }

                sb.Append("</li>\n");
            }

            sb.Append("</ul>\n");
        }

        return sb.ToString();
    }
}
