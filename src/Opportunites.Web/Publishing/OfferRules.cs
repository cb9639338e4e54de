using Opportunites.Web.Accounts;
using Opportunites.Web.Opportunities;

namespace Opportunites.Web.Publishing;

/// <summary>Who may see and change an offer, and which status each action leads to.</summary>
public static class OfferRules
{
    /// <summary>An issuer manages only its own organisation's offers; an admin manages every offer.</summary>
    public static bool CanManage(CurrentUser? user, long offerIssuerId) =>
        user is not null && (user.IsAdmin || (user.Role == Policies.IssuerRole && user.IssuerId == offerIssuerId));

    /// <summary>Only admins and issuers with an organisation create offers in the issuer space.</summary>
    public static bool CanCreate(CurrentUser? user) => user?.Role == Policies.IssuerRole && user.IssuerId is not null;

    /// <summary>A new organisation's offers wait for moderation; trusted organisations and admins publish at once.</summary>
    public static string StatusOnSubmit(CurrentUser user, bool issuerTrusted) =>
        user.IsAdmin || issuerTrusted ? Statuses.Published : Statuses.Pending;

    /// <summary>
    /// Issue 21 decision: an edit of a published offer by a non-trusted organisation waits for moderation as a whole
    /// (no "minor field" exception), while the published version stays public; trusted organisations and admins apply it.
    /// </summary>
    public static bool EditWaitsForModeration(CurrentUser user, bool issuerTrusted) => !user.IsAdmin && !issuerTrusted;

    /// <summary>What the issuer sees: a published offer past its deadline is expired even before the nightly sweep.</summary>
    public static string EffectiveStatus(string status, DateTime? closesAt, DateTimeOffset now) =>
        status == Statuses.Published && closesAt is { } c && c <= now.UtcDateTime ? Statuses.Expired : status;

    public static bool CanClose(string effectiveStatus) => effectiveStatus is Statuses.Published or Statuses.Pending;

    public static bool CanReopen(string effectiveStatus) => effectiveStatus is Statuses.Closed or Statuses.Expired;

    /// <summary>Only admins publish from the queue, reject, or take an offer off the board.</summary>
    public static bool CanModerate(CurrentUser? user) => user?.IsAdmin == true;
}
