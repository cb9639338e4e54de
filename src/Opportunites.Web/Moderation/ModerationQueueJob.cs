using System.Net;
using System.Text;
using Dapper;
using Npgsql;
using Opportunites.Web.Accounts;
using Opportunites.Web.Jobs;
using Opportunites.Web.Mail;
using Opportunites.Web.Shared;

namespace Opportunites.Web.Moderation;

/// <summary>
/// Once a day, when something waits (new or reopened offers, edits of published ones, requests to join an
/// organisation), one email to each admin summarising the queue. At most one a day per admin: the outbox's dedupe key
/// holds the Paris date, so a second run the same day (manual, or another node) queues nothing.
/// </summary>
public sealed class ModerationQueueJob(NpgsqlDataSource db, AccountSettings settings, TimeProvider clock) : IClusteredJob
{
    public const string Name = "file-moderation";

    /// <summary>Every day at 9:00, Paris time.</summary>
    public const string DefaultCron = "0 0 9 * * ?";

    private const int ListedMax = 20;

    // Same three sources as the moderation page: pending offers (partial index), revisions and claims (small tables).
    private const string WaitingSql = """
        SELECT kind, title, since FROM (
          SELECT 'Nouvelle ou rouverte' AS kind, o.title, o.updated_at AS since FROM opportunities o WHERE o.status = 'pending'
          UNION ALL
          SELECT 'Modifiée après publication', o.title, r.submitted_at
          FROM opportunity_revisions r JOIN opportunities o ON o.id = r.opportunity_id WHERE o.status = 'published'
          UNION ALL
          SELECT 'Demande de rattachement', u.email || ' → ' || i.name, c.created_at
          FROM issuer_claims c JOIN users u ON u.id = c.user_id JOIN issuers i ON i.id = c.issuer_id WHERE c.status = 'pending'
        ) w
        ORDER BY since
        """;

    private const string AdminsSql = """
        SELECT id, email FROM users WHERE role = 'admin' AND email_verified_at IS NOT NULL ORDER BY id
        """;

    private sealed record Waiting(string Kind, string Title, DateTime Since);

    private sealed record Admin(long Id, string Email);

    public async Task<IReadOnlyDictionary<string, int>> RunAsync(JobRunContext context, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var waiting = (await conn.QueryAsync<Waiting>(new CommandDefinition(WaitingSql, transaction: tx, cancellationToken: ct))).AsList();
        var queued = 0;
        if (waiting.Count > 0)
        {
            var day = ParisTime.Today(clock);
            foreach (var admin in await conn.QueryAsync<Admin>(new CommandDefinition(AdminsSql, transaction: tx, cancellationToken: ct)))
            {
                var email = Render(admin.Email, waiting, settings.Link("/admin/moderation")) with
                {
                    DedupeKey = $"moderation-queue:{day:yyyy-MM-dd}:{admin.Id}",
                };
                queued += await Outbox.EnqueueAsync(conn, tx, email) is null ? 0 : 1;
            }
        }

        await tx.CommitAsync(ct);
        return new Dictionary<string, int> { ["en_attente"] = waiting.Count, ["courriels"] = queued };
    }

    private static OutgoingEmail Render(string to, IReadOnlyList<Waiting> waiting, string link)
    {
        var subject = waiting.Count == 1 ? "1 élément attend la modération" : $"{waiting.Count} éléments attendent la modération";
        var text = new StringBuilder("Bonjour,\n\nCe qui attend une décision sur Opportunités :\n\n");
        var html = new StringBuilder("<!DOCTYPE html><html lang=\"fr\"><body style=\"font-family:Arial,sans-serif;color:#161616\">"
            + "<p>Bonjour,</p><p>Ce qui attend une décision sur Opportunités :</p><ul>");
        foreach (var w in waiting.Take(ListedMax))
        {
            var since = ParisTime.FormatDate(new DateTimeOffset(DateTime.SpecifyKind(w.Since, DateTimeKind.Utc)));
            text.Append($"- {w.Kind} : {w.Title} (depuis le {since})\n");
            html.Append($"<li>{WebUtility.HtmlEncode(w.Kind)} : {WebUtility.HtmlEncode(w.Title)} (depuis le {since})</li>");
        }

        if (waiting.Count > ListedMax)
        {
            text.Append($"- et {waiting.Count - ListedMax} autre(s)\n");
            html.Append($"<li>et {waiting.Count - ListedMax} autre(s)</li>");
        }

        text.Append($"\nFile de modération : {link}\n\nUn seul courriel par jour au plus, envoyé seulement quand quelque chose attend.\n\n— Opportunités\n");
        html.Append($"</ul><p><a href=\"{WebUtility.HtmlEncode(link)}\">Ouvrir la file de modération</a></p>"
            + "<p style=\"color:#3a3a3a\">Un seul courriel par jour au plus, envoyé seulement quand quelque chose attend.</p>"
            + "<p>— Opportunités</p></body></html>");
        return new OutgoingEmail("moderation_queue", to, subject, text.ToString(), html.ToString());
    }
}
