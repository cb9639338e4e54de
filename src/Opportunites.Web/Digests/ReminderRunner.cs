using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Opportunites.Web.Mail;
using Opportunites.Web.Shared;
using Opportunites.Web.Subscriptions;

namespace Opportunites.Web.Digests;

public sealed record ReminderRunResult(int Queued, int Purged, TimeSpan Duration);

public sealed class DueReminder
{
    public long ReminderId { get; init; }
    public long SubscriberId { get; init; }
    public string Email { get; init; } = "";
    public long OpportunityId { get; init; }
    public string Title { get; init; } = "";
    public string IssuerName { get; init; } = "";
    public DateOnly DeadlineDate { get; init; }
    public TimeOnly? DeadlineTime { get; init; }
    public int Stage { get; init; }
}

/// <summary>
/// Deadline reminders (J-7, J-1) and the purge of unconfirmed addresses. A reminder is due for the opportunity's
/// current deadline date, so a moved deadline brings its reminders along; an old date's stages are never sent late.
/// </summary>
public sealed class ReminderRunner(NpgsqlDataSource db, SubscriptionService subscriptions, IOptions<AlertSettings> options,
    ILogger<ReminderRunner> log)
{
    // Driven by the open-deadline index: only offers closing within 8 days are looked at.
    // Stage 1 from the day before (a late run still sends it on the day itself); stage 7 from 7 days before,
    // but not once stage 1 is due (no J-7 email the day before the deadline).
    private const string DueSql = """
        SELECT r.id AS reminder_id, s.id AS subscriber_id, s.email, o.id AS opportunity_id, o.title, o.issuer_name,
               o.deadline_date, o.deadline_time, x.stage
        FROM opportunities o
        JOIN deadline_reminders r ON r.opportunity_id = o.id
        JOIN subscribers s ON s.id = r.subscriber_id AND s.confirmed_at IS NOT NULL
        CROSS JOIN LATERAL (SELECT CASE WHEN o.deadline_date - @today <= 1 THEN 1 ELSE 7 END AS stage) x
        WHERE o.status = 'published'
          AND o.deadline_sort > @now AND o.deadline_sort <= @now + interval '8 days'
          AND o.deadline_date - @today BETWEEN 0 AND 7
          AND NOT EXISTS (SELECT 1 FROM reminder_deliveries d
                          WHERE d.reminder_id = r.id AND d.stage = x.stage AND d.deadline_date = o.deadline_date)
          AND (NOT @filtered OR s.id = ANY (@only))
        ORDER BY r.id
        """;

    private const string InsertLedgerSql = """
        INSERT INTO reminder_deliveries (reminder_id, stage, deadline_date) VALUES (@ReminderId, @Stage, @DeadlineDate)
        ON CONFLICT DO NOTHING
        RETURNING reminder_id
        """;

    private const string LinkLedgerSql = """
        UPDATE reminder_deliveries SET outbox_id = @outboxId
        WHERE reminder_id = @ReminderId AND stage = @Stage AND deadline_date = @DeadlineDate
        """;

    private const string PurgeSql = "DELETE FROM subscribers WHERE confirmed_at IS NULL AND created_at < @before";

    public async Task<ReminderRunResult> RunAsync(DateTimeOffset now, IReadOnlyCollection<long>? onlySubscriberIds = null,
        CancellationToken ct = default)
    {
        var started = Stopwatch.GetTimestamp();
        now = now.ToUniversalTime();
        var today = DateOnly.FromDateTime(ParisTime.ToParis(now));
        await using var conn = await db.OpenConnectionAsync(ct);
        var due = (await conn.QueryAsync<DueReminder>(new CommandDefinition(DueSql, new
        {
            now,
            today,
            filtered = onlySubscriberIds is not null,
            only = (onlySubscriberIds ?? []).ToArray(),
        }, cancellationToken: ct))).AsList();

        var queued = 0;
        foreach (var batch in due.Chunk(200))
        {
            await using var tx = await conn.BeginTransactionAsync(ct);
            foreach (var r in batch)
            {
                if (await conn.ExecuteScalarAsync<long?>(new CommandDefinition(InsertLedgerSql, r, tx, cancellationToken: ct)) is null)
                {
                    continue;
                }

                var outboxId = await Outbox.EnqueueAsync(conn, tx, Render(r));
                await conn.ExecuteAsync(new CommandDefinition(LinkLedgerSql,
                    new { outboxId, r.ReminderId, r.Stage, r.DeadlineDate }, tx, cancellationToken: ct));
                queued++;
            }

            await tx.CommitAsync(ct);
        }

        var purged = onlySubscriberIds is null
            ? await conn.ExecuteAsync(new CommandDefinition(PurgeSql, new { before = now - options.Value.UnconfirmedLifetime }, cancellationToken: ct))
            : 0;
        var result = new ReminderRunResult(queued, purged, Stopwatch.GetElapsedTime(started));
        log.LogInformation("Rappels de date limite : {Queued} en file, {Purged} adresse(s) non confirmée(s) effacée(s), {Ms} ms",
            result.Queued, result.Purged, (int)result.Duration.TotalMilliseconds);
        return result;
    }

    /// <summary>Deletes addresses never confirmed within the lifetime (7 days by default).</summary>
    public async Task<int> PurgeUnconfirmedAsync(DateTimeOffset now, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition(PurgeSql,
            new { before = now.ToUniversalTime() - options.Value.UnconfirmedLifetime }, cancellationToken: ct));
    }

    private OutgoingEmail Render(DueReminder r)
    {
        var settings = options.Value;
        var date = ParisTime.FormatDate(r.DeadlineDate);
        var at = r.DeadlineTime is { } t ? $" à {t:HH'h'mm}" : "";
        var subject = r.Stage == 1
            ? $"Dernier jour : « {Short(r.Title)} » se clôture le {date}"
            : $"Rappel : « {Short(r.Title)} » se clôture le {date}";
        var url = settings.Url(OfferLinks.DetailPath(r.OpportunityId, r.Title));
        var unsubscribeUrl = subscriptions.ReminderUnsubscribeUrl(r.ReminderId);
        var manageUrl = subscriptions.ManageUrl(r.SubscriberId);
        var when = r.Stage == 1 ? "C'est bientôt la fin" : "Il reste une semaine";
        var text = $"""
            Bonjour,

            {when} : la date limite de « {r.Title} » ({r.IssuerName}) est le {date}{at}.
            Jusqu'au {date}
            {url}

            Vous recevez ce rappel car vous l'avez demandé sur Opportunités.
            Ne plus recevoir de rappel pour cette offre : {unsubscribeUrl}
            Gérer mes alertes : {manageUrl}
            """;
        var html = MailHtml.Document(subject, $"""
            <p>Bonjour,</p>
            <p>{MailHtml.Encode(when)} : la date limite de <a href="{MailHtml.Encode(url)}"><strong>{MailHtml.Encode(r.Title)}</strong></a>
            ({MailHtml.Encode(r.IssuerName)}) est le {date}{at}.</p>
            <p>Jusqu'au {date}</p>
            <hr>
            <p style="font-size:13px;color:#555">Vous recevez ce rappel car vous l'avez demandé sur Opportunités.<br>
            <a href="{MailHtml.Encode(unsubscribeUrl)}">Ne plus recevoir de rappel pour cette offre</a> ·
            <a href="{MailHtml.Encode(manageUrl)}">Gérer mes alertes</a></p>
            """);
        return new OutgoingEmail("reminder", r.Email, subject, text, html,
            Headers: AlertEmails.UnsubscribeHeaders(unsubscribeUrl),
            DedupeKey: $"reminder:{r.ReminderId}:{r.Stage}:{r.DeadlineDate:yyyy-MM-dd}");
    }

    private static string Short(string title) => title.Length <= 80 ? title : title[..77] + "…";
}
