namespace Opportunites.Web.Mail;

/// <summary>The <c>Smtp</c> settings section (Smtp__Host etc. from the environment; the password never in files).</summary>
public sealed class SmtpSettings
{
    /// <summary>No host: emails are written as .eml files to <see cref="MailSettings.PickupDirectory"/> instead.</summary>
    public string? Host { get; set; }

    public int Port { get; set; } = 25;

    /// <summary>Upgrade with STARTTLS (required when true: a server that does not offer it is an error).</summary>
    public bool StartTls { get; set; }

    /// <summary>TLS from the first byte (port 465, "SMTPS"); wins over <see cref="StartTls"/>.</summary>
    public bool ImplicitTls { get; set; }

    /// <summary>Accept any server certificate (test servers with a self-signed certificate only).</summary>
    public bool AcceptAnyCertificate { get; set; }

    public string? User { get; set; }

    public string? Password { get; set; }

    public string From { get; set; } = "ne-pas-repondre@opportunites.local";

    public string FromName { get; set; } = "Opportunités";

    /// <summary>Where replies go when <see cref="From"/> is a no-reply address (none: no Reply-To header).</summary>
    public string? ReplyTo { get; set; }

    /// <summary>Name announced in EHLO.</summary>
    public string ClientName { get; set; } = "opportunites.local";

    public int TimeoutSeconds { get; set; } = 30;
}

/// <summary>The <c>Mail</c> settings section: how the outbox is delivered.</summary>
public sealed class MailSettings
{
    /// <summary>Pickup mode folder (no Smtp:Host), relative to the content root (the project folder under dotnet run).</summary>
    public string PickupDirectory { get; set; } = "var/mail";

    /// <summary>Attempts before a row is marked failed (4xx replies and connection failures are retried).</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>First retry delay; doubles at each attempt, with ±20 % jitter, capped by <see cref="MaxRetryDelaySeconds"/>.</summary>
    public int RetryBaseSeconds { get; set; } = 60;

    public int MaxRetryDelaySeconds { get; set; } = 6 * 3600;

    /// <summary>SMTP connections kept open and used in parallel by the delivery job.</summary>
    public int Connections { get; set; } = 4;

    /// <summary>Rows claimed per round trip.</summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>Idle connections older than this are closed rather than reused (servers drop idle clients).</summary>
    public int IdleConnectionSeconds { get; set; } = 60;

    /// <summary>Optional DKIM signature of every message (all three keys set, or none).</summary>
    public DkimSettings Dkim { get; set; } = new();

    /// <summary>The delay before retry <paramref name="attempt"/> (1 = after the first failure).</summary>
    public TimeSpan RetryDelay(int attempt, Random random)
    {
        var seconds = RetryBaseSeconds * Math.Pow(2, Math.Clamp(attempt - 1, 0, 30));
        seconds = Math.Min(seconds, MaxRetryDelaySeconds);
        // Jitter spreads retries of a batch that failed together (a server restart) over time.
        seconds *= 0.8 + (random.NextDouble() * 0.4);
        return TimeSpan.FromSeconds(Math.Max(1, seconds));
    }
}

/// <summary>The <c>Mail:Dkim</c> section: the signing domain, the selector published in DNS and the PEM private key.</summary>
public sealed class DkimSettings
{
    public string? Domain { get; set; }

    public string? Selector { get; set; }

    /// <summary>PEM file (PKCS#1 or PKCS#8) of the RSA key whose public half is published at selector._domainkey.domain.</summary>
    public string? PrivateKeyPath { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(Domain) && !string.IsNullOrWhiteSpace(Selector) &&
                           !string.IsNullOrWhiteSpace(PrivateKeyPath);
}
