namespace Opportunites.Web.Subscriptions;

/// <summary>Settings of email alerts (section "Alertes"); the public address comes from Site:BaseUrl.</summary>
public sealed class AlertSettings
{
    /// <summary>Absolute base of every link in emails (http or https, no trailing slash).</summary>
    public string BaseUrl { get; set; } = "http://127.0.0.1:5080";

    /// <summary>Subscription form posts allowed per client address and window (the rest get a French 429).</summary>
    public int FormPermitLimit { get; set; } = 10;

    public TimeSpan FormWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>At most one confirmation email per address within this delay.</summary>
    public TimeSpan ConfirmationResendDelay { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Unconfirmed addresses are deleted after this delay.</summary>
    public TimeSpan UnconfirmedLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>A first digest covers this much time before it.</summary>
    public TimeSpan FirstDigestLookback { get; set; } = TimeSpan.FromDays(7);

    /// <summary>A digest's window ends this long before its run (publications still being committed go to the next one).</summary>
    public TimeSpan PublicationSettleDelay { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Open opportunities closing within this delay are listed under "Clôture imminente".</summary>
    public TimeSpan ClosingSoonWindow { get; set; } = TimeSpan.FromDays(14);

    /// <summary>Items shown per section of a digest; the board link shows the rest.</summary>
    public int MaxItemsPerSection { get; set; } = 40;

    /// <summary>
    /// Subscribers written per transaction by the digest run. Two batches are alive at once (one written, one rendered),
    /// each with its groups' bodies as .NET strings: at commune level, 100,000 subscribers, 200 peaked at 300 MB RSS and
    /// 100 at 274 MB, with a higher rate (docs/benchmarks.md, 04/12).
    /// </summary>
    public int DigestBatchSize { get; set; } = 100;

    /// <summary>Due subscribers fetched at a time from the digest run's cursor.</summary>
    public int DigestFetchSize { get; set; } = 1000;

    public string Url(string pathAndQuery) => BaseUrl.TrimEnd('/') + pathAndQuery;
}
