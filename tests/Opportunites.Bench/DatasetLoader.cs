using System.Diagnostics;
using Dapper;
using Npgsql;

namespace Opportunites.Bench;

/// <summary>
/// Fills the benchmark database with a national-scale dataset in set-based INSERT … SELECT statements, split over
/// several sessions because the weighted French tsvector (computed by the row trigger) dominates the cost.
/// Spread (issue 22): all kinds; places drawn by population (<see cref="PlacesSql"/>): 48 % for a commune, 18 % for its
/// EPCI, 15 % for its département, 5 % for two départements, 8 % for its région, 6 % national; a few issuers get most
/// offers (Zipf-like); French titles and descriptions from ~250 words of the field drawn with a Zipf-like skew (as in
/// real text, a few words are in most offers and most words in few: searches range from broad to selective),
/// deadlines over a year, 10 % without.
/// </summary>
internal sealed class DatasetLoader(NpgsqlDataSource db)
{
    /// <summary>The words of titles and descriptions; the benchmark's search URLs draw from the same list.</summary>
    public static readonly string[] Vocabulary =
    [
        "accompagnement", "jeunes", "quartiers", "prioritaires", "insertion", "professionnelle", "numérique",
        "inclusion", "culture", "sport", "santé", "mentale", "logement", "alimentation", "solidaire", "transition",
        "écologique", "mobilité", "emploi", "formation", "citoyenneté", "participation", "habitants", "éducation",
        "parentalité", "prévention", "délinquance", "égalité", "femmes", "hommes", "discriminations", "associations",
        "bénévolat", "économie", "sociale", "territoires", "ruralité", "précarité", "étudiante", "seniors",
        "isolement", "accès", "droits", "médiation", "tiers-lieux", "jardins", "partagés", "lecture", "illettrisme",
        "langue", "français", "apprentissage", "décrochage", "scolaire", "cités", "éducatives", "réussite",
        "orientation", "handicap", "autonomie", "aidants", "numériques", "compétences", "entrepreneuriat",
        "coopération", "réseau", "animation", "coordination", "diagnostic", "évaluation", "innovation",
        "expérimentation", "financement", "subvention", "projet", "action", "dispositif", "programme", "public",
        "bénéficiaires", "partenaires", "collectivités", "bailleurs", "sociaux", "services", "État", "département",
        "région", "commune", "métropole", "agglomération", "intercommunalité", "politique", "ville", "cohésion",
        "lien", "social", "vivre", "ensemble", "été", "vacances", "loisirs", "périscolaire", "extrascolaire",
        "environnement", "énergie", "climat", "biodiversité", "eau", "déchets", "réemploi", "recyclage", "artisanat",
        "commerce", "proximité", "marché", "numérique", "fracture", "médiateur", "conseiller", "chargé", "mission",
        "chef", "référent", "coordinateur", "animateur", "éducateur", "directeur", "agent", "développement", "local",
        "contrat", "relance", "plan", "national", "appel", "manifestation", "intérêt", "projets", "candidature",
        "dossier", "sélection", "jury", "lauréats", "accueil", "hébergement", "urgence", "sans-abri", "migrants",
        "réfugiés", "intégration", "alphabétisation", "parrainage", "tutorat", "mentorat", "stage", "alternance",
        "apprentis", "chantier", "régie", "quartier", "copropriétés", "rénovation", "urbaine", "renouvellement",
        "gestion", "proximité", "tranquillité", "sécurité", "médiation", "nocturne", "adultes", "relais", "petite",
        "enfance", "crèche", "adolescents", "collégiens", "lycéens", "étudiants", "bourses", "mobilité", "internationale",
        "européenne", "volontariat", "service", "civique", "engagement", "bénévoles", "gouvernance", "conseil",
        "citoyen", "budget", "participatif", "concertation", "démocratie", "mémoire", "patrimoine", "histoire",
        "musique", "théâtre", "danse", "cinéma", "photographie", "arts", "plastiques", "bibliothèque", "médiathèque",
        "ludothèque", "fabrication", "numérique", "fablab", "codage", "robotique", "sciences", "mathématiques",
        "nutrition", "obésité", "addictions", "vaccination", "dépistage", "soins", "infirmier", "psychologue",
        "pédiatrie", "maternité", "violences", "conjugales", "harcèlement", "laïcité", "valeurs", "république",
        "radicalisation", "justice", "réinsertion", "détenus", "sortants", "prison", "emploi", "recrutement",
        "entreprises", "clauses", "insertion", "achats", "responsables", "circuits", "courts", "agriculture",
        "urbaine", "maraîchage", "compost", "vélo", "atelier", "réparation", "friperie", "ressourcerie", "épicerie",
        "sociale", "microcrédit", "surendettement", "budget", "familial", "énergétique", "précarité", "chauffage",
    ];

