using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Subscriptions;

namespace Opportunites.Tests.Subscriptions;

/// <summary>The signed tokens of alert links, with the key of a database of this fixture's own.</summary>
public sealed class AlertTokensTests
{
    private PrivateDatabase _db = null!;
    private EphemeralDataProtectionProvider _protection = null!;

    [OneTimeSetUp]
    public async Task CreateAsync()
    {
        _db = await PrivateDatabase.CreateAsync("opportunites_tokens");
        _protection = new EphemeralDataProtectionProvider();
    }

    [OneTimeTearDown]
    public async Task DropAsync() => await _db.DisposeAsync();

    private AlertTokens Tokens() => new(_protection, _db.DataSource);

    [Test]
    public void Create_ThenRead_GivesTheIdForThatPurposeOnly()
    {
        var tokens = Tokens();
        var token = tokens.Create(TokenPurpose.Manage, 123_456_789_012);

        Assert.That(token, Does.Match("^[A-Za-z0-9_-]{43}$"), "short and safe in a URL as it is");
        Assert.That(tokens.Read(TokenPurpose.Manage, token), Is.EqualTo(123_456_789_012));
        Assert.That(Tokens().Read(TokenPurpose.Manage, token), Is.EqualTo(123_456_789_012), "another instance (node) reads it");
        Assert.That(tokens.Read(TokenPurpose.UnsubscribeDigest, token), Is.Null);
        Assert.That(tokens.Read(TokenPurpose.Confirm, token, timeLimited: true), Is.Null);
        Assert.That(tokens.Create(TokenPurpose.Manage, 7), Is.Not.EqualTo(tokens.Create(TokenPurpose.Manage, 8)));
    }

    [Test]
    public void Read_AlteredTruncatedOrMadeUp_IsNull()
    {
        var tokens = Tokens();
        var token = tokens.Create(TokenPurpose.UnsubscribeDigest, 42);
        // Every single character changed, in turn: the id, the expiry and the signature are all covered.
        for (var i = 0; i < token.Length; i++)
        {
            var altered = token[..i] + (token[i] == 'A' ? 'B' : 'A') + token[(i + 1)..];
            Assert.That(tokens.Read(TokenPurpose.UnsubscribeDigest, altered), Is.Null, $"caractère {i}");
        }

        Assert.That(tokens.Read(TokenPurpose.UnsubscribeDigest, token[..^1]), Is.Null);
        Assert.That(tokens.Read(TokenPurpose.UnsubscribeDigest, token + "A"), Is.Null);
        Assert.That(tokens.Read(TokenPurpose.UnsubscribeDigest, new string('A', token.Length)), Is.Null);
        Assert.That(tokens.Read(TokenPurpose.UnsubscribeDigest, "é+/=" + token[4..]), Is.Null);
        Assert.That(tokens.Read(TokenPurpose.UnsubscribeDigest, ""), Is.Null);
        Assert.That(tokens.Read(TokenPurpose.UnsubscribeDigest, null), Is.Null);
        Assert.That(tokens.Read(TokenPurpose.UnsubscribeDigest, "CfDJ8forged"), Is.Null);
    }

    [Test]
    public void Read_TimeLimited_UntilItExpires()
    {
        var tokens = Tokens();
        var valid = tokens.Create(TokenPurpose.Confirm, 9, TimeSpan.FromDays(1));
        var expired = tokens.Create(TokenPurpose.Confirm, 9, TimeSpan.FromSeconds(-2));

        Assert.That(tokens.Read(TokenPurpose.Confirm, valid, timeLimited: true), Is.EqualTo(9));
        Assert.That(tokens.Read(TokenPurpose.Confirm, expired, timeLimited: true), Is.Null);
        Assert.That(tokens.Read(TokenPurpose.Confirm, valid), Is.Null, "a link made to expire is not read as a lasting one");
    }

    [Test]
    public void Read_DataProtectionTokenOfALinkSentBefore_StillRead()
    {
        var legacy = _protection.CreateProtector("Opportunites.Alertes.v1");
        var manage = legacy.CreateProtector(nameof(TokenPurpose.Manage)).Protect("31");
        var confirm = legacy.CreateProtector(nameof(TokenPurpose.Confirm)).ToTimeLimitedDataProtector().Protect("32", TimeSpan.FromDays(1));
        var tokens = Tokens();

        Assert.That(tokens.Read(TokenPurpose.Manage, manage), Is.EqualTo(31));
        Assert.That(tokens.Read(TokenPurpose.UnsubscribeDigest, manage), Is.Null);
        Assert.That(tokens.Read(TokenPurpose.Confirm, confirm, timeLimited: true), Is.EqualTo(32));
    }

    [Test]
    public async Task Read_AfterTheKeyIsReplaced_IsNull()
    {
        var before = Tokens().Create(TokenPurpose.Manage, 5);
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var key = await conn.ExecuteScalarAsync<byte[]>("SELECT secret FROM link_keys WHERE name = 'alertes'");
        Assert.That(key, Has.Length.GreaterThanOrEqualTo(32));
        try
        {
            await conn.ExecuteAsync("UPDATE link_keys SET secret = decode(md5('autre clé') || md5('encore'), 'hex') WHERE name = 'alertes'");

            Assert.That(Tokens().Read(TokenPurpose.Manage, before), Is.Null);
        }
        finally
        {
            await conn.ExecuteAsync("UPDATE link_keys SET secret = @key WHERE name = 'alertes'", new { key });
        }
    }
}
