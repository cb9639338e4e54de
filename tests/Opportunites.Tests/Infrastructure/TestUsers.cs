using System.Net;
using Npgsql;
using Opportunites.Web.Accounts;
using Opportunites.Web.Opportunities;

namespace Opportunites.Tests.Infrastructure;

public sealed record TestUser(long Id, string Email, string Password, string Role, long? IssuerId, string? IssuerName);

/// <summary>Users a test makes for itself (unique address and organisation), and logging an HttpClient in as them.</summary>
public static class TestUsers
{
    public const string Password = "cheval-agrafe-pile-correcte";

    /// <summary>A verified user. An issuer gets its own new organisation unless <paramref name="issuerId"/> is given.</summary>
    public static async Task<TestUser> CreateAsync(NpgsqlDataSource db, string role = Policies.IssuerRole,
        bool trusted = false, long? issuerId = null, string? email = null)
    {
        email ??= $"test-{role}-{Guid.NewGuid():N}@example.org";
        await using var conn = await db.OpenConnectionAsync();
        string? issuerName = null;
        if (role == Policies.IssuerRole && issuerId is null)
        {
            issuerName = TestData.Unique("Organisation test");
            issuerId = await OpportunityStore.GetOrCreateIssuerIdAsync(conn, issuerName, "association");
        }

        if (issuerId is not null)
        {
            await using var cmd = new NpgsqlCommand("UPDATE issuers SET trusted = @t WHERE id = @id RETURNING name", conn);
            cmd.Parameters.AddWithValue("t", trusted);
            cmd.Parameters.AddWithValue("id", issuerId.Value);
            issuerName = (string?)await cmd.ExecuteScalarAsync();
        }

        var id = await AccountStore.InsertAsync(conn, null, email, AccountService.HashPassword(Password), role, issuerId, DateTimeOffset.UtcNow)
            ?? throw new InvalidOperationException("Adresse déjà prise : " + email);
        return new TestUser(id, email, Password, role, issuerId, issuerName);
    }

    /// <summary>Logs the client in through the real login form; the auth cookie stays in the client.</summary>
    public static async Task LoginAsync(HttpClient client, TestUser user)
    {
        var response = await WebForms.PostAsync(client, "/connexion", [WebForms.F("Email", user.Email), WebForms.F("Password", user.Password)]);
        if (response.StatusCode != HttpStatusCode.Redirect)
        {
            throw new InvalidOperationException($"Connexion de {user.Email} refusée : {(int)response.StatusCode}");
        }
    }

    /// <summary>Creates a user with the role and returns a client (no auto-redirect, cookies kept) logged in as them.</summary>
    public static async Task<(HttpClient Client, TestUser User)> LoggedInAsync(Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> app, string role = Policies.IssuerRole,
        bool trusted = false, long? issuerId = null)
    {
        var user = await CreateAsync(SharedDatabase.DataSource, role, trusted, issuerId);
        var client = WebForms.CreateClient(app);
        await LoginAsync(client, user);
        return (client, user);
    }
}
