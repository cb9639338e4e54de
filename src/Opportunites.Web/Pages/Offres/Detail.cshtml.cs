using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Text.Unicode;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.WebUtilities;
using Opportunites.Web.Board;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Shared;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Pages.Offres;

/// <summary>/offres/{id}-{slug}: one offer, open or archived; a wrong or missing slug redirects to the canonical URL.</summary>
[EnableRateLimiting(ReadConcurrencyPolicy.Name)]
public sealed partial class DetailModel(BoardQueries board, TerritoryDirectory territories, TimeProvider clock) : PageModel
{
    [GeneratedRegex(@"^(\d{1,18})(?:-(.*))?$")]
    private static partial Regex Key();

    public OpportunityDetail Offer { get; private set; } = null!;
    public bool Closed { get; private set; }
    public string? ClosedOn { get; private set; }
    public string? Countdown { get; private set; }
    public string DescriptionHtml { get; private set; } = "";
    public string? JobPostingJson { get; private set; }
    public DateOnly Today { get; private set; }

    /// <summary>
    /// "← Retour à votre recherche": the board with the search the visitor came from, carried by the list's links as
    /// ?retour= (a bookmark or a shared link keeps it; a Referer would not survive a reload in every browser). Only
    /// the board's own parameters are kept and the path is fixed, so it can never lead off the site.
    /// </summary>
    public string BackLink { get; private set; } = "/offres";

    private static readonly HashSet<string> BoardKeys =
        ["q", "type", "territoire", "portee", "theme", "emetteur", "cloture", "limite", "archives", "tri", "page", "apres", "avant"];

    internal static string BackLinkFrom(string? retour)
    {
        if (string.IsNullOrWhiteSpace(retour) || retour.Length > 2000)
        {
            return "/offres";
        }

        var pairs = QueryHelpers.ParseQuery(retour.TrimStart('?'))
            .Where(kv => BoardKeys.Contains(kv.Key))
            .SelectMany(kv => kv.Value.Select(v => new KeyValuePair<string, string?>(kv.Key, v)));
        return "/offres" + QueryString.Create(pairs).ToString();
    }

    public async Task<IActionResult> OnGetAsync(string? key, CancellationToken ct)
    {
        // A blank segment ("/offres/%20") binds as null.
        if (Key().Match(key ?? "") is not { Success: true } m || !long.TryParse(m.Groups[1].Value, out var id))
        {
            return NotFound();
        }

        var offer = await board.GetDetailAsync(id, ct);
        if (offer is null)
        {
            return NotFound();
        }

        var retour = Request.Query["retour"].ToString();
        if (m.Groups[2].Value != offer.Slug)
        {
            return RedirectPermanent(offer.Path + (retour.Length > 0 ? QueryString.Create("retour", retour).ToString() : ""));
        }

        BackLink = BackLinkFrom(retour);

        var now = clock.GetUtcNow();
        Offer = offer;
        Closed = Deadlines.IsClosed(offer.Status, offer.ClosesAt, now);
        ClosedOn = Closed ? Deadlines.ClosedOn(offer.Status, offer.ClosesAt, offer.ClosedAt, offer.UpdatedAt) : null;
        Today = ParisTime.Today(clock);
        Countdown = Deadlines.Countdown(offer.DeadlineDate, Today, Closed);
        DescriptionHtml = MarkdownRenderer.ToHtml(offer.Description);
        if (offer.Kind == Kinds.Emploi)
        {
            JobPostingJson = JobPosting(offer, BoardEndpoints.BaseUrl(Request), territories.Tree);
        }

        return Page();
    }

    /// <summary>
    /// schema.org JobPosting. System.Text.Json's default encoder escapes &lt; &gt; &amp; and quotes, so issuer text
    /// can never close the script element it is written into.
    /// </summary>
    private static readonly JsonSerializerOptions JsonLdOptions = new()
    {
        // Accented letters as they are; HTML-sensitive characters (< > & ' ") stay \u-escaped.
        Encoder = JavaScriptEncoder.Create(UnicodeRanges.All),
    };

    internal static string JobPosting(OpportunityDetail o, string baseUrl, TerritoryTree tree)
    {
        // Where the job is: its place of work when given, else its territories. A commune gives a full postal address;
        // an EPCI or a département the département (no single postal code fits it); a région or France only those.
        string[] places = o.WorkTerritoryCode is { } work ? [work] : o.TerritoryCodes;
        var data = new Dictionary<string, object?>
        {
            ["@context"] = "https://schema.org/",
            ["@type"] = "JobPosting",
            ["title"] = o.Title,
            ["description"] = MarkdownRenderer.ToHtml(o.Description),
            ["datePosted"] = o.PublishedAt is { } p ? ParisTime.ToParis(new DateTimeOffset(DateTime.SpecifyKind(p, DateTimeKind.Utc))).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : null,
            ["validThrough"] = o.ClosesAt is { } c ? new DateTimeOffset(DateTime.SpecifyKind(c, DateTimeKind.Utc)).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) : null,
            ["hiringOrganization"] = new Dictionary<string, object?> { ["@type"] = "Organization", ["name"] = o.IssuerName },
            ["jobLocation"] = places.Select(c => tree.Get(c)).OfType<TerritoryInfo>().Select(t => new Dictionary<string, object?>
            {
                ["@type"] = "Place",
                ["address"] = Address(t, tree),
            }).ToList(),
            ["employmentType"] = o.ContractType switch
            {
                "cdi" or "fonction_publique_titulaire" => "FULL_TIME",
                "cdd" or "fonction_publique_contractuel" => "TEMPORARY",
                "stage" or "alternance" => "INTERN",
                "service_civique" => "VOLUNTEER",
                _ => "OTHER",
            },
            ["url"] = baseUrl + o.Path,
        };
        return JsonSerializer.Serialize(data, JsonLdOptions);
    }

    private static Dictionary<string, object?> Address(TerritoryInfo t, TerritoryTree tree)
    {
        var address = new Dictionary<string, object?> { ["@type"] = "PostalAddress" };
        switch (t.Level)
        {
            case "commune":
                address["addressLocality"] = t.Name;
                address["postalCode"] = t.PostalCodes.FirstOrDefault();
                address["addressRegion"] = tree.Get(t.RegionCode)?.Name;
                break;
            case "epci" or "departement":
                address["addressRegion"] = tree.Get(t.DepartementCode)?.Name;
                break;
            case "region":
                address["addressRegion"] = t.Name;
                break;
        }

        address["addressCountry"] = "FR";
        return address;
    }

    public static string ContractLabel(string? type) => type switch
    {
        "cdi" => "CDI",
        "cdd" => "CDD",
        "stage" => "Stage",
        "alternance" => "Alternance",
        "service_civique" => "Service civique",
        "fonction_publique_titulaire" => "Fonction publique (titulaire)",
        "fonction_publique_contractuel" => "Fonction publique (contractuel)",
        "autre" => "Autre",
        _ => type ?? "",
    };
}