    /// <summary>
    /// Places drawn by population: one slot per 200 inhabitants of each commune (at least one; municipal arrondissements
    /// left out, their commune holds them), with the commune's EPCI (itself when it has none), département and région.
    /// A uniform slot is then a commune weighted by its population, and its ancestors are weighted the same way. In the
    /// bench database only (an unlogged table filled once).
    /// </summary>
    public const string PlacesSql = """
        CREATE UNLOGGED TABLE IF NOT EXISTS bench_places (slot int PRIMARY KEY, commune text NOT NULL, epci text NOT NULL,
                                                          departement text NOT NULL, region text NOT NULL);
        INSERT INTO bench_places
        SELECT (row_number() OVER (ORDER BY c.code, s))::int, c.code,
               coalesce((SELECT e FROM unnest(c.lineage) e WHERE e LIKE 'E%' LIMIT 1), c.code), c.lineage[3], c.lineage[2]
        FROM territories c
        CROSS JOIN LATERAL generate_series(1, greatest(1, coalesce(c.population, 0) / 200)) s
        WHERE c.level = 'commune' AND c.lineage[array_length(c.lineage, 1) - 1] NOT LIKE 'C%'
          AND NOT EXISTS (SELECT 1 FROM bench_places);
        ANALYZE bench_places;
        """;

    private const string IssuersSql = """
        INSERT INTO issuers (name, type)
        SELECT (ARRAY['Association','Ville de','Conseil départemental','Centre social','Fondation','Mission locale',
                      'Préfecture','CCAS de','Régie de quartier','Collectif'])[1 + (g % 10)]
               || ' ' || (ARRAY['Horizon','Solidarités','Les Tilleuls','Bastide','Mérignac','Lormont','Pessac','Talence',
                                'Cenon','Bègles','Agen','Pau','Niort','Poitiers','Limoges','Angoulême','Périgueux','Dax',
                                'Bayonne','La Rochelle'])[1 + (g / 10 % 20)]
               || ' ' || g,
               (ARRAY['etat','collectivite','association','fondation','entreprise','autre'])[1 + (g % 6)]
        FROM generate_series(1, @count) g
        ON CONFLICT DO NOTHING
        """;

    // One chunk of opportunities; @from..@to is this session's share of generate_series.
    private const string OpportunitiesSql = """
        WITH vocab AS (SELECT @vocab::text[] AS w),
        kinds AS (SELECT ARRAY['emploi','emploi','aap','aap','aap','ami'] AS k),
        places AS (SELECT max(slot) AS n FROM bench_places),
        -- 2,000 descriptions of 25-65 words, their weighted vectors computed once per statement, not once per row.
        pool AS MATERIALIZED (
          SELECT p.i, d.text, setweight(to_tsvector('fr_unaccent', d.text), 'C') AS tsv
          FROM vocab, generate_series(0, 1999) p(i)
          CROSS JOIN LATERAL (
            SELECT array_to_string(ARRAY(SELECT w[1 + floor(power(random(), 2) * array_length(w, 1))::int]
                                         FROM generate_series(1, 25 + (p.i % 40)) s WHERE p.i IS NOT NULL), ' ') AS text) d),
        iss AS MATERIALIZED (
          SELECT id, name, setweight(to_tsvector('fr_unaccent', name), 'B') AS tsv FROM issuers)
        INSERT INTO opportunities (kind, title, issuer_id, issuer_name, description, url, contact, deadline_date,
                                   status, contract_type, created_at, updated_at, published_at, closed_at, territory_codes,
                                   territory_scope, search)
        SELECT x.kind, x.title, x.issuer_id, iss.name, pool.text,
               'https://www.example.org/o/' || g, 'contact@example.org',
               x.deadline, x.status,
               CASE WHEN x.kind = 'emploi' THEN (ARRAY['cdi','cdd','stage','alternance','service_civique','autre'])[1 + g % 6] END,
               x.published_at, x.published_at, x.published_at,
               CASE WHEN x.status <> 'published' THEN x.published_at + interval '30 days' END,
               y.codes, territory_scope_of(y.codes),
               setweight(to_tsvector('fr_unaccent', x.title), 'A') || iss.tsv || pool.tsv
        FROM generate_series(@from, @to) g
        CROSS JOIN vocab CROSS JOIN kinds CROSS JOIN places
        CROSS JOIN LATERAL (
          SELECT k[1 + (g % 6)] AS kind,
                 initcap(w[1 + floor(random() * 40)::int]) || ' ' || w[1 + floor(power(random(), 2) * array_length(w, 1))::int] || ' '
                   || w[1 + floor(power(random(), 2) * array_length(w, 1))::int] || ' '
                   || w[1 + floor(power(random(), 2) * array_length(w, 1))::int] || ' ' || g AS title,
                 floor(random() * 2000)::int AS pool_i,
                 1 + floor(@issuers * power(random(), 3))::int AS issuer_id,
                 CASE WHEN g <= @open THEN 'published' ELSE (ARRAY['expired','expired','expired','closed'])[1 + g % 4] END AS status,
                 CASE WHEN g % 10 = 0 THEN NULL
                      WHEN g <= @open THEN current_date + (1 + floor(random() * 365))::int
                      ELSE current_date - (1 + floor(random() * 1000))::int END AS deadline,
                 now() - make_interval(days => (random() * CASE WHEN g <= @open THEN 60 ELSE 1200 END)::int,
                                       mins => (random() * 1440)::int) AS published_at,
                 1 + floor(random() * places.n)::int AS slot, 1 + floor(random() * places.n)::int AS other_slot
          WHERE g IS NOT NULL
        ) x
        JOIN pool ON pool.i = x.pool_i
        JOIN iss ON iss.id = x.issuer_id
        JOIN bench_places p ON p.slot = x.slot
        JOIN bench_places q ON q.slot = x.other_slot
        CROSS JOIN LATERAL (
          SELECT CASE WHEN g % 100 < 6 THEN ARRAY['FR']
                      WHEN g % 100 < 14 THEN ARRAY[p.region]
                      WHEN g % 100 < 29 THEN ARRAY[p.departement]
                      WHEN g % 100 < 34 THEN ARRAY(SELECT DISTINCT d FROM unnest(ARRAY[p.departement, q.departement]) d ORDER BY d)
                      WHEN g % 100 < 52 THEN ARRAY[p.epci]
                      ELSE ARRAY[p.commune] END AS codes) y
        """;

