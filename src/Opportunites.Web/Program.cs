using Opportunites.Web.Accounts;
using Opportunites.Web.Board;
using Opportunites.Web.Cli;
using Opportunites.Web.Data;
using Opportunites.Web.Jobs;
using Opportunites.Web.Mail;
using Opportunites.Web.Shared;

var builder = WebApplication.CreateBuilder(args);

// Listen on 127.0.0.1:5080 unless PORT or ASPNETCORE_URLS/--urls say otherwise.
builder.UseDefaultAddress();

// PostgreSQL (one NpgsqlDataSource), migrations, /healthz.
builder.AddData();

// Public board: list, filters, detail pages.
builder.AddBoard();

// Issuer and admin accounts: cookie authentication, Admin and Issuer policies.
builder.AddAccounts();

// Background jobs on a clustered Quartz (expiry), the mail outbox and its delivery job.
builder.AddJobs();
builder.AddMail();
builder.AddExpiry();

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

if (!app.Environment.IsDevelopment())
{
    app.UseExceptionHandler("/erreur");
}

app.UseStatusCodePagesWithReExecute("/erreur", "?code={0}");
app.UseStaticFiles();
app.UseRouting();
app.UseAuthentication();
app.UseAuthorization();
app.UseAntiforgery();
app.MapRazorPages();
app.MapHealthChecks("/healthz");

app.Run();

/// <summary>Visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
