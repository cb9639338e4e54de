using Dapper;
using Microsoft.AspNetCore.Identity;
using Npgsql;
using Opportunites.Web.Mail;
using Opportunites.Web.Moderation;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Shared;

namespace Opportunites.Web.Accounts;

/// <param name="JoinExisting">The organisation already exists: ask the team to join it (issuer_claims) instead.</param>
public sealed record SignUpInput(string? Email, string? Password, string? OrganisationName, string? OrganisationType,
    bool JoinExisting = false);

public enum LoginOutcome
{
    Success,
    Invalid,
    Unverified,
}

public sealed record LoginResult(LoginOutcome Outcome, UserRecord? User = null);

/// <summary>
/// Account life cycle: sign-up, verification, login check, reset, email change, first admin.
/// Answers never tell whether an address is known: the email says it, the page does not.
/// </summary>
public sealed class AccountService(NpgsqlDataSource db, AccountSettings settings, ILogger<AccountService> log)
{
    private static readonly PasswordHasher<UserRecord> Hasher = new();

    // Checked when the address is unknown, so that a wrong address costs the same time as a wrong password.
    private static readonly string DummyHash = Hasher.HashPassword(new UserRecord(), "pas-un-vrai-mot-de-passe");

    public static string HashPassword(string password) => Hasher.HashPassword(new UserRecord(), password);

    /// <summary>Not a field: set, with the organisation's name, when the name typed is already registered.</summary>
    public const string ExistingOrganisationKey = "ExistingOrganisation";

    /// <summary>Field name → French message; empty when the sign-up was accepted.</summary>
    public async Task<Dictionary<string, string>> SignUpAsync(SignUpInput input)
    {
        var errors = new Dictionary<string, string>();
        if (EmailAddress.Check(input.Email) is { } emailError)
        {
            errors["Email"] = emailError;
        }

        if (PasswordRules.Check(input.Password) is { } passwordError)
        {
            errors["Password"] = passwordError;
        }

        var org = (input.OrganisationName ?? "").Trim();
        if (org.Length is < 2 or > 200)
        {
            errors["OrganisationName"] = "Le nom de l'organisation est obligatoire (2 à 200 caractères).";
        }

        if (!input.JoinExisting && (input.OrganisationType is null || !IssuerTypes.Labels.ContainsKey(input.OrganisationType)))
        {
            errors["OrganisationType"] = "Choisissez le type d'organisation.";
        }

        if (errors.Count > 0)
        {
            return errors;
        }

        var email = EmailAddress.Normalize(input.Email);
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var existing = await AccountStore.GetByEmailAsync(conn, email, tx);
        if (existing is not null)
        {
            // Cost the same time as a new account (its password is hashed below), so timing does not tell either.
            _ = HashPassword(input.Password!);
            // Same page as a new sign-up; the owner of the address learns by email that it already has an account.
            var token = await AccountStore.CreateTokenAsync(conn, tx, existing.Id, Tokens.Reset, Tokens.ResetLifetime);
            await Outbox.EnqueueAsync(conn, tx, AccountEmails.AlreadyRegistered(existing.Email, ResetLink(token)));
            await tx.CommitAsync();
            return errors;
        }

        // An organisation already on the board (accents and case aside) is not handed to whoever types its name: the
        // account asks to join it and an admin decides (moderation page).
        var existingIssuer = await OrganisationService.FindByNameAsync(conn, org, tx);
        if (existingIssuer is not null && !input.JoinExisting)
        {
            errors["OrganisationName"] = $"« {existingIssuer.Name} » est déjà inscrite sur Opportunités. Cochez « Demander à rejoindre "
                + "cette organisation » : l'équipe vérifiera votre demande et vous préviendra par courriel.";
            errors[ExistingOrganisationKey] = existingIssuer.Name;
            return errors;
        }

        if (existingIssuer is null && input.JoinExisting && !IssuerTypes.Labels.ContainsKey(input.OrganisationType ?? ""))
        {
            errors["OrganisationType"] = "Choisissez le type d'organisation.";
            return errors;
        }

        long? issuerId = existingIssuer is null ? await OpportunityStore.GetOrCreateIssuerIdAsync(conn, org, input.OrganisationType!, tx) : null;
        var userId = await AccountStore.InsertAsync(conn, tx, email, HashPassword(input.Password!), Policies.IssuerRole, issuerId, null);
        if (userId is null)
        {
            // Lost a race with the same address: say the same thing as for a new account.
            await tx.RollbackAsync();
            return errors;
        }

        if (existingIssuer is not null)
        {
            await OrganisationService.RequestJoinAsync(conn, tx, userId.Value, email, existingIssuer.Id, existingIssuer.Name);
        }

        var verify = await AccountStore.CreateTokenAsync(conn, tx, userId.Value, Tokens.Verify, Tokens.VerifyLifetime);
        await Outbox.EnqueueAsync(conn, tx, AccountEmails.Verification(email, settings.Link("/compte/verification?jeton=" + verify)));
        await AuditLog.WriteAsync(conn, tx, new Actor(userId, email), "user.signup", "user", userId, $"Organisation : {org}");
        await tx.CommitAsync();
        log.LogInformation("Inscription de {Email} (compte {UserId})", LogMasking.MaskEmail(email), userId);
        return errors;
    }

