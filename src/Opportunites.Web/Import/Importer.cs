using Dapper;
using Npgsql;
using Opportunites.Web.Moderation;
using Opportunites.Web.Opportunities;
using Opportunites.Web.Publishing;
using Opportunites.Web.Shared;
using Opportunites.Web.Territories;

namespace Opportunites.Web.Import;

/// <summary>How to fill what the text does not say.</summary>
/// <param name="DefaultTerritory">Territory of lines whose territory was not recognised (the CLI's --territoire); null: must be chosen.</param>
/// <param name="TerritoryChoices">Line number → territory codes (comma-separated) chosen in the preview, in place of the
/// guess; empty when the guess was removed.</param>
/// <param name="OwnIssuerName">A trusted issuer imports for its own organisation only: every line gets this issuer.</param>
/// <param name="KindChoices">Line number → kind chosen in the preview, for a line without section heading.</param>
public sealed record ImportOptions(
    string? DefaultTerritory = null,
    IReadOnlyDictionary<int, string>? TerritoryChoices = null,
    string? OwnIssuerName = null,
    IReadOnlyDictionary<int, string>? KindChoices = null);

public sealed class ImportResult
{
    public List<ImportCandidate> Candidates { get; init; } = [];
    public string? FileError { get; init; }
    public List<long> CreatedIds { get; } = [];

    public IEnumerable<ImportCandidate> Created => Candidates.Where(c => c.State == CandidateState.New && c.IsValid);
    public IEnumerable<ImportCandidate> Duplicates => Candidates.Where(c => c.State == CandidateState.Duplicate);
    public IEnumerable<ImportCandidate> Errors => Candidates.Where(c => c.State == CandidateState.Error);

    /// <summary>Kind or territory still to choose: not created, shown "à compléter".</summary>
    public IEnumerable<ImportCandidate> Incomplete => Candidates.Where(c => c.State == CandidateState.Incomplete);

    /// <summary>Created with the default territory because none was recognised: to be checked by a person.</summary>
    public IEnumerable<ImportCandidate> ToReview => Created.Where(c => c.DefaultTerritoryApplied);
}

/// <summary>Newsletter lines and CSV in: parse, guess, find duplicates, preview, then create in one transaction.</summary>
public sealed class Importer(NpgsqlDataSource db, TerritoryDirectory territories, TimeProvider clock)
{
    public TerritoryGuesser Guesser { get; } = new(territories);