    private const string TerritoriesSql = """
        INSERT INTO opportunity_territories (opportunity_id, territory_code)
        SELECT DISTINCT o.id, c FROM opportunities o, unnest(o.territory_codes) c
        WHERE o.id BETWEEN @from AND @to
        """;

    // The board's match table (migrations 0050, 0082), which the disabled triggers would have filled: the scope's keys.
    private const string MatchesSql = """
        INSERT INTO opportunity_territory_matches (opportunity_id, territory_code, kind, deadline_sort)
        SELECT o.id, k, o.kind, o.deadline_sort
        FROM opportunities o CROSS JOIN LATERAL unnest(o.territory_scope) k
        WHERE o.status = 'published' AND o.id BETWEEN @from AND @to
        """;

    public async Task<TimeSpan> LoadAsync(int open, int archived, int issuers, int sessions)
    {
        var watch = Stopwatch.StartNew();
        await using (var conn = await db.OpenConnectionAsync())
        {
            await conn.ExecuteAsync(PlacesSql, commandTimeout: 0);
            await conn.ExecuteAsync(IssuersSql, new { count = issuers }, commandTimeout: 0);
            // Bulk load computes what the row triggers would (issuer name, search vector, territory codes) set-based.
            await conn.ExecuteAsync("ALTER TABLE opportunity_territories DISABLE TRIGGER USER");
            await conn.ExecuteAsync("ALTER TABLE opportunities DISABLE TRIGGER USER");
        }

        var total = open + archived;
        var chunk = (total + sessions - 1) / sessions;
        await Task.WhenAll(Enumerable.Range(0, sessions).Select(async s =>
        {
            var from = 1 + s * chunk;
            var to = Math.Min(total, (s + 1) * chunk);
            // Smaller statements keep each transaction short and let progress show.
            for (var a = from; a <= to; a += 50_000)
            {
                var b = Math.Min(to, a + 49_999);
                await using var conn = await db.OpenConnectionAsync();
                await conn.ExecuteAsync(OpportunitiesSql, new { from = a, to = b, open, issuers, vocab = Vocabulary }, commandTimeout: 0);
                Console.Error.Write('.');
            }
        }));
        Console.Error.WriteLine();

        // The join table from territory_codes, by id range over the same sessions.
        long maxId;
        await using (var conn = await db.OpenConnectionAsync())
        {
            maxId = await conn.ExecuteScalarAsync<long>("SELECT coalesce(max(id), 0) FROM opportunities");
        }

        var span = (maxId + sessions - 1) / sessions;
        await Task.WhenAll(Enumerable.Range(0, sessions).Select(async s =>
        {
            await using var conn = await db.OpenConnectionAsync();
            await conn.ExecuteAsync(TerritoriesSql, new { from = 1 + s * span, to = (s + 1) * span }, commandTimeout: 0);
            await conn.ExecuteAsync(MatchesSql, new { from = 1 + s * span, to = (s + 1) * span }, commandTimeout: 0);
        }));

        await using (var conn = await db.OpenConnectionAsync())
        {
            await conn.ExecuteAsync("ALTER TABLE opportunity_territories ENABLE TRIGGER USER");
            await conn.ExecuteAsync("ALTER TABLE opportunities ENABLE TRIGGER USER");
            await conn.ExecuteAsync("VACUUM ANALYZE opportunities", commandTimeout: 0);
            await conn.ExecuteAsync("VACUUM ANALYZE opportunity_territories", commandTimeout: 0);
            await conn.ExecuteAsync("VACUUM ANALYZE opportunity_territory_matches", commandTimeout: 0);
        }

        return watch.Elapsed;
    }
}
