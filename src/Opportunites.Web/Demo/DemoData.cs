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
/// Every organisation has a home territory and publishes within it: a town's offers are the town's, a département's
/// services stay in their département, national bodies publish for France (their jobs for the town they are based in);
/// many jobs name their place of work.
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
            var home = N51Homes.GetValueOrDefault(row.Issuer, row.TerritoryCode);
            var issuerId = await IssuerAsync(conn, tx, row.Issuer, GuessIssuerType(row.Issuer), home);
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
            var issuerId = await IssuerAsync(conn, tx, o.Issuer, o.IssuerType, o.Home);
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

    // The N°51 issuers whose home is wider than the territory of their offer there (a regional service's AAP for the Gironde).
    private static readonly Dictionary<string, string> N51Homes = new(StringComparer.Ordinal) { ["DRAJES NA"] = "R75" };

    // The first home wins: an organisation keeps the territory it was created with.
    private const string SetHomeSql = "UPDATE issuers SET home_territory_code = @home WHERE id = @id AND home_territory_code IS NULL";

    private static async Task<long> IssuerAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string name, string type, string home)
    {
        var id = await OpportunityStore.GetOrCreateIssuerIdAsync(conn, name, type, tx);
        await conn.ExecuteAsync(SetHomeSql, new { id, home }, tx);
        return id;
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

    private sealed record Generated(string Issuer, string IssuerType, string Home, NewOpportunity Opportunity);

    /// <summary>Where an organisation acts: a commune, its département, France.</summary>
    private enum Reach
    {
        Commune,
        Departement,
        National,
    }

    // {0} the département's name as a phrase ("la Gironde"), {1} the town. A commune's organisations publish for it;
    // a département's for it (a job there is based in the town); national ones for France, but a job of theirs is in the
    // town its title names (a "… - Strasbourg" job for France reached every subscriber who takes national offers).
    private static readonly (string Name, string Type, Reach Reach)[] Issuers =
    [
        ("Préfecture de {0}", "etat", Reach.Departement), ("Conseil départemental de {0}", "collectivite", Reach.Departement),
        ("Ville de {1}", "collectivite", Reach.Commune), ("CAF de {0}", "etat", Reach.Departement),
        ("France Travail {0}", "etat", Reach.Departement), ("Mission locale de {1}", "association", Reach.Commune),
        ("Centre social de {1}", "association", Reach.Commune), ("Fondation de France", "fondation", Reach.National),
        ("Banque des Territoires", "etat", Reach.National), ("ANCT", "etat", Reach.National),
        ("Fondation Abbé Pierre", "fondation", Reach.National), ("Ligue de l'enseignement", "association", Reach.National),
    ];

    // Organisations of Nouvelle-Aquitaine at the level of a commune, an intercommunality or the région, as in the
    // real newsletter: their offers are for their own territory, their jobs based in their seat.
    private static readonly (string Name, string Type, string Home, string Seat, string Town)[] LocalIssuers =
    [
        ("Ville de Bègles", "collectivite", "C33039", "C33039", "Bègles"),
        ("Bordeaux Métropole", "collectivite", "E243300316", "C33063", "Bordeaux"),
        ("CdC Aunis Sud", "collectivite", "E200041614", "C17434", "Surgères"),
        ("Grand Poitiers", "collectivite", "E200069854", "C86194", "Poitiers"),
        ("Limoges métropole - Communauté urbaine", "collectivite", "E248719312", "C87085", "Limoges"),
        ("CA du Grand Guéret", "collectivite", "E200034825", "C23096", "Guéret"),
        ("Région Nouvelle-Aquitaine", "collectivite", "R75", "C33063", "Bordeaux"),
        ("DREETS Nouvelle-Aquitaine", "etat", "R75", "C33063", "Bordeaux"),
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

    private static readonly (string Code, string Name, string Town, string Commune)[] Places =
    [
        ("33", "la Gironde", "Bordeaux", "C33063"), ("33", "la Gironde", "Mérignac", "C33281"), ("40", "des Landes", "Mont-de-Marsan", "C40192"),
        ("24", "la Dordogne", "Périgueux", "C24322"), ("47", "Lot-et-Garonne", "Agen", "C47001"), ("64", "Pyrénées-Atlantiques", "Pau", "C64445"),
        ("17", "Charente-Maritime", "La Rochelle", "C17300"), ("16", "la Charente", "Angoulême", "C16015"), ("79", "des Deux-Sèvres", "Niort", "C79191"),
        ("86", "la Vienne", "Poitiers", "C86194"), ("87", "la Haute-Vienne", "Limoges", "C87085"), ("19", "la Corrèze", "Brive-la-Gaillarde", "C19031"),
        ("23", "la Creuse", "Guéret", "C23096"), ("31", "la Haute-Garonne", "Toulouse", "C31555"), ("13", "des Bouches-du-Rhône", "Marseille", "C13055"),
        ("69", "du Rhône", "Lyon", "C69123"), ("59", "du Nord", "Roubaix", "C59512"), ("93", "la Seine-Saint-Denis", "Saint-Denis", "C93066"),
        ("75", "Paris", "Paris", "C75056"), ("44", "la Loire-Atlantique", "Nantes", "C44109"), ("35", "l'Ille-et-Vilaine", "Rennes", "C35238"),
        ("67", "du Bas-Rhin", "Strasbourg", "C67482"), ("974", "La Réunion", "Saint-Denis de La Réunion", "C97411"), ("2A", "Corse-du-Sud", "Ajaccio", "C2A004"),
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
            string issuer, issuerType, home, town;
            string[] territories;
            string? workPlace;
            if (rng.Next(5) == 0)
            {
                // One offer in five from an organisation of Nouvelle-Aquitaine below or at the région: for its territory.
                var local = LocalIssuers[rng.Next(LocalIssuers.Length)];
                (issuer, issuerType, home, town) = (local.Name, local.Type, local.Home, local.Town);
                territories = [local.Home];
                workPlace = local.Seat;
            }
            else
            {
                var (issuerPattern, type, reach) = Issuers[rng.Next(Issuers.Length)];
                issuer = string.Format(CultureInfo.InvariantCulture, issuerPattern, place.Name, place.Town)
                    .Replace("de des ", "des ").Replace("de du ", "du ");
                issuerType = type;
                town = place.Town;
                (home, territories, workPlace) = reach switch
                {
                    Reach.Commune => (place.Commune, new[] { place.Commune }, place.Commune),
                    // A département's service: for the département, now and then only for its main town.
                    Reach.Departement => (place.Code, rng.Next(4) == 0 ? new[] { place.Commune } : [place.Code], place.Commune),
                    _ => ("FR", ["FR"], null),
                };
            }

            var roll = rng.Next(100);
            var kind = roll < 40 ? Kinds.Emploi : roll < 80 ? Kinds.Aap : Kinds.Ami;
            if (kind == Kinds.Emploi && workPlace is null)
            {
                (territories, workPlace) = ([place.Commune], place.Commune);
            }

            var title = kind switch
            {
                Kinds.Emploi => JobTitles[rng.Next(JobTitles.Length)] + " - " + town,
                Kinds.Aap => AapTitles[rng.Next(AapTitles.Length)] + " " + (2026 + rng.Next(2)),
                _ => AmiTitles[rng.Next(AmiTitles.Length)],
            };
            // Deadlines over the coming year, a few already passed (the archive), 10 % without deadline.
            DateOnly? deadline = rng.Next(10) == 0 ? null : today.AddDays(rng.Next(-40, 330));
            TimeOnly? time = deadline is not null && rng.Next(6) == 0 ? new TimeOnly(12, 0) : null;
            var themes = new[] { Themes[rng.Next(Themes.Length)], Themes[rng.Next(Themes.Length)] };
            var description = kind == Kinds.Emploi
                ? $"## Missions\n\n- Piloter les actions du contrat de ville à {town}\n- Animer le réseau des partenaires (associations, bailleurs, services de l'État)\n- Suivre les **indicateurs** et rendre compte\n\n## Profil\n\nExpérience de la politique de la ville appréciée. Poste basé à {town}."
                : $"## Objectifs\n\nSoutenir les projets associatifs qui renforcent la cohésion sociale à {town} et dans les quartiers prioritaires.\n\n## Qui peut candidater ?\n\nAssociations loi 1901, collectivités, structures de l'ESS.\n\n## Financement\n\nJusqu'à {(rng.Next(5, 80) * 1000).ToString("N0", ParisTime.French)} € par projet.";
            yield return new Generated(issuer, issuerType, home, new NewOpportunity(
                kind, title, 0, territories, deadline, time,
                Description: description,
                Url: "https://www.example.org/offres/" + (1000 + i),
                Contact: kind == Kinds.Emploi ? "recrutement@example.org" : "appels@example.org",
                ThemeCodes: themes,
                ContractType: kind == Kinds.Emploi ? Contracts[rng.Next(Contracts.Length)] : null,
                Beneficiaries: kind == Kinds.Emploi ? null : "Associations, collectivités, bailleurs sociaux",
                AmountEur: kind == Kinds.Aap ? rng.Next(5, 80) * 1000 : null,
                PublishedAt: now.AddDays(-rng.Next(0, 60)).AddMinutes(-rng.Next(0, 1440)),
                CreatedAt: now.AddDays(-60),
                // Every job is based in its town; two in three say so.
                WorkTerritoryCode: kind == Kinds.Emploi && rng.Next(3) > 0 ? workPlace : null));
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
