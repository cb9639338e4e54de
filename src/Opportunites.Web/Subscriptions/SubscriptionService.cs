using System.Net.Mail;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Opportunites.Web.Mail;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Shared;

namespace Opportunites.Web.Subscriptions;

/// <summary>What happened to a subscription request; the page shows the same answer whatever it is (no enumeration).</summary>
/// <summary>What a confirmation link does: <c>Confirmed</c> (or would confirm, for a GET), already used, or invalid.</summary>
public enum ConfirmOutcome
{
    Confirmed,
    AlreadyConfirmed,
    Invalid,
}

/// <param name="SubscriberId">Set when this call confirmed the address.</param>
public readonly record struct ConfirmResult(ConfirmOutcome Outcome, long? SubscriberId);

public enum SubscribeOutcome
{
    ConfirmationSent,
    ConfirmationThrottled,
    AlreadySubscribedNotice,
    DigestStarted,
}

public sealed class ManagedReminder
{
    public long Id { get; init; }
    public long OpportunityId { get; init; }
    public string Title { get; init; } = "";
    public DateOnly? DeadlineDate { get; init; }
}

/// <summary>What the manage page shows: the address, its digest preferences (if any) and its reminders.</summary>
public sealed class ManagedSubscriber
{
    public long Id { get; init; }
    public string Email { get; init; } = "";
    public DateTime? ConfirmedAt { get; init; }
    public string[]? TerritoryCodes { get; init; }
    public string[]? Kinds { get; init; }
    public string[]? Themes { get; init; }
    public string? Frequency { get; init; }
    public DateTime? PausedAt { get; init; }
    public bool IncludeWider { get; init; } = true;
    public IReadOnlyList<ManagedReminder> Reminders { get; set; } = [];

    public bool HasDigest => TerritoryCodes is not null;
}

