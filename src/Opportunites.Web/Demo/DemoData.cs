using System.Globalization;
using Dapper;
using Npgsql;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Shared;

namespace Opportunites.Web.Demo;

/// <summary>One opportunity of the N°51 newsletter (db/demo/opportunites-n51.csv).</summary>
public sealed record NewsletterRow(string Kind, string Issuer, string Title, DateOnly Deadline, string TerritoryCode, string TerritoryName);

/// <summary>
/// Fills an empty demo database: the real opportunities of newsletter N°51, with deadlines shifted so they are open
/// today, and a few hundred generated ones (all kinds, many territories, some already expired for the archive).
/// </summary>
public sealed class DemoData(NpgsqlDataSource db, TimeProvider clock, ILogger<DemoData> log)
{
    public static string DefaultDirectory => Path.Combine(AppContext.BaseDirectory, "db", "demo");

    // The newsletter came out in late February 2025: its deadlines are moved by (today - this date).
    private static readonly DateOnly NewsletterDate = new(2025, 2, 24);

    public static IReadOnlyList<NewsletterRow> ReadNewsletterCsv(string path)
    {
        var rows = Csv.Parse(File.ReadAllText(path, System.Text.Encoding.UTF8));
        var header = rows[0];
        string[] expected = ["kind", "issuer", "title", "deadline", "territory_code", "territory_name"];
        if (!header.SequenceEqual(expected))
        {
            throw new FormatException($"En-tête inattendu dans {path} : {string.Join(',', header)}");
        }

        return rows.Skip(1).Select((r, i) => r.Length == 6 && Kinds.IsValid(r[0])
                ? new NewsletterRow(r[0], r[1], r[2], DateOnly.ParseExact(r[3], "yyyy-MM-dd", CultureInfo.InvariantCulture), r[4], r[5])
                : throw new FormatException($"Ligne {i + 2} invalide dans {path}"))
            .ToList();
    }

    private const string CountSql = "SELECT count(*) FROM opportunities";

    /// <returns>How many opportunities were created (0 when the database already had some).</returns>
    public async Task<int> LoadIfEmptyAsync(string? directory = null, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        if (await conn.ExecuteScalarAsync<long>(CountSql) > 0)
        {
            log.LogInformation("Données de démonstration : la base contient déjà des offres, rien à charger");
            return 0;
        }

        var today = ParisTime.Today(clock);
        var shift = today.DayNumber - NewsletterDate.DayNumber;
        var now = clock.GetUtcNow();
        var n51 = ReadNewsletterCsv(Path.Combine(directory ?? DefaultDirectory, "opportunites-n51.csv"));

        await using var tx = await conn.BeginTransactionAsync(ct);
        var count = 0;
        foreach (var row in n51)
        {
            var issuerId = await OpportunityStore.GetOrCreateIssuerIdAsync(conn, row.Issuer, GuessIssuerType(row.Issuer), tx);
            await OpportunityStore.CreateAsync(conn, new NewOpportunity(row.Kind, row.Title, issuerId, [row.TerritoryCode],
                row.Deadline.AddDays(shift),
                Description: $"Publié dans la lettre d'information Point de convergence n°51 (PQN-A).\n\nTerritoire : {row.TerritoryName}.",
                ThemeCodes: row.Kind == Kinds.Emploi ? ["emploi", "politique-de-la-ville"] : ["vie-associative"],
                ContractType: row.Kind == Kinds.Emploi ? "fonction_publique_contractuel" : null,
                PublishedAt: now.AddDays(-Random.Shared.Next(1, 20))), tx);
            count++;
        }

        foreach (var o in Generate(today, now, 320))
        {
            var issuerId = await OpportunityStore.GetOrCreateIssuerIdAsync(conn, o.Issuer, o.IssuerType, tx);
            await OpportunityStore.CreateAsync(conn, o.Opportunity with { IssuerId = issuerId }, tx);
            count++;
        }

        // The archive: generated offers whose deadline has passed are expired, as the expiry job would do.
        await conn.ExecuteAsync("""
            UPDATE opportunities SET status = 'expired', closed_at = closes_at
            WHERE status = 'published' AND closes_at < now()
            """, transaction: tx);
        await tx.CommitAsync(ct);
        log.LogInformation("Données de démonstration : {Count} offres chargées", count);
        return count;
    }

