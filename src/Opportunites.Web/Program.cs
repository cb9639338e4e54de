using Opportunites.Web.Accounts;
using Opportunites.Web.Board;
using Opportunites.Web.Cli;
using Opportunites.Web.Data;
using Opportunites.Web.Demo;
using Opportunites.Web.Jobs;
using Opportunites.Web.Legal;
using Opportunites.Web.Mail;
using Opportunites.Web.Shared;
using Opportunites.Web.Subscriptions;

var builder = WebApplication.CreateBuilder(args);

// Listen on 127.0.0.1:5080 unless PORT or ASPNETCORE_URLS/--urls say otherwise.
builder.UseDefaultAddress();
builder.AddRequestLimits();

// PostgreSQL (one NpgsqlDataSource), migrations, /healthz.
builder.AddData();

// Public board: list, filters, detail pages, API, feeds.
builder.AddBoard();

// Issuer and admin accounts: cookie authentication, Admin and Issuer policies, rate limits, publishing, moderation, import.
builder.AddAccounts();

// Email alerts: subscriptions, digests, deadline reminders, Data Protection keys in PostgreSQL.
builder.AddSubscriptions();
// Background jobs on Hangfire (PostgreSQL storage, any number of nodes): expiry, purge; the mail outbox and its delivery.
builder.AddJobs();
builder.AddMail();
builder.AddExpiry();

// Legal notice, privacy and contact pages (publisher, host, contact address from the Legal section).
builder.AddLegalPages();

builder.Services.AddRazorPages();

// Pages are French: write accented letters as they are instead of &#xE9; entities (still HTML-escaped).
builder.Services.Configure<Microsoft.Extensions.WebEncoders.WebEncoderOptions>(o =>
    o.TextEncoderSettings = new System.Text.Encodings.Web.TextEncoderSettings(System.Text.Unicode.UnicodeRanges.All));

var app = builder.Build();

// Command-line verbs (`migrate`, `demo`) run against the same configuration, then exit.
if (await CommandLine.TryRunAsync(app, args))
{
    return;
}

await app.MigrateDatabaseAsync();
// ./run.sh: demo data on an empty database (Demo__LoadIfEmpty=true), in this process rather than in a second one.
await app.LoadDemoDataIfAskedAsync();

// Errors end on a French page (503 when the database is unreachable), never a stack trace.
if (!app.Environment.IsDevelopment())
{
    app.UseExceptionHandler("/erreur");
}

app.UseSecurityHeaders();

app.UseStatusCodePagesWithReExecute("/erreur", "?code={0}");
app.UseStaticFiles();
app.UseRouting();
app.UseAuthentication();
// Board list pages kept a few seconds for anonymous visitors (after authentication, which decides who is one); a page
// served from it skips the board's queue below.
app.UseOutputCache();
// Rate limits (account forms, alert forms, the board's queue): one middleware for every feature's limiter, 429 in French.
app.UseAccounts();
app.UseAuthorization();
app.UseAntiforgery();
app.MapRazorPages();
// Public board: JSON API with OpenAPI (/openapi/v1.json), RSS, ICS and CSV of any search.
app.MapBoard();
// Benchmark only (Bench:StaticEndpoint=true): a static body of a chosen size, the framework's ceiling.
app.MapStaticBenchEndpoint();
// Hangfire's dashboard at /admin/hangfire, for admins.
app.MapJobsDashboard();
app.MapHealthChecks("/healthz");

app.Run();

/// <summary>Visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
