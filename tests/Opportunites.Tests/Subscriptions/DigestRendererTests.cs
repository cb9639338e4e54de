using System.Text;
using Opportunites.Web.Digests;
using Opportunites.Web.Mail;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Subscriptions;

namespace Opportunites.Tests.Subscriptions;

/// <summary>
/// The digest body as UTF-8 bytes, rendered with builders kept from one body to the next (a run renders thousands).
/// No database: the rendering is a pure function of the offers and settings; the stored and sent bodies are checked by
/// DigestSharedBodyTests and DigestSmtpTests.
/// </summary>
public sealed class DigestRendererTests
{
    private static readonly AlertSettings Settings = new() { BaseUrl = "https://opportunites.test" };

    private static DigestItem Item(long id, string title) => new()
    {
        Id = id,
        Kind = Kinds.Aap,
        Title = title,
        IssuerName = "Fondation Élan Solidarité",
        DeadlineDate = new DateOnly(2026, 12, 15),
        IsNew = true,
        TerritoryLabels = ["Gironde (33)"],
    };

    private static RenderedDigest Render(params DigestItem[] items) =>
        DigestRenderer.Render(new DigestPreferences(["33"], Kinds.All, [], Frequencies.Weekly), new DateOnly(2026, 11, 23),
            items, [], items.Length, 0, Settings);

    [Test]
    public void Render_ManyItemsThenFew_SecondBodyHoldsOnlyItsOwnItems()
    {
        var many = Enumerable.Range(1, 40).Select(i => Item(i, $"Appel à projets n° {i} « été » 😀")).ToArray();
        var big = Render(many);
        var small = Render(Item(99, "Seule offre de la petite veille"));

        Assert.Multiple(() =>
        {
            Assert.That(big.Text, Does.Contain("Appel à projets n° 40 « été » 😀"));
            Assert.That(small.Text, Does.Contain("Seule offre de la petite veille").And.Not.Contain("Appel à projets n° "));
            Assert.That(small.Html, Does.StartWith("<!DOCTYPE html>").And.EndWith("</html>").And.Not.Contain("n° 1 "));
            Assert.That(small.Html.Split("<!DOCTYPE html>").Length, Is.EqualTo(2), "un seul document");
            // The bytes are the body's own, nothing more (no leftover of the larger body), with one marker per offer
            // for its fragment (the offer's lines, shared by every body listing it).
            Assert.That(small.Fragments, Has.Count.EqualTo(1));
            Assert.That(big.Fragments, Has.Count.EqualTo(40));
            var smallHtml = Encoding.UTF8.GetString(small.HtmlUtf8);
            Assert.That(smallHtml, Does.StartWith("<!DOCTYPE html>").And.EndWith("</html>").And.Not.Contain("Seule offre"));
            Assert.That(smallHtml.Split(MailFragment.Marker), Has.Length.EqualTo(2));
            Assert.That(Encoding.UTF8.GetString(small.TextUtf8).Split(MailFragment.Marker), Has.Length.EqualTo(2));
            Assert.That(small.Html.Replace(Encoding.UTF8.GetString(small.Fragments[0].Html), MailFragment.Marker),
                Is.EqualTo(smallHtml));
            Assert.That(Encoding.UTF8.GetString(big.TextUtf8), Does.EndWith("veille d'Opportunités.\n"));
        });
    }

    [Test]
    public void ToUtf8_SurrogatePairSplitBetweenChunks_EncodedWhole()
    {
        // A builder of 4 characters: "😀" (two UTF-16 units) is cut between the first chunk and the next.
        var sb = new StringBuilder(4, 1000).Append("abc").Append("😀 é €").Append(new string('x', 100)).Append("😀");
        var chunks = new List<ReadOnlyMemory<char>>();
        foreach (var chunk in sb.GetChunks())
        {
            chunks.Add(chunk);
        }

        Assert.That(chunks, Has.Count.GreaterThan(1));
        Assert.That(char.IsHighSurrogate(chunks[0].Span[^1]), Is.True, "la paire est bien coupée");

        Assert.That(DigestRenderer.ToUtf8(sb), Is.EqualTo(Encoding.UTF8.GetBytes(sb.ToString())));
    }
}