/// <summary>Subscribe, confirm, manage, unsubscribe: every rule of email alerts outside of the jobs.</summary>
public sealed class SubscriptionService(
    NpgsqlDataSource db, AlertTokens tokens, AlertCatalog catalog, IOptions<AlertSettings> options, TimeProvider clock,
    ILogger<SubscriptionService> log)
{
    private AlertSettings Settings => options.Value;

    /// <returns>The address lower-cased and trimmed, or null when it is not a plausible email address.</returns>
    public static string? NormalizeEmail(string? email)
    {
        var e = email?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(e) || e.Length > 254 || e.Any(char.IsWhiteSpace) || !MailAddress.TryCreate(e, out var parsed)
            || parsed.Address != e || !e.Split('@')[1].Contains('.'))
        {
            return null;
        }

        return e;
    }

    // Unconfirmed: the new request replaces consent and preferences. Confirmed: consent stays as it was.
    // The row lock taken by ON CONFLICT serialises two requests for the same address.
    private const string UpsertSubscriberSql = """
        INSERT INTO subscribers (email, consent_at, consent_ip) VALUES (@email, @now, @ip)
        ON CONFLICT (email) DO UPDATE
          SET consent_at = CASE WHEN subscribers.confirmed_at IS NULL THEN excluded.consent_at ELSE subscribers.consent_at END,
              consent_ip = CASE WHEN subscribers.confirmed_at IS NULL THEN excluded.consent_ip ELSE subscribers.consent_ip END
        RETURNING id, confirmed_at, last_confirmation_sent_at,
                  EXISTS (SELECT 1 FROM digest_subscriptions d WHERE d.subscriber_id = subscribers.id) AS has_digest
        """;

    private sealed class UpsertedSubscriber
    {
        public long Id { get; init; }
        public DateTime? ConfirmedAt { get; init; }
        public DateTime? LastConfirmationSentAt { get; init; }
        public bool HasDigest { get; init; }
    }

    private const string UpsertDigestSql = """
        INSERT INTO digest_subscriptions (subscriber_id, territory_codes, kinds, themes, frequency, include_wider, created_at, updated_at)
        VALUES (@id, @territories, @kinds, @themes, @frequency, @includeWider, @now, @now)
        ON CONFLICT (subscriber_id) DO UPDATE
          SET territory_codes = excluded.territory_codes, kinds = excluded.kinds, themes = excluded.themes,
              frequency = excluded.frequency, include_wider = excluded.include_wider, updated_at = excluded.updated_at
        """;

    private const string MarkConfirmationSentSql = "UPDATE subscribers SET last_confirmation_sent_at = @now WHERE id = @id";

    /// <summary>
    /// Records the request and queues the one email it calls for, in one transaction. Prefs must be valid
    /// (see <see cref="AlertCatalog.ValidateAsync"/>) and the email normalised.
    /// </summary>
    public async Task<SubscribeOutcome> SubscribeAsync(string email, DigestPreferences prefs, string? ip, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        var summary = await SummaryAsync(prefs, ct);
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var s = await conn.QuerySingleAsync<UpsertedSubscriber>(new CommandDefinition(UpsertSubscriberSql,
            new { email, now, ip = Truncate(ip) }, tx, cancellationToken: ct));

        SubscribeOutcome outcome;
        if (s.ConfirmedAt is null)
        {
            await conn.ExecuteAsync(new CommandDefinition(UpsertDigestSql, PrefsArgs(s.Id, prefs, now), tx, cancellationToken: ct));
            outcome = await SendConfirmationAsync(conn, tx, s.Id, email, s.LastConfirmationSentAt, summary, now);
        }
        else if (!s.HasDigest)
        {
            // The address is proven (e.g. by a reminder): the digest starts, and the owner is told how to stop it.
            await conn.ExecuteAsync(new CommandDefinition(UpsertDigestSql, PrefsArgs(s.Id, prefs, now), tx, cancellationToken: ct));
            await Outbox.EnqueueAsync(conn, tx, AlertEmails.DigestStarted(email, summary, ManageUrl(s.Id), DigestUnsubscribeUrl(s.Id)));
            outcome = SubscribeOutcome.DigestStarted;
        }
        else if (IsThrottled(s.LastConfirmationSentAt, now))
        {
            outcome = SubscribeOutcome.ConfirmationThrottled;
        }
        else
        {
            await Outbox.EnqueueAsync(conn, tx, AlertEmails.AlreadySubscribed(email, ManageUrl(s.Id)));
            await conn.ExecuteAsync(new CommandDefinition(MarkConfirmationSentSql, new { id = s.Id, now }, tx, cancellationToken: ct));
            outcome = SubscribeOutcome.AlreadySubscribedNotice;
        }

        await tx.CommitAsync(ct);
        log.LogInformation("Demande de veille pour {Email} : {Outcome}", LogMasking.MaskEmail(email), outcome);
        return outcome;
    }

    private async Task<SubscribeOutcome> SendConfirmationAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long id, string email,
        DateTime? lastSent, string summary, DateTimeOffset now)
    {
        if (IsThrottled(lastSent, now))
        {
            return SubscribeOutcome.ConfirmationThrottled;
        }

        var token = tokens.Create(TokenPurpose.Confirm, id, Settings.UnconfirmedLifetime);
        await Outbox.EnqueueAsync(conn, tx, AlertEmails.Confirmation(email, Settings.Url("/alertes/confirmer?jeton=" + token), summary));
        await conn.ExecuteAsync(new CommandDefinition(MarkConfirmationSentSql, new { id, now }, tx));
        return SubscribeOutcome.ConfirmationSent;
    }

    private const string LastConfirmationSentSql = "SELECT last_confirmation_sent_at FROM subscribers WHERE email = @email";

    /// <summary>
    /// When another email can be sent to this address (after <see cref="SubscribeOutcome.ConfirmationThrottled"/>),
    /// so that the page says so instead of pretending one was just sent; null when one can be sent now.
    /// </summary>
    public async Task<DateTimeOffset?> NextConfirmationAtAsync(string email, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var last = await conn.ExecuteScalarAsync<DateTime?>(new CommandDefinition(LastConfirmationSentSql, new { email }, cancellationToken: ct));
        return IsThrottled(last, clock.GetUtcNow()) ? new DateTimeOffset(last!.Value, TimeSpan.Zero) + Settings.ConfirmationResendDelay : null;
    }

    private bool IsThrottled(DateTime? lastSent, DateTimeOffset now) =>
        lastSent is { } l && new DateTimeOffset(l, TimeSpan.Zero) > now - Settings.ConfirmationResendDelay;

    // Single use: only an unconfirmed address is confirmed; a link used again says so, without the manage link (anyone
    // holding an old confirmation email could otherwise manage the alert). The owner gets that link in every digest,
    // or by email when subscribing again. Two clicks at once: the second waits for the first's row and finds it done.
    private const string ConfirmSql = """
        WITH confirmed AS (
          UPDATE subscribers SET confirmed_at = @now, confirmed_ip = @ip
          WHERE id = @id AND confirmed_at IS NULL
          RETURNING id)
        SELECT (SELECT id FROM confirmed) AS confirmed_id, EXISTS (SELECT 1 FROM subscribers WHERE id = @id) AS known
        """;

    private const string ConfirmationStateSql = "SELECT confirmed_at IS NOT NULL FROM subscribers WHERE id = @id";

    /// <summary>Confirms the address the link names, once.</summary>
    public async Task<ConfirmResult> ConfirmAsync(string? token, string? ip, CancellationToken ct = default)
    {
        if (tokens.Read(TokenPurpose.Confirm, token, timeLimited: true) is not { } id)
        {
            return new ConfirmResult(ConfirmOutcome.Invalid, null);
        }

        await using var conn = await db.OpenConnectionAsync(ct);
        var (confirmedId, known) = await conn.QuerySingleAsync<(long?, bool)>(new CommandDefinition(ConfirmSql,
            new { id, now = clock.GetUtcNow(), ip = Truncate(ip) }, cancellationToken: ct));
        return confirmedId is { } sid ? new ConfirmResult(ConfirmOutcome.Confirmed, sid)
            : new ConfirmResult(known ? ConfirmOutcome.AlreadyConfirmed : ConfirmOutcome.Invalid, null);
    }

    /// <summary>What a confirmation link would do now (the GET shows a button or says it was used), without confirming.</summary>
    public async Task<ConfirmOutcome> ConfirmationStateAsync(string? token, CancellationToken ct = default)
    {
        if (tokens.Read(TokenPurpose.Confirm, token, timeLimited: true) is not { } id)
        {
            return ConfirmOutcome.Invalid;
        }

        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<bool?>(new CommandDefinition(ConfirmationStateSql, new { id }, cancellationToken: ct)) switch
        {
            null => ConfirmOutcome.Invalid,
            true => ConfirmOutcome.AlreadyConfirmed,
            false => ConfirmOutcome.Confirmed,
        };
    }

    private const string GetManagedSql = """
        SELECT s.id, s.email, s.confirmed_at, d.territory_codes, d.kinds, d.themes, d.frequency, d.paused_at,
               coalesce(d.include_wider, true) AS include_wider
        FROM subscribers s LEFT JOIN digest_subscriptions d ON d.subscriber_id = s.id
        WHERE s.id = @id;
        SELECT r.id, o.id AS opportunity_id, o.title, o.deadline_date
        FROM deadline_reminders r JOIN opportunities o ON o.id = r.opportunity_id
        WHERE r.subscriber_id = @id
        ORDER BY o.deadline_sort, o.id;
        """;

    public async Task<ManagedSubscriber?> GetManagedAsync(long id, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        using var grid = await conn.QueryMultipleAsync(new CommandDefinition(GetManagedSql, new { id }, cancellationToken: ct));
        var s = await grid.ReadSingleOrDefaultAsync<ManagedSubscriber>();
        if (s is not null)
        {
            s.Reminders = (await grid.ReadAsync<ManagedReminder>()).AsList();
        }

        return s;
    }

    /// <summary>Saves the digest preferences from the manage page (creating the digest again if it was stopped).</summary>
    public async Task<bool> SavePreferencesAsync(long id, DigestPreferences prefs, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        try
        {
            await conn.ExecuteAsync(new CommandDefinition(UpsertDigestSql, PrefsArgs(id, prefs, clock.GetUtcNow()), cancellationToken: ct));
            return true;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation)
        {
            return false;
        }
    }

    private const string SetPausedSql = """
        UPDATE digest_subscriptions SET paused_at = CASE WHEN @paused THEN coalesce(paused_at, @now) END, updated_at = @now
        WHERE subscriber_id = @id
        """;

    public async Task<bool> SetPausedAsync(long id, bool paused, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.ExecuteAsync(new CommandDefinition(SetPausedSql, new { id, paused, now = clock.GetUtcNow() }, cancellationToken: ct)) > 0;
    }

    // Really deleted: the subscriber row cascades to preferences, reminders and both ledgers; the alert emails
    // still holding the address in the outbox go too.
    private const string DeleteEverythingSql = """
        WITH s AS (DELETE FROM subscribers WHERE id = @id RETURNING email)
        DELETE FROM outbox o USING s
        WHERE lower(o.to_address) = s.email AND o.category IN ('alert_confirmation', 'alert_notice', 'digest', 'reminder')
        """;

    private const string ExistsSql = "SELECT EXISTS (SELECT 1 FROM subscribers WHERE id = @id)";

    public async Task<bool> DeleteEverythingAsync(long id, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var existed = await conn.ExecuteScalarAsync<bool>(new CommandDefinition(ExistsSql, new { id }, tx, cancellationToken: ct));
        await conn.ExecuteAsync(new CommandDefinition(DeleteEverythingSql, new { id }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return existed;
    }

    // A subscriber left with neither digest nor reminder has no reason to be kept.
    private const string DeleteIfUnusedSql = """
        DELETE FROM subscribers s
        WHERE s.id = @id
          AND NOT EXISTS (SELECT 1 FROM digest_subscriptions d WHERE d.subscriber_id = s.id)
          AND NOT EXISTS (SELECT 1 FROM deadline_reminders r WHERE r.subscriber_id = s.id)
        """;

    private const string DeleteDigestSql = "DELETE FROM digest_subscriptions WHERE subscriber_id = @id";

    /// <summary>RFC 8058 one-click: stops the digest at once.</summary>
    /// <returns>false when the link names nothing (already unsubscribed or deleted).</returns>
    public async Task<bool> UnsubscribeDigestAsync(long id, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var n = await conn.ExecuteAsync(new CommandDefinition(DeleteDigestSql, new { id }, tx, cancellationToken: ct));
        await conn.ExecuteAsync(new CommandDefinition(DeleteIfUnusedSql, new { id }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return n > 0;
    }

    private const string HasDigestSql = "SELECT EXISTS (SELECT 1 FROM digest_subscriptions WHERE subscriber_id = @id)";

    private const string HasReminderSql = "SELECT EXISTS (SELECT 1 FROM deadline_reminders WHERE id = @id)";

    /// <summary>Whether an unsubscribe link still names something to stop: the subscriber's digest, or that reminder.</summary>
    public async Task<bool> HasSubscriptionAsync(long id, bool reminder, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<bool>(new CommandDefinition(reminder ? HasReminderSql : HasDigestSql, new { id },
            cancellationToken: ct));
    }

    private const string DeleteReminderSql = "DELETE FROM deadline_reminders WHERE id = @id RETURNING subscriber_id";

    /// <summary>One-click: stops one deadline reminder.</summary>
    public async Task<bool> UnsubscribeReminderAsync(long reminderId, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var subscriberId = await conn.ExecuteScalarAsync<long?>(new CommandDefinition(DeleteReminderSql, new { id = reminderId }, tx, cancellationToken: ct));
        if (subscriberId is { } sid)
        {
            await conn.ExecuteAsync(new CommandDefinition(DeleteIfUnusedSql, new { id = sid }, tx, cancellationToken: ct));
        }

        await tx.CommitAsync(ct);
        return subscriberId is not null;
    }

    private const string ReminderTargetSql = """
        SELECT o.title, o.deadline_date FROM opportunities o
        WHERE o.id = @opportunityId AND o.status = 'published' AND o.deadline_date IS NOT NULL AND o.closes_at > @now
        """;

    private const string InsertReminderSql = """
        INSERT INTO deadline_reminders (subscriber_id, opportunity_id, created_at) VALUES (@subscriberId, @opportunityId, @now)
        ON CONFLICT (subscriber_id, opportunity_id) DO NOTHING
        """;

    /// <returns>null when done (same answer whether the address is known or not), or a French error.</returns>
    public async Task<string?> RequestReminderAsync(string email, long opportunityId, string? ip, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var target = await conn.QuerySingleOrDefaultAsync<(string Title, DateOnly Deadline)?>(new CommandDefinition(ReminderTargetSql,
            new { opportunityId, now }, tx, cancellationToken: ct));
        if (target is not { } found)
        {
            return "Cette offre n'a pas de date limite à venir : aucun rappel n'est possible.";
        }

        // The reminder job runs in the morning: on the deadline day itself a reminder would come too late, if at all.
        if (found.Deadline <= ParisTime.Today(clock))
        {
            return "La date limite de cette offre est aujourd'hui : il est trop tard pour un rappel.";
        }

        var s = await conn.QuerySingleAsync<UpsertedSubscriber>(new CommandDefinition(UpsertSubscriberSql,
            new { email, now, ip = Truncate(ip) }, tx, cancellationToken: ct));
        await conn.ExecuteAsync(new CommandDefinition(InsertReminderSql, new { subscriberId = s.Id, opportunityId, now }, tx, cancellationToken: ct));
        if (s.ConfirmedAt is null)
        {
            await SendConfirmationAsync(conn, tx, s.Id, email, s.LastConfirmationSentAt,
                $"Rappel de la date limite de « {found.Title} » (7 jours avant et la veille).", now);
        }

        await tx.CommitAsync(ct);
        return null;
    }

    public string ManageUrl(long subscriberId) => Settings.Url("/alertes/gerer?jeton=" + tokens.Create(TokenPurpose.Manage, subscriberId));

    public string DigestUnsubscribeUrl(long subscriberId) =>
        Settings.Url("/alertes/desinscription?jeton=" + tokens.Create(TokenPurpose.UnsubscribeDigest, subscriberId));

    public string ReminderUnsubscribeUrl(long reminderId) =>
        Settings.Url("/alertes/desinscription?rappel=" + tokens.Create(TokenPurpose.UnsubscribeReminder, reminderId));

    /// <summary>"Veille hebdomadaire : Gironde ; types : AAP, AMI ; thèmes : tous" for emails and pages.</summary>
    public async Task<string> SummaryAsync(DigestPreferences prefs, CancellationToken ct = default)
    {
        var territories = await catalog.TerritoryNamesAsync(prefs.TerritoryCodes, ct);
        var themes = prefs.Themes.Count == 0
            ? "tous"
            : string.Join(", ", (await catalog.GetThemesAsync(ct)).Where(t => prefs.Themes.Contains(t.Code)).Select(t => t.Label));
        var scope = prefs.IncludeWider ? "avec les offres régionales et nationales" : "seulement ces territoires et ce qu'ils contiennent";
        return $"Veille {Frequencies.Label(prefs.Frequency).ToLower(ParisTime.French)} sur : {territories} ({scope})\n"
            + $"Types d'offre : {string.Join(", ", prefs.Kinds.Select(Kinds.LongLabel))}\n"
            + $"Thèmes : {themes}";
    }

    private static object PrefsArgs(long id, DigestPreferences p, DateTimeOffset now) => new
    {
        id,
        territories = p.TerritoryCodes.ToArray(),
        kinds = p.Kinds.ToArray(),
        themes = p.Themes.ToArray(),
        frequency = p.Frequency,
        includeWider = p.IncludeWider,
        now,
    };

    private static string? Truncate(string? ip) => ip is { Length: > 64 } ? ip[..64] : ip;
}