    /// <summary>CSV when the file name ends in .csv or the first line names the columns; newsletter lines otherwise.</summary>
    public (List<ImportCandidate> Rows, string? Error) Parse(string text, string? fileName = null)
    {
        var csv = fileName?.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) == true
            || (fileName?.EndsWith(".txt", StringComparison.OrdinalIgnoreCase) != true && CsvImportParser.LooksLikeCsv(text));
        return csv ? CsvImportParser.Parse(text, territories, Guesser) : (NewsletterLineParser.Parse(text, Guesser), null);
    }

    /// <summary>Everything short of writing: parse, territories, duplicates. What the preview shows.</summary>
    public async Task<ImportResult> PreviewAsync(string text, string? fileName, ImportOptions options)
    {
        var (rows, error) = Parse(text, fileName);
        var result = new ImportResult { Candidates = rows, FileError = error };
        await using var conn = await db.OpenConnectionAsync();
        await ResolveThemesAsync(conn, rows);
        Complete(result, options);
        await MarkDuplicatesAsync(conn, null, rows);
        return result;
    }

    /// <summary>Parses and creates every new valid line in one transaction; duplicates and errors are reported, not created.</summary>
    public async Task<ImportResult> ImportAsync(Actor actor, string text, string? fileName, ImportOptions options)
    {
        var (rows, error) = Parse(text, fileName);
        var result = new ImportResult { Candidates = rows, FileError = error };
        await using var conn = await db.OpenConnectionAsync();
        await ResolveThemesAsync(conn, rows);
        Complete(result, options);
        await using var tx = await conn.BeginTransactionAsync();
        // Serialise imports so that two people importing the same list at once cannot both create it.
        await conn.ExecuteAsync("SELECT pg_advisory_xact_lock(hashtext('opportunites.import'))", transaction: tx);
        await MarkDuplicatesAsync(conn, tx, rows);
        var now = clock.GetUtcNow();
        var today = ParisTime.Today(clock);
        foreach (var c in result.Created)
        {
            var issuerId = await OpportunityStore.GetOrCreateIssuerIdAsync(conn, c.Issuer, GuessIssuerType(c.Issuer), tx);
            // An offer already past its deadline is kept for the archive, not shown as open.
            var status = c.DeadlineDate is { } d && d < today ? Statuses.Expired : Statuses.Published;
            var id = await OpportunityStore.CreateAsync(conn, new NewOpportunity(c.Kind!, c.Title, issuerId, c.TerritoryCodes,
                c.DeadlineDate, null, status, c.Description, c.Url, c.Contact, ThemeCodes: c.ThemeCodes, ContractType: c.ContractType,
                Beneficiaries: c.Beneficiaries, AmountEur: c.AmountEur, PublishedAt: now), tx);
            result.CreatedIds.Add(id);
            await AuditLog.WriteAsync(conn, tx, actor, "opportunity.imported", "opportunity", id, $"{c.Issuer} / {c.Title}");
        }

        await tx.CommitAsync();
        return result;
    }

    /// <summary>Theme codes or labels of the file ("numerique", "Numérique") to codes; an unknown one is an error of its line.</summary>
    private static async Task ResolveThemesAsync(NpgsqlConnection conn, List<ImportCandidate> rows)
    {
        if (!rows.Any(r => r.ThemeNames.Count > 0))
        {
            return;
        }

        var known = new Dictionary<string, string>();
        foreach (var (code, label) in await conn.QueryAsync<(string, string)>("SELECT code, label FROM themes"))
        {
            known[TerritoryDirectory.Fold(code)] = code;
            known[TerritoryDirectory.Fold(label)] = code;
        }

        foreach (var c in rows)
        {
            foreach (var name in c.ThemeNames)
            {
                if (known.TryGetValue(TerritoryDirectory.Fold(name), out var code))
                {
                    c.ThemeCodes.Add(code);
                }
                else
                {
                    c.Errors.Add($"Thème inconnu : « {name} » (voir la liste des thèmes du site).");
                }
            }

            c.ThemeCodes = [.. c.ThemeCodes.Distinct()];
        }
    }

    private void Complete(ImportResult result, ImportOptions options)
    {
        foreach (var c in result.Candidates)
        {
            if (options.OwnIssuerName is not null)
            {
                c.Issuer = options.OwnIssuerName;
            }

            if (c.Kind is null && c.IsValid)
            {
                var kind = options.KindChoices?.GetValueOrDefault(c.LineNumber);
                if (Kinds.IsValid(kind))
                {
                    c.Kind = kind;
                }
                else
                {
                    c.Missing.Add("le type");
                }
            }

            if (c.IsValid && options.TerritoryChoices?.TryGetValue(c.LineNumber, out var choice) == true)
            {
                // The preview's field replaces the guess, even with nothing (the guess removed: the line is to complete).
                var chosen = choice.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(territories.Resolve).OfType<TerritoryInfo>().Select(t => t.Code).Distinct().ToList();
                if (chosen.Count > 0)
                {
                    c.Apply(new TerritoryGuess(chosen, "choisi dans l'aperçu", []));
                }
                else if (c.TerritoryKnown)
                {
                    c.Apply(new TerritoryGuess([], "retiré dans l'aperçu : à compléter", []));
                }
            }

            if (!c.TerritoryKnown && c.IsValid)
            {
                if (territories.Resolve(options.DefaultTerritory) is { } fallback)
                {
                    c.TerritoryCodes = [fallback.Code];
                    c.DefaultTerritoryApplied = true;
                    c.TerritoryReason += $" ; territoire par défaut de l'import : {fallback.Label}";
                }
                else
                {
                    c.Missing.Add("le territoire");
                }
            }

            c.State = !c.IsValid ? CandidateState.Error : c.Missing.Count > 0 ? CandidateState.Incomplete : CandidateState.New;
        }
    }

    private const string DuplicatesSql = """
        SELECT c.n, min(o.id) AS id
        FROM unnest(@issuers::text[], @titles::text[], @deadlines::date[], @ns::int[]) AS c(issuer, title, deadline, n)
        JOIN issuers i ON lower(i.name) = lower(btrim(c.issuer))
        JOIN opportunities o ON o.issuer_id = i.id AND lower(btrim(o.title)) = lower(btrim(c.title))
                            AND o.deadline_date IS NOT DISTINCT FROM c.deadline
        GROUP BY c.n
        """;

    /// <summary>Same issuer, same title (ignoring case), same deadline: on the board already, or earlier in the same list.</summary>
    /// <remarks>
    /// Lines still to complete are compared too (neither kind nor territory is part of the key): the preview then says
    /// "doublon" for a line the import would skip once completed, so that preview and result agree.
    /// </remarks>
    private static async Task MarkDuplicatesAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, List<ImportCandidate> rows)
    {
        var valid = rows.Where(r => r.State is CandidateState.New or CandidateState.Incomplete).ToList();
        var existing = (await conn.QueryAsync<(int N, long Id)>(DuplicatesSql, new
        {
            issuers = valid.Select(r => r.Issuer).ToArray(),
            titles = valid.Select(r => r.Title).ToArray(),
            deadlines = valid.Select(r => r.DeadlineDate).ToArray(),
            ns = valid.Select(r => r.LineNumber).ToArray(),
        }, tx)).ToDictionary(x => x.N, x => x.Id);

        var seen = new HashSet<(string, string, DateOnly?)>();
        foreach (var r in valid)
        {
            var key = (r.Issuer.Trim().ToLowerInvariant(), r.Title.Trim().ToLowerInvariant(), r.DeadlineDate);
            if (existing.TryGetValue(r.LineNumber, out var id))
            {
                r.State = CandidateState.Duplicate;
                r.ExistingId = id;
            }
            else if (!seen.Add(key))
            {
                r.State = CandidateState.Duplicate;
            }
        }
    }

    // Served by audit_log_subject (subject_type, subject_id, at DESC): the import writes this entry with each offer.
    private const string IsImportedSql = """
        SELECT EXISTS (SELECT 1 FROM audit_log
                       WHERE subject_type = 'opportunity' AND subject_id = @id AND action = 'opportunity.imported')
        """;

    /// <summary>True when the offer was created by an import (its line may lack contract type or beneficiaries).</summary>
    public async Task<bool> IsImportedAsync(long opportunityId)
    {
        await using var conn = await db.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<bool>(IsImportedSql, new { id = opportunityId });
    }

    public static string GuessIssuerType(string issuer)
    {
        var f = TerritoryDirectory.Fold(issuer);
        if (f.Contains("prefecture") || f.Contains("ministere") || f.StartsWith("dd", StringComparison.Ordinal)
            || f.StartsWith("dr", StringComparison.Ordinal) || f.Contains("mildeca") || f.Contains("injep") || f.Contains("etat"))
        {
            return "etat";
        }

        if (f.Contains("conseil") || f.Contains("metropole") || f.Contains("ville") || f.Contains("region")
            || f.Contains("communaute") || f.Contains("mairie") || f.Contains("departement"))
        {
            return "collectivite";
        }

        if (f.Contains("fondation"))
        {
            return "fondation";
        }

        return f.Contains("association") || f.Contains("federation") ? "association" : "autre";
    }
}