    private static string GuessIssuerType(string issuer)
    {
        var lower = issuer.ToLowerInvariant();
        if (lower.Contains("préfecture") || lower.Contains("ministère") || lower.StartsWith("dd") || lower.StartsWith("dr")
            || lower.Contains("mildeca") || lower.Contains("injep"))
        {
            return "etat";
        }

        if (lower.Contains("conseil") || lower.Contains("métropole") || lower.Contains("ville") || lower.Contains("région"))
        {
            return "collectivite";
        }

        return lower.Contains("fédération") ? "association" : "autre";
    }

    private sealed record Generated(string Issuer, string IssuerType, NewOpportunity Opportunity);

    private static readonly (string Name, string Type)[] Issuers =
    [
        ("Préfecture de {0}", "etat"), ("Conseil départemental de {0}", "collectivite"), ("Ville de {1}", "collectivite"),
        ("CAF de {0}", "etat"), ("France Travail {0}", "etat"), ("Mission locale de {1}", "association"),
        ("Centre social de {1}", "association"), ("Fondation de France", "fondation"), ("Banque des Territoires", "etat"),
        ("ANCT", "etat"), ("Fondation Abbé Pierre", "fondation"), ("Ligue de l'enseignement", "association"),
        ("Région Nouvelle-Aquitaine", "collectivite"), ("Bordeaux Métropole", "collectivite"), ("DREETS Nouvelle-Aquitaine", "etat"),
    ];

    private static readonly string[] AapTitles =
    [
        "AAP lutte contre la précarité étudiante", "AAP inclusion numérique dans les quartiers prioritaires",
        "Appel à projets Quartiers d'été", "AAP soutien aux initiatives citoyennes", "AAP prévention de la délinquance",
        "Appel à projets Cités éducatives", "AAP mobilité des jeunes vers l'emploi", "AAP santé mentale des jeunes",
        "Appel à projets égalité femmes-hommes", "AAP sport et insertion", "AAP culture et lien social",
        "Appel à projets transition écologique dans les quartiers", "AAP accès aux droits", "AAP alimentation solidaire",
    ];

    private static readonly string[] AmiTitles =
    [
        "AMI tiers-lieux solidaires", "AMI Fabriques de territoire", "AMI insertion par l'activité économique",
        "AMI lutte contre l'illectronisme", "AMI jardins partagés", "AMI accompagnement des associations employeuses",
    ];

    private static readonly string[] JobTitles =
    [
        "Chargé(e) de mission politique de la ville", "Délégué(e) du Préfet", "Coordinateur(trice) Cité éducative",
        "Animateur(trice) socio-culturel(le)", "Conseiller(ère) en insertion professionnelle", "Médiateur(trice) numérique",
        "Chef(fe) de projet contrat de ville", "Éducateur(trice) spécialisé(e)", "Chargé(e) de développement ESS",
        "Agent(e) de développement local", "Directeur(trice) de centre social", "Référent(e) santé",
    ];

    private static readonly (string Code, string Name, string Town)[] Places =
    [
        ("33", "la Gironde", "Bordeaux"), ("33", "la Gironde", "Mérignac"), ("40", "des Landes", "Mont-de-Marsan"),
        ("24", "la Dordogne", "Périgueux"), ("47", "Lot-et-Garonne", "Agen"), ("64", "Pyrénées-Atlantiques", "Pau"),
        ("17", "Charente-Maritime", "La Rochelle"), ("16", "la Charente", "Angoulême"), ("79", "des Deux-Sèvres", "Niort"),
        ("86", "la Vienne", "Poitiers"), ("87", "la Haute-Vienne", "Limoges"), ("19", "la Corrèze", "Brive-la-Gaillarde"),
        ("23", "la Creuse", "Guéret"), ("31", "la Haute-Garonne", "Toulouse"), ("13", "des Bouches-du-Rhône", "Marseille"),
        ("69", "du Rhône", "Lyon"), ("59", "du Nord", "Roubaix"), ("93", "la Seine-Saint-Denis", "Saint-Denis"),
        ("75", "Paris", "Paris"), ("44", "la Loire-Atlantique", "Nantes"), ("35", "l'Ille-et-Vilaine", "Rennes"),
        ("67", "du Bas-Rhin", "Strasbourg"), ("974", "La Réunion", "Saint-Denis de La Réunion"), ("2A", "Corse-du-Sud", "Ajaccio"),
    ];

