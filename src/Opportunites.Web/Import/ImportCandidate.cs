using Opportunites.Web.Territories;

namespace Opportunites.Web.Import;

public enum CandidateState
{
    /// <summary>Valid and new: will be created.</summary>
    New,

    /// <summary>Same issuer, title and deadline as an offer already on the board (or earlier in the file): skipped.</summary>
    Duplicate,

    /// <summary>Readable, but its kind or territory is to be chosen in the preview: see Missing.</summary>
    Incomplete,

    /// <summary>Cannot be imported as is: see Errors.</summary>
    Error,
}

/// <summary>One line of a newsletter list or one CSV row, parsed, before it becomes an opportunity.</summary>
public sealed class ImportCandidate
{
    public int LineNumber { get; init; }
    public string Source { get; init; } = "";
    public string? Kind { get; set; }
    public string Issuer { get; set; } = "";
    public string Title { get; set; } = "";
    public DateOnly? DeadlineDate { get; set; }
    public List<string> TerritoryCodes { get; set; } = [];

    /// <summary>True when the territory was recognised from the text (or given by a CSV column), false when it must be chosen.</summary>
    public bool TerritoryKnown { get; set; }

    /// <summary>Why these territories, or why none, in French: what the preview and the command line show.</summary>
    public string TerritoryReason { get; set; } = "";

    /// <summary>Places the line's words may mean (homonyms), for the person who completes it.</summary>
    public IReadOnlyList<TerritoryInfo> TerritoryCandidates { get; set; } = [];

    /// <summary>The words that name the <see cref="TerritoryCandidates"/>.</summary>
    public string? TerritoryWords { get; set; }

    public string? Url { get; set; }
    public string Description { get; set; } = "";
    public string? Contact { get; set; }
    public string? ContractType { get; set; }
    public string? Beneficiaries { get; set; }
    public decimal? AmountEur { get; set; }

    /// <summary>Themes as written in the file (codes or labels); ThemeCodes once recognised.</summary>
    public List<string> ThemeNames { get; set; } = [];

    public List<string> ThemeCodes { get; set; } = [];
    public List<string> Errors { get; } = [];

    /// <summary>What a person must choose before the line can be created ("le type", "le territoire").</summary>
    public List<string> Missing { get; } = [];

    /// <summary>The import's default territory was applied (none recognised): to be checked by a person.</summary>
    public bool DefaultTerritoryApplied { get; set; }
    public CandidateState State { get; set; } = CandidateState.New;
    public long? ExistingId { get; set; }

    public bool IsValid => Errors.Count == 0;

    public void Apply(TerritoryGuess guess)
    {
        TerritoryCodes = [.. guess.Codes];
        TerritoryKnown = guess.Known;
        TerritoryReason = guess.Reason;
        TerritoryCandidates = guess.Candidates;
        TerritoryWords = guess.Words;
    }
}