    private const string MarkVerifiedSql = """
        UPDATE users SET email_verified_at = coalesce(email_verified_at, now()) WHERE id = @userId RETURNING email
        """;

    /// <returns>true when the link was valid (unused, unexpired) and the address is now confirmed.</returns>
    public async Task<bool> VerifyEmailAsync(string? token)
    {
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var use = await AccountStore.ConsumeTokenAsync(conn, tx, token, Tokens.Verify);
        if (use is null)
        {
            return false;
        }

        var email = await conn.ExecuteScalarAsync<string>(MarkVerifiedSql, new { use.UserId }, tx);
        await AuditLog.WriteAsync(conn, tx, new Actor(use.UserId, email), "user.verified", "user", use.UserId);
        await tx.CommitAsync();
        return true;
    }

    public async Task<LoginResult> CheckLoginAsync(string? email, string? password)
    {
        if (string.IsNullOrWhiteSpace(email) || string.IsNullOrEmpty(password) || password.Length > PasswordRules.MaxLength)
        {
            return new LoginResult(LoginOutcome.Invalid);
        }

        await using var conn = await db.OpenConnectionAsync();
        var user = await AccountStore.GetByEmailAsync(conn, email);
        var hash = user?.PasswordHash ?? DummyHash;
        var verdict = Hasher.VerifyHashedPassword(user ?? new UserRecord(), hash, password);
        if (user?.PasswordHash is null || verdict == PasswordVerificationResult.Failed)
        {
            // Repeated failures on one address are what an investigation needs; the address itself is masked.
            log.LogWarning("Connexion refusée pour {Email}", LogMasking.MaskEmail(email));
            return new LoginResult(LoginOutcome.Invalid);
        }

        if (user.EmailVerifiedAt is null)
        {
            return new LoginResult(LoginOutcome.Unverified);
        }

        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
        {
            await conn.ExecuteAsync("UPDATE users SET password_hash = @h WHERE id = @id", new { h = HashPassword(password), id = user.Id });
        }

        await conn.ExecuteAsync("UPDATE users SET last_login_at = now() WHERE id = @id", new { id = user.Id });
        return new LoginResult(LoginOutcome.Success, await AccountStore.GetByIdAsync(conn, user.Id));
    }

    /// <summary>Queues a reset link when the address is known; does nothing visible otherwise.</summary>
    public async Task RequestPasswordResetAsync(string? email)
    {
        if (EmailAddress.Check(email) is not null)
        {
            return;
        }

        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var user = await AccountStore.GetByEmailAsync(conn, EmailAddress.Normalize(email), tx);
        if (user is null)
        {
            return;
        }

        var token = await AccountStore.CreateTokenAsync(conn, tx, user.Id, Tokens.Reset, Tokens.ResetLifetime);
        await Outbox.EnqueueAsync(conn, tx, AccountEmails.PasswordReset(user.Email, ResetLink(token)));
        await tx.CommitAsync();
    }

    public async Task<bool> IsResetTokenValidAsync(string? token)
    {
        await using var conn = await db.OpenConnectionAsync();
        return await AccountStore.IsTokenValidAsync(conn, token, Tokens.Reset);
    }

    private const string SetPasswordSql = """
        UPDATE users SET password_hash = @hash, email_verified_at = coalesce(email_verified_at, now())
        WHERE id = @userId RETURNING email
        """;