    private static readonly string[] Themes =
    [
        "emploi", "insertion", "education", "jeunesse", "culture", "sport", "sante", "logement", "numerique",
        "environnement", "vie-associative", "politique-de-la-ville", "prevention-securite", "ess",
    ];

    private static readonly string[] Contracts = ["cdi", "cdd", "stage", "alternance", "service_civique", "fonction_publique_contractuel"];

    private static IEnumerable<Generated> Generate(DateOnly today, DateTimeOffset now, int count)
    {
        // Fixed seed: the demo looks the same on every machine.
        var rng = new Random(51);
        for (var i = 0; i < count; i++)
        {
            var place = Places[rng.Next(Places.Length)];
            var (issuerPattern, issuerType) = Issuers[rng.Next(Issuers.Length)];
            var issuer = string.Format(CultureInfo.InvariantCulture, issuerPattern, place.Name, place.Town)
                .Replace("de des ", "des ").Replace("de du ", "du ");
            var roll = rng.Next(100);
            var kind = roll < 40 ? Kinds.Emploi : roll < 80 ? Kinds.Aap : Kinds.Ami;
            var title = kind switch
            {
                Kinds.Emploi => JobTitles[rng.Next(JobTitles.Length)] + " - " + place.Town,
                Kinds.Aap => AapTitles[rng.Next(AapTitles.Length)] + " " + (2026 + rng.Next(2)),
                _ => AmiTitles[rng.Next(AmiTitles.Length)],
            };
            // National, regional or departmental reach.
            var scope = rng.Next(10);
            string[] territories = issuerType == "fondation" || issuer == "ANCT" || scope == 0 ? ["FR"]
                : scope == 1 ? ["R75"]
                : scope == 2 ? [place.Code, Places[rng.Next(Places.Length)].Code]
                : [place.Code];
            // Deadlines over the coming year, a few already passed (the archive), 10 % without deadline.
            DateOnly? deadline = rng.Next(10) == 0 ? null : today.AddDays(rng.Next(-40, 330));
            TimeOnly? time = deadline is not null && rng.Next(6) == 0 ? new TimeOnly(12, 0) : null;
            var themes = new[] { Themes[rng.Next(Themes.Length)], Themes[rng.Next(Themes.Length)] };
            var description = kind == Kinds.Emploi
                ? $"## Missions\n\n- Piloter les actions du contrat de ville à {place.Town}\n- Animer le réseau des partenaires (associations, bailleurs, services de l'État)\n- Suivre les **indicateurs** et rendre compte\n\n## Profil\n\nExpérience de la politique de la ville appréciée. Poste basé à {place.Town}."
                : $"## Objectifs\n\nSoutenir les projets associatifs qui renforcent la cohésion sociale à {place.Town} et dans les quartiers prioritaires.\n\n## Qui peut candidater ?\n\nAssociations loi 1901, collectivités, structures de l'ESS.\n\n## Financement\n\nJusqu'à {rng.Next(5, 80) * 1000:N0} € par projet.";
            yield return new Generated(issuer, issuerType, new NewOpportunity(
                kind, title, 0, territories, deadline, time,
                Description: description,
                Url: "https://www.example.org/offres/" + (1000 + i),
                Contact: kind == Kinds.Emploi ? "recrutement@example.org" : "appels@example.org",
                ThemeCodes: themes,
                ContractType: kind == Kinds.Emploi ? Contracts[rng.Next(Contracts.Length)] : null,
                Beneficiaries: kind == Kinds.Emploi ? null : "Associations, collectivités, bailleurs sociaux",
                AmountEur: kind == Kinds.Aap ? rng.Next(5, 80) * 1000 : null,
                PublishedAt: now.AddDays(-rng.Next(0, 60)).AddMinutes(-rng.Next(0, 1440)),
                CreatedAt: now.AddDays(-60)));
        }
    }
}

public static class DemoExtensions
{
    /// <summary>
    /// With <c>Demo:LoadIfEmpty=true</c> (set by ./run.sh), loads the demo data at startup when the database has no
    /// offer: one process instead of a `demo` run before the app (a second .NET start, about a second of ./run.sh).
    /// </summary>
    public static async Task LoadDemoDataIfAskedAsync(this WebApplication app)
    {
        if (app.Configuration.GetValue("Demo:LoadIfEmpty", false))
        {
            await ActivatorUtilities.CreateInstance<DemoData>(app.Services).LoadIfEmptyAsync();
        }
    }
}
