using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Shared;
using static Microsoft.Playwright.Assertions;

namespace Opportunites.Tests.Browser;

/// <summary>The board's list and detail pages in a real browser: axe-core (RGAA / WCAG 2.1 AA) and phone layout.</summary>
public sealed class BoardPagesBrowserTests : BrowserTest
{
    private static DateOnly Today => ParisTime.Today(TimeProvider.System);

    [Test]
    public async Task List_WithFiltersApplied_HasNoSeriousAccessibilityViolation()
    {
        // One row per badge the list can show: J-n, far deadline (none), closed.
        var word = UniqueWord();
        string[] titles = [$"AAP insertion des jeunes {word}", $"AMI insertion par l'activité économique {word}", $"AAP insertion clos {word}"];
        await CreateAsync(titles[0], Kinds.Aap, Today.AddDays(2));
        await CreateAsync(titles[1], Kinds.Ami, Today.AddDays(20));
        await CreateAsync(titles[2], Kinds.Aap, Today.AddDays(-3));

        var response = await Page.GotoAsync(
            $"/offres?q={word}&type=aap&type=ami&territoire=Gironde&tri=recent&archives=1&limite=31/12/2099");

        Assert.That(response?.Status, Is.EqualTo(200));
        await Expect(Page).ToHaveTitleAsync($"Appels à projets et appels à manifestation d'intérêt en Gironde · « {word} » · archives comprises — Opportunités");
        foreach (var title in titles)
        {
            await Expect(Page.GetByRole(AriaRole.Link, new() { Name = title })).ToBeVisibleAsync();
        }

        await AssertNoSeriousAxeViolationsAsync(Page, "liste filtrée");
    }