    /// <returns>null on success, else a French message (bad password, or invalid/expired/used link).</returns>
    public async Task<string?> ResetPasswordAsync(string? token, string? newPassword)
    {
        if (PasswordRules.Check(newPassword) is { } error)
        {
            return error;
        }

        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var use = await AccountStore.ConsumeTokenAsync(conn, tx, token, Tokens.Reset);
        if (use is null)
        {
            return InvalidLinkMessage;
        }

        // The link came to this mailbox: it proves the address as well.
        var email = await conn.ExecuteScalarAsync<string>(SetPasswordSql, new { use.UserId, hash = HashPassword(newPassword!) }, tx);
        await AccountStore.RevokeTokensAsync(conn, tx, use.UserId, Tokens.Reset);
        await AuditLog.WriteAsync(conn, tx, new Actor(use.UserId, email), "user.password_reset", "user", use.UserId);
        await tx.CommitAsync();
        return null;
    }

    public const string InvalidLinkMessage = "Ce lien n'est plus valable (déjà utilisé ou expiré). Faites une nouvelle demande.";

    /// <returns>Field name → French message; empty when the confirmation link was queued (or silently skipped).</returns>
    public async Task<Dictionary<string, string>> RequestEmailChangeAsync(long userId, string? currentPassword, string? newEmail)
    {
        var errors = new Dictionary<string, string>();
        if (EmailAddress.Check(newEmail) is { } emailError)
        {
            errors["NewEmail"] = emailError;
        }

        await using var conn = await db.OpenConnectionAsync();
        var user = await AccountStore.GetByIdAsync(conn, userId);
        if (user?.PasswordHash is null || string.IsNullOrEmpty(currentPassword)
            || Hasher.VerifyHashedPassword(user, user.PasswordHash, currentPassword) == PasswordVerificationResult.Failed)
        {
            errors["CurrentPassword"] = "Mot de passe actuel incorrect.";
        }

        if (errors.Count > 0)
        {
            return errors;
        }

        var target = EmailAddress.Normalize(newEmail);
        await using var tx = await conn.BeginTransactionAsync();
        // An address used by another account gets no link, and the page says the same: nothing leaks.
        if (await AccountStore.GetByEmailAsync(conn, target, tx) is null)
        {
            var token = await AccountStore.CreateTokenAsync(conn, tx, userId, Tokens.EmailChange, Tokens.EmailChangeLifetime, target);
            await Outbox.EnqueueAsync(conn, tx, AccountEmails.EmailChange(target, settings.Link("/compte/email/confirmation?jeton=" + token)));
        }

        await tx.CommitAsync();
        return errors;
    }

    private const string ChangeEmailSql = """
        UPDATE users SET email = @newEmail, email_verified_at = now()
        WHERE id = @userId AND NOT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower(@newEmail) AND id <> @userId)
        RETURNING email
        """;

    public async Task<bool> ConfirmEmailChangeAsync(string? token)
    {
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var use = await AccountStore.ConsumeTokenAsync(conn, tx, token, Tokens.EmailChange);
        if (use?.NewEmail is null)
        {
            return false;
        }

        var changed = await conn.ExecuteScalarAsync<string?>(ChangeEmailSql, new { use.UserId, use.NewEmail }, tx);
        if (changed is null)
        {
            return false;
        }

        await AuditLog.WriteAsync(conn, tx, new Actor(use.UserId, changed), "user.email_changed", "user", use.UserId, $"Nouvelle adresse : {changed}");
        await tx.CommitAsync();
        return true;
    }

    private const string PromoteSql = "UPDATE users SET role = 'admin' WHERE id = @id";

    /// <summary>Creates (or promotes) an admin; returns a one-time link to choose the password.</summary>
    public async Task<string> CreateAdminAsync(string email)
    {
        if (EmailAddress.Check(email) is { } error)
        {
            throw new ArgumentException(error, nameof(email));
        }

        email = EmailAddress.Normalize(email);
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var id = (await AccountStore.GetByEmailAsync(conn, email, tx))?.Id;
        if (id is { } existing)
        {
            await conn.ExecuteAsync(PromoteSql, new { id = existing }, tx);
        }
        else
        {
            id = await AccountStore.InsertAsync(conn, tx, email, null, Policies.AdminRole, null, null);
        }

        var token = await AccountStore.CreateTokenAsync(conn, tx, id!.Value, Tokens.Reset, Tokens.AdminSetupLifetime);
        await AuditLog.WriteAsync(conn, tx, Actor.CommandLine, "user.admin_created", "user", id, email);
        await tx.CommitAsync();
        return ResetLink(token);
    }

    private string ResetLink(string token) => settings.Link("/reinitialisation?jeton=" + token);
}