    [Test]
    public async Task List_WithValidationErrors_Answers400AndHasNoSeriousAccessibilityViolation()
    {
        var response = await Page.GotoAsync("/offres?page=-1&territoire=Gironnde&limite=31/02/2026&cloture=9");

        Assert.That(response?.Status, Is.EqualTo(400));
        await Expect(Page).ToHaveTitleAsync(new Regex("^Erreur : "));
        var summary = Page.GetByRole(AriaRole.Alert);
        await Expect(summary).ToContainTextAsync("La recherche n'a pas pu être lancée");
        await Expect(summary).ToContainTextAsync("numéro de page");
        // Each invalid field says so and reads its own message when focused.
        var territory = TerritoryCombobox.Field(Page, "Territoires");
        await Expect(territory).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(territory).ToHaveAccessibleDescriptionAsync(new Regex("Territoire à préciser : choisissez-le ci-dessous"));
        // A misspelt name offers the close ones to choose from, never a dead end.
        await Expect(Page.GetByRole(AriaRole.Checkbox, new() { Name = "Gironde (33)", Exact = false })).ToBeVisibleAsync();
        await Expect(Page.GetByLabel("Clôture")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(Page.GetByLabel("Clôture")).ToHaveAccessibleDescriptionAsync(new Regex("7 ou 30 jours"));
        // Every link of the summary leads to a field on the page (the page number has no field: no link).
        var targets = await summary.GetByRole(AriaRole.Link).EvaluateAllAsync<string[]>(
            "links => links.filter(a => a.hash).map(a => a.hash + (document.getElementById(a.hash.slice(1)) ? '' : ' (absent)'))");
        Assert.That(targets, Does.Contain("#champ-territoire").And.Contain("#champ-limite").And.Contain("#champ-cloture"));
        Assert.That(targets, Has.None.EndsWith("(absent)"));

        await summary.GetByRole(AriaRole.Link, new() { Name = "Date invalide", Exact = false }).ClickAsync();

        await Expect(Page.GetByLabel("Date limite au plus tard le")).ToBeFocusedAsync();
        await AssertNoSeriousAxeViolationsAsync(Page, "liste avec erreurs de saisie");
    }

    [Test]
    public async Task Detail_JobWithJsonLdAndExpiredOffer_HaveNoSeriousAccessibilityViolation()
    {
        var job = TestData.Unique("Chargé·e de mission inclusion");
        var jobId = await CreateAsync(job, Kinds.Emploi, Today.AddDays(15), contractType: "cdd",
            description: "## Missions\n\n- Animer le réseau des partenaires ;\n- **Suivre** les projets.\n\n[Fiche de poste](https://example.org/poste)",
            contact: "recrutement@example.org\n05 56 00 00 00");
        var expired = TestData.Unique("AAP vie associative 2025");
        var expiredId = await CreateAsync(expired, Kinds.Aap, Today.AddDays(-10), status: Statuses.Expired);

        // The short /offres/{id} address redirects to the canonical one with the slug.
        await Page.GotoAsync($"/offres/{jobId}");

        await Expect(Page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(job);
        await Expect(Page.Locator("script[type='application/ld+json']")).ToHaveCountAsync(1);
        await AssertNoSeriousAxeViolationsAsync(Page, "fiche emploi");

        await Page.GotoAsync($"/offres/{expiredId}");

        await Expect(Page.GetByRole(AriaRole.Status)).ToContainTextAsync("Cette offre est close depuis le");
        await Expect(Page.GetByRole(AriaRole.Link, new() { Name = "Ajouter à mon agenda" })).ToHaveCountAsync(0);
        await AssertNoSeriousAxeViolationsAsync(Page, "fiche close");
    }

    [Test]
    public async Task ListWithFiltersAndLongDetail_OnPhone_HaveNoHorizontalScroll()
    {
        // Long unbroken words, URLs and addresses are what push a phone layout sideways.
        var word = UniqueWord();
        var title = TestData.Unique(
            $"AAP {word} accompagnement-à-la-transformation-numérique-des-structures-de-l'économie-sociale-et-solidaire-en-Nouvelle-Aquitaine");
        const string url = "https://www.exemple-collectivite-territoriale.fr/appels-a-projets/2026/accompagnement-transformation-numerique-structures-ess?utm_source=opportunites&utm_medium=board";
        await CreateAsync(title, Kinds.Aap, Today.AddDays(8), url: url,
            issuer: TestData.Unique("Direction-régionale-de-l'économie-de-l'emploi-du-travail-et-des-solidarités"),
            contact: "secretariat.appels-a-projets.transformation-numerique@exemple-collectivite-territoriale.fr",
            description: $"Dossier à déposer sur {url}\n\nRéférence : AAP-2026-ESS-NUMERIQUE-NOUVELLE-AQUITAINE-0000000000000000000001\n\n"
                + "```\ncurl " + url + "\n```\n\n| Lot | Montant maximal par structure bénéficiaire | Durée |\n|---|---|---|\n| 1 | 50 000 € | 24 mois |");
        var phone = await NewPhonePageAsync();

        await phone.GotoAsync($"/offres?q={word}&type=aap&territoire=Nouvelle-Aquitaine&cloture=30");

        var link = phone.GetByRole(AriaRole.Link, new() { Name = title });
        await Expect(link).ToBeVisibleAsync();
        await AssertNoHorizontalScrollAsync(phone, "liste filtrée (375×667)");

        await link.ClickAsync();

        await Expect(phone.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync(title);
        await AssertNoHorizontalScrollAsync(phone, "fiche au titre long (375×667)");
    }

    /// <summary>Letters only, found by the French full-text search and by nobody else's rows.</summary>
    private static string UniqueWord() =>
        "zp" + string.Concat(Guid.NewGuid().ToString("N")[..10].Select(c => (char)('a' + (c % 26))));

    private static async Task<long> CreateAsync(string title, string kind, DateOnly deadline, string status = Statuses.Published,
        string description = "", string? url = null, string? contact = null, string? contractType = null,
        string? issuer = null)
    {
        var db = SharedDatabase.DataSource;
        var issuerId = await TestData.CreateIssuerAsync(db, issuer);
        await using var conn = await db.OpenConnectionAsync();
        return await OpportunityStore.CreateAsync(conn, new NewOpportunity(kind, title, issuerId, ["33"], deadline,
            Status: status, Description: description, Url: url, Contact: contact, ContractType: contractType,
            PublishedAt: DateTimeOffset.UtcNow.AddDays(-1)));
    }
}
