using Dapper;
using Opportunites.Tests.Infrastructure;
using Opportunites.Web.Board;
using Opportunites.Web.Opportunities;
using static Opportunites.Tests.Board.BoardSeed;

namespace Opportunites.Tests.Board;

public sealed class BoardQueriesTests
{
    [Test]
    public async Task Search_Territory_MatchesBothWaysThroughHierarchy()
    {
        var issuer = await IssuerAsync();
        var tag = TestData.Unique("Territoire");
        await OfferAsync(issuer, tag + " Gironde", ["33"]);
        await OfferAsync(issuer, tag + " Nouvelle-Aquitaine", ["R75"]);
        await OfferAsync(issuer, tag + " National", ["FR"]);
        await OfferAsync(issuer, tag + " Landes", ["40"]);
        await OfferAsync(issuer, tag + " Occitanie", ["R76"]);

        Assert.That(await TitlesAsync($"?emetteur={issuer}&territoire=gironde"),
            Is.EquivalentTo(new[] { tag + " Gironde", tag + " Nouvelle-Aquitaine", tag + " National" }));
        Assert.That(await TitlesAsync($"?emetteur={issuer}&territoire=R75"),
            Is.EquivalentTo(new[] { tag + " Gironde", tag + " Nouvelle-Aquitaine", tag + " National", tag + " Landes" }));
        Assert.That(await TitlesAsync($"?emetteur={issuer}&territoire=40"),
            Is.EquivalentTo(new[] { tag + " Nouvelle-Aquitaine", tag + " National", tag + " Landes" }));
        Assert.That(await TitlesAsync($"?emetteur={issuer}&territoire=FR"), Has.Length.EqualTo(5));
    }

    [Test]
    public async Task Search_TerritoryAfterChanges_FollowsStatusKindDeadlineAndTerritories()
    {
        // The territory filter reads the match table of 0050, kept by triggers: every change must show at once.
        var issuer = await IssuerAsync();
        var title = TestData.Unique("Correspondances");
        var id = await OfferAsync(issuer, title, ["33"]);
        var inGironde = $"?emetteur={issuer}&territoire=33";
        Assert.That(await TitlesAsync(inGironde), Is.EqualTo(new[] { title }));

        await using var conn = await Db.OpenConnectionAsync();
        await conn.ExecuteAsync("UPDATE opportunities SET kind = 'ami' WHERE id = @id", new { id });
        Assert.That(await TitlesAsync(inGironde + "&type=aap"), Is.Empty);
        Assert.That(await TitlesAsync(inGironde + "&type=ami"), Is.EqualTo(new[] { title }));

        await conn.ExecuteAsync("DELETE FROM opportunity_territories WHERE opportunity_id = @id", new { id });
        await conn.ExecuteAsync("INSERT INTO opportunity_territories (opportunity_id, territory_code) VALUES (@id, '40')", new { id });
        Assert.That(await TitlesAsync(inGironde), Is.Empty);
        Assert.That(await TitlesAsync($"?emetteur={issuer}&territoire=R75"), Is.EqualTo(new[] { title }));

        await conn.ExecuteAsync("UPDATE opportunities SET deadline_date = current_date - 2 WHERE id = @id", new { id });
        Assert.That(await TitlesAsync($"?emetteur={issuer}&territoire=40"), Is.Empty);

        await conn.ExecuteAsync("UPDATE opportunities SET deadline_date = current_date + 5 WHERE id = @id", new { id });
        Assert.That(await TitlesAsync($"?emetteur={issuer}&territoire=40"), Is.EqualTo(new[] { title }));

        await conn.ExecuteAsync("UPDATE opportunities SET status = 'closed', closed_at = now() WHERE id = @id", new { id });
        Assert.That(await TitlesAsync($"?emetteur={issuer}&territoire=40"), Is.Empty);
        Assert.That(await conn.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM opportunity_territory_matches WHERE opportunity_id = @id", new { id }), Is.Zero);
    }

    [Test]
    public async Task Search_TerritoryAndKindCount_EqualsTheOverlapDefinition()
    {
        var issuer = await IssuerAsync();
        var tag = TestData.Unique("Compte");
        for (var i = 0; i < 12; i++)
        {
            await OfferAsync(issuer, $"{tag} {i}", i % 2 == 0 ? ["33"] : ["FR", "64"], kind: i % 3 == 0 ? Kinds.Emploi : Kinds.Aap);
        }

        // Territory + kind alone is counted from the match table only; the reference is the plain definition of "open".
        var page = await Queries().SearchAsync(await FilterAsync("?territoire=R75&type=aap"));
        await using var conn = await Db.OpenConnectionAsync();
        var expected = await conn.ExecuteScalarAsync<long>("""
            SELECT count(*) FROM opportunities
            WHERE status = 'published' AND deadline_sort > now() AND kind = 'aap'
              AND territory_codes && territory_match_set('R75')
            """);

        Assert.That(expected, Is.GreaterThanOrEqualTo(8));
        // Other tests' rows share the database: past the cap, the count is the cap as a lower bound.
        Assert.That((page.Total, page.TotalCapped),
            Is.EqualTo(expected > BoardQueries.CountCap ? (BoardQueries.CountCap, true) : (expected, false)));
    }

    [Test]
    public async Task Search_SeveralKinds_OnlyThoseKinds()
    {
        var issuer = await IssuerAsync();
        var tag = TestData.Unique("Types");
        await OfferAsync(issuer, tag + " emploi", kind: Kinds.Emploi);
        await OfferAsync(issuer, tag + " aap", kind: Kinds.Aap);
        await OfferAsync(issuer, tag + " ami", kind: Kinds.Ami);

        Assert.That(await TitlesAsync($"?emetteur={issuer}&type=emploi&type=ami"),
            Is.EquivalentTo(new[] { tag + " emploi", tag + " ami" }));
        Assert.That(await TitlesAsync($"?emetteur={issuer}&type=aap"), Is.EqualTo(new[] { tag + " aap" }));
    }

    [Test]
    public async Task Search_ThemeClosingAndDeadlineBy_FilterAsAsked()
    {
        var issuer = await IssuerAsync();
        var tag = TestData.Unique("Filtres");
        await OfferAsync(issuer, tag + " numérique J-3", daysLeft: 3, themes: ["numerique"]);
        await OfferAsync(issuer, tag + " sport J-20", daysLeft: 20, themes: ["sport"]);
        await OfferAsync(issuer, tag + " numérique J-90", daysLeft: 90, themes: ["numerique", "jeunesse"]);
        await OfferAsync(issuer, tag + " sans date", daysLeft: null);

        Assert.That(await TitlesAsync($"?emetteur={issuer}&theme=numerique"),
            Is.EqualTo(new[] { tag + " numérique J-3", tag + " numérique J-90" }));
        Assert.That(await TitlesAsync($"?emetteur={issuer}&cloture=7"), Is.EqualTo(new[] { tag + " numérique J-3" }));
        Assert.That(await TitlesAsync($"?emetteur={issuer}&cloture=30"),
            Is.EqualTo(new[] { tag + " numérique J-3", tag + " sport J-20" }));
        var by = Today.AddDays(20).ToString("dd/MM/yyyy");
        Assert.That(await TitlesAsync($"?emetteur={issuer}&limite={by}"),
            Is.EqualTo(new[] { tag + " numérique J-3", tag + " sport J-20" }));
    }

    [Test]
    public async Task Search_Default_HidesExpiredClosedAndUnpublished_ArchiveShowsOnlyOncePublic()
    {
        var issuer = await IssuerAsync();
        var tag = TestData.Unique("Statuts");
        await OfferAsync(issuer, tag + " ouverte");
        await OfferAsync(issuer, tag + " échue", deadline: new DateOnly(2021, 3, 1));
        await OfferAsync(issuer, tag + " expirée", status: Statuses.Expired, deadline: new DateOnly(2021, 4, 1));
        await OfferAsync(issuer, tag + " close", status: Statuses.Closed);
        await OfferAsync(issuer, tag + " brouillon", status: Statuses.Draft);
        await OfferAsync(issuer, tag + " en attente", status: Statuses.Pending);

        Assert.That(await TitlesAsync($"?emetteur={issuer}"), Is.EqualTo(new[] { tag + " ouverte" }));
        Assert.That(await TitlesAsync($"?emetteur={issuer}&archives=1"),
            Is.EqualTo(new[] { tag + " échue", tag + " expirée", tag + " ouverte", tag + " close" }));
    }

    [Test]
    public async Task Search_WordsWithoutAccents_FindAccentedTitleIssuerAndDescription()
    {
        var word = Word();
        var prefecture = await IssuerAsync(TestData.Unique("Préfecture de la Gironde"));
        var other = await IssuerAsync();
        await OfferAsync(other, $"Médiation numérique {word}");
        await OfferAsync(prefecture, $"Appel {word}");
        await OfferAsync(other, $"Soutien {word}", description: "Pour les élèves de l'école élémentaire.");

        Assert.That(await TitlesAsync($"?q=numerique {word}"), Is.EqualTo(new[] { $"Médiation numérique {word}" }));
        Assert.That(await TitlesAsync($"?q=prefecture {word}"), Is.EqualTo(new[] { $"Appel {word}" }));
        Assert.That(await TitlesAsync($"?q=eleves ecole {word}"), Is.EqualTo(new[] { $"Soutien {word}" }));
        // Stemming: the plural and another form of the word still match.
        Assert.That(await TitlesAsync($"?q=médiations {word}"), Is.EqualTo(new[] { $"Médiation numérique {word}" }));
        // websearch syntax: exclusion.
        Assert.That(await TitlesAsync($"?q={word} -numerique -prefecture"), Is.EqualTo(new[] { $"Soutien {word}" }));
    }

    [Test]
    public async Task Search_HyphenatedWords_SearchedAsBothWordsAnywhere()
    {
        var word = Word();
        var other = await IssuerAsync();
        await OfferAsync(other, $"Réseau des tiers-lieux {word}");
        await OfferAsync(other, $"Tiers financeur {word}", description: "Des lieux de vie pour tous.");
        await OfferAsync(other, $"Accueil des personnes sans-abri {word}");

        var hyphenated = await TitlesAsync($"?q=tiers-lieux {word}");
        var spaced = await TitlesAsync($"?q=tiers lieux {word}");

        // Both words, in any place: the phrase "tiers-lieux" is no longer required (nor checked row by row).
        Assert.That(hyphenated, Is.EquivalentTo(new[] { $"Réseau des tiers-lieux {word}", $"Tiers financeur {word}" }));
        Assert.That(spaced, Is.EquivalentTo(hyphenated));
        Assert.That(await TitlesAsync($"?q=sans-abri {word}"), Is.EqualTo(new[] { $"Accueil des personnes sans-abri {word}" }));
        // A leading "-" still excludes.
        Assert.That(await TitlesAsync($"?q={word} -abri"), Is.EquivalentTo(new[] { $"Réseau des tiers-lieux {word}", $"Tiers financeur {word}" }));
    }

    [TestCase("tiers-lieux", "tiers lieux")]
    [TestCase("Île-de-France -Paris", "Île de France -Paris")]
    [TestCase("-numerique a-b", "-numerique a b")]
    [TestCase("mot - autre", "mot - autre")]
    public void SplitCompounds_HyphenBetweenLettersOnly(string query, string expected) =>
        Assert.That(BoardQueries.SplitCompounds(query), Is.EqualTo(expected));

    [Test]
    public async Task Search_Relevance_TitleBeforeIssuerBeforeDescription()
    {
        var word = Word();
        var plain = await IssuerAsync();
        var named = await IssuerAsync(TestData.Unique($"Fondation {word}"));
        // Deadlines in the opposite order, so that relevance and deadline orders differ.
        await OfferAsync(plain, "Dans la description", description: $"Il est question de {word} ici.", daysLeft: 10);
        await OfferAsync(named, "Chez l'émetteur", daysLeft: 20);
        await OfferAsync(plain, $"Appel {word} dans le titre", daysLeft: 30);

        Assert.That(await TitlesAsync($"?q={word}&tri=pertinence"),
            Is.EqualTo(new[] { $"Appel {word} dans le titre", "Chez l'émetteur", "Dans la description" }));
        Assert.That(await TitlesAsync($"?q={word}"),
            Is.EqualTo(new[] { "Dans la description", "Chez l'émetteur", $"Appel {word} dans le titre" }));
    }

    [Test]
    public async Task Search_Orders_DeadlineSoonestFirstNoDeadlineLast_NewestByPublication()
    {
        var issuer = await IssuerAsync();
        var tag = TestData.Unique("Ordre");
        var now = DateTimeOffset.UtcNow;
        await OfferAsync(issuer, tag + " sans date", daysLeft: null, publishedAt: now.AddDays(-1));
        await OfferAsync(issuer, tag + " J-40", daysLeft: 40, publishedAt: now.AddDays(-3));
        await OfferAsync(issuer, tag + " J-5 midi", daysLeft: 5, time: new TimeOnly(12, 0), publishedAt: now.AddDays(-2));
        await OfferAsync(issuer, tag + " J-5 soir", daysLeft: 5, publishedAt: now.AddDays(-4));

        Assert.That(await TitlesAsync($"?emetteur={issuer}"),
            Is.EqualTo(new[] { tag + " J-5 midi", tag + " J-5 soir", tag + " J-40", tag + " sans date" }));
        Assert.That(await TitlesAsync($"?emetteur={issuer}&tri=recent"),
            Is.EqualTo(new[] { tag + " sans date", tag + " J-5 midi", tag + " J-40", tag + " J-5 soir" }));
    }

    [Test]
    public async Task Search_CursorPages_StableWhenOffersArriveMeanwhile()
    {
        var issuer = await IssuerAsync();
        var tag = TestData.Unique("Page");
        for (var i = 1; i <= 45; i++)
        {
            await OfferAsync(issuer, $"{tag} {i:00}", daysLeft: 10 + i);
        }

        var board = Queries();
        var filter = await FilterAsync($"?emetteur={issuer}");
        var page1 = await board.SearchAsync(filter);
        // A new offer with the soonest deadline arrives while the visitor reads page 1.
        await OfferAsync(issuer, $"{tag} nouvelle", daysLeft: 1);
        var page2 = await board.SearchAsync(filter with { After = page1.LastId, Page = 2 });
        var page3 = await board.SearchAsync(filter with { After = page2.LastId, Page = 3 });

        Assert.That(page1.Items.Select(o => o.Title), Is.EqualTo(Enumerable.Range(1, 20).Select(i => $"{tag} {i:00}")));
        Assert.That(page2.Items.Select(o => o.Title), Is.EqualTo(Enumerable.Range(21, 20).Select(i => $"{tag} {i:00}")));
        Assert.That(page3.Items.Select(o => o.Title), Is.EqualTo(Enumerable.Range(41, 5).Select(i => $"{tag} {i:00}")));
        Assert.That((page1.HasPrevious, page1.HasNext), Is.EqualTo((false, true)));
        Assert.That((page2.HasPrevious, page2.HasNext), Is.EqualTo((true, true)));
        Assert.That((page3.HasPrevious, page3.HasNext), Is.EqualTo((true, false)));
        Assert.That(page3.Total, Is.EqualTo(46));

        // Going back from page 3 gives page 2 again, then rows 1–20, then the newcomer alone at the top.
        var back = await board.SearchAsync(filter with { Before = page3.FirstId });
        Assert.That(back.Items.Select(o => o.Id), Is.EqualTo(page2.Items.Select(o => o.Id)));
        var back2 = await board.SearchAsync(filter with { Before = page2.FirstId });
        Assert.That(back2.Items.Select(o => o.Id), Is.EqualTo(page1.Items.Select(o => o.Id)));
        Assert.That((back2.HasPrevious, back2.HasNext), Is.EqualTo((true, true)));
        var top = await board.SearchAsync(filter with { Before = back2.FirstId });
        Assert.That(top.Items.Select(o => o.Title), Is.EqualTo(new[] { $"{tag} nouvelle" }));
        Assert.That(top.HasPrevious, Is.False);
    }

    [Test]
    public async Task Search_PageNumber_OffsetPagesAndEmptyBeyondTheEnd()
    {
        var issuer = await IssuerAsync();
        var tag = TestData.Unique("Numéro");
        for (var i = 1; i <= 25; i++)
        {
            await OfferAsync(issuer, $"{tag} {i:00}", daysLeft: 10 + i);
        }

        var board = Queries();
        var page2 = await board.SearchAsync(await FilterAsync($"?emetteur={issuer}&page=2"));
        var beyond = await board.SearchAsync(await FilterAsync($"?emetteur={issuer}&page=500"));

        Assert.That(page2.Items.Select(o => o.Title), Is.EqualTo(Enumerable.Range(21, 5).Select(i => $"{tag} {i:00}")));
        Assert.That(page2.HasPrevious, Is.True);
        Assert.That(beyond.Items, Is.Empty);
        Assert.That(beyond.Total, Is.EqualTo(25));
    }

    [TestCase("le la les")]
    [TestCase("\"guillemet ouvert")]
    [TestCase("-")]
    [TestCase("or or or")]
    [TestCase("a & b | !c :* (")]
    [TestCase("😀 émoji")]
    public async Task Search_OddText_NoErrorAndNoMatchOutsideTheQuery(string q)
    {
        var issuer = await IssuerAsync();
        await OfferAsync(issuer, TestData.Unique("Bruit"));

        var page = await Queries().SearchAsync(await FilterAsync($"?emetteur={issuer}&q={Uri.EscapeDataString(q)}"));

        Assert.That(page.Items, Is.Empty);
    }

    [Test]
    public async Task Search_UnknownCursor_EmptyPage()
    {
        var page = await Queries().SearchAsync(await FilterAsync("?apres=999999999999"));

        Assert.That(page.Items, Is.Empty);
    }

    // Which index wins depends on the statistics of the moment; what must hold is that one applies, and that the
    // keyset cursor is an index condition rather than a filter over the whole range.
    [TestCase("?territoire=33&type=aap", "Index")]
    [TestCase("?archives=1", "Index")]
    [TestCase("?archives=1&tri=recent", "Index")]
    [TestCase("?tri=recent", "Index")]
    [TestCase("?apres=1", "Index Cond: ((deadline_sort > now()) AND (ROW(deadline_sort, id) > ROW(")]
    [TestCase("?q=numerique", "Index")]
    public async Task Explain_GeneratedPageQuery_UsesAnIndex(string query, string expected)
    {
        var (sql, p) = BoardQueries.BuildPageQuery(await FilterAsync(query), BoardFilter.PageSize);
        await using var conn = await Db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        // On a small test table the planner may prefer a sequential scan; forbid it to check that an index applies.
        await conn.ExecuteAsync("SET LOCAL enable_seqscan = off", transaction: tx);
        var plan = string.Join("\n", await conn.QueryAsync<string>("EXPLAIN " + sql, p, tx));

        Assert.That(plan, Does.Contain(expected), plan);
        Assert.That(plan, Does.Not.Contain("Seq Scan on opportunities"), plan);
    }

    [TestCase("")]
    [TestCase("&tri=recent")]
    [TestCase("&tri=pertinence")]
    public async Task Search_CursorPagesInEverySort_ContinueTheSingleListExactly(string sort)
    {
        var word = Word();
        var issuer = await IssuerAsync();
        var now = DateTimeOffset.UtcNow;
        for (var i = 1; i <= 25; i++)
        {
            // Ties on purpose (same deadline, same rank) so that the id decides.
            await OfferAsync(issuer, i % 3 == 0 ? $"Titre {word} {i}" : $"Offre {i}", description: $"Texte {word}",
                daysLeft: 10 + (i % 4), publishedAt: now.AddHours(-(i % 5)));
        }

        var board = Queries();
        var filter = await FilterAsync($"?q={word}{sort}");
        var all = (await board.SearchAsync(filter, 100)).Items.Select(o => o.Id).ToList();
        var page1 = await board.SearchAsync(filter);
        var page2 = await board.SearchAsync(filter with { After = page1.LastId });
        var back = await board.SearchAsync(filter with { Before = page2.FirstId });

        Assert.That(all, Has.Count.EqualTo(25));
        Assert.That(page1.Items.Concat(page2.Items).Select(o => o.Id), Is.EqualTo(all));
        Assert.That(back.Items.Select(o => o.Id), Is.EqualTo(page1.Items.Select(o => o.Id)));
        Assert.That(page2.HasNext, Is.False);
    }

    // Several scope keys are read as one range each, cut at the rows a page needs, then merged (BoardQueries.RangesSql):
    // every page, in every order and paging mode, must be the plain definition's, an offer under two keys once.
    [TestCase("&portee=local", "")]
    [TestCase("&portee=local", "&type=aap")]
    [TestCase("&portee=local", "&tri=recent")]
    [TestCase("&portee=local", "&type=aap&type=emploi")]
    [TestCase("", "")]
    [TestCase("", "&tri=recent")]
    [TestCase("", "&theme=jeunesse")]
    public async Task Search_SeveralScopeKeys_EveryPageIsThePlainDefinitions(string scope, string more)
    {
        // Two communes of one EPCI nobody else's test uses; with wider offers, the issuer filter isolates this test.
        await using var conn = await Db.OpenConnectionAsync();
        var epci = await conn.QuerySingleAsync<string>("""
            SELECT lineage[4] FROM territories WHERE level = 'commune' AND array_length(lineage, 1) = 5
            GROUP BY lineage[4] HAVING count(*) >= 3 ORDER BY random() LIMIT 1
            """);
        var (c1, c2) = await conn.QuerySingleAsync<(string, string)>("""
            SELECT min(code), max(code) FROM (SELECT code FROM territories WHERE level = 'commune' AND lineage[4] = @epci
                                              ORDER BY random() LIMIT 2) c
            """, new { epci });
        var issuer = await IssuerAsync();
        var now = DateTimeOffset.UtcNow;
        string[][] places = [[c1], [c2], [c1, c2], [epci], [c1, "FR"], [epci, c2], ["FR"], ["33"], [c2, "R75"]];
        for (var i = 0; i < 36; i++)
        {
            // Equal deadlines and publication times on purpose, so that ids decide.
            await OfferAsync(issuer, $"Plages {i}", places[i % places.Length], kind: i % 4 == 0 ? Kinds.Emploi : Kinds.Aap,
                daysLeft: 5 + (i % 7), themes: i % 3 == 0 ? ["jeunesse"] : null, publishedAt: now.AddHours(-(i % 5)));
        }

        var query = $"?emetteur={issuer}&territoire={c1}&territoire={c2}{scope}{more}";
        var filter = await FilterAsync(query);
        var keys = BoardQueries.MatchKeys(filter);
        string[] all = [.. keys.Local, .. keys.Wider];
        var newest = more.Contains("recent", StringComparison.Ordinal);
        var expected = (await conn.QueryAsync<long>($"""
            SELECT o.id FROM opportunities o
            WHERE o.issuer_id = @issuer AND o.status = 'published' AND o.deadline_sort > now() AND o.territory_scope && @all
              AND (cardinality(@kinds) = 0 OR o.kind = ANY (@kinds))
              AND (cardinality(@themes) = 0 OR EXISTS (SELECT 1 FROM opportunity_themes t WHERE t.opportunity_id = o.id AND t.theme_code = ANY (@themes)))
            ORDER BY {(newest ? "o.published_at DESC, o.id DESC" : "o.deadline_sort, o.id")}
            """, new { issuer, all, kinds = filter.Kinds.ToArray(), themes = filter.Themes.ToArray() })).AsList();
        Assert.That(expected, Has.Count.GreaterThan(10), "the places above give every case three pages or more");

        var board = Queries();
        const int size = 5;
        var byNumber = new List<long>();
        for (var n = 1; n <= expected.Count / size + 1; n++)
        {
            byNumber.AddRange((await board.SearchAsync(filter with { Page = n }, size)).Items.Select(o => o.Id));
        }

        var byCursor = new List<long>();
        var pages = new List<BoardPage>();
        for (var page = await board.SearchAsync(filter, size); ; page = await board.SearchAsync(filter with { After = page.LastId }, size))
        {
            pages.Add(page);
            byCursor.AddRange(page.Items.Select(o => o.Id));
            if (!page.HasNext)
            {
                break;
            }
        }

        Assert.That(byNumber, Is.EqualTo(expected), "pages by number");
        Assert.That(byCursor, Is.EqualTo(expected), "pages after a cursor");
        Assert.That(pages.Select(p => p.Total).Distinct(), Is.EqualTo(new[] { (long)expected.Count }), "count");
        var back = await board.SearchAsync(filter with { Before = pages[^1].FirstId }, size);
        Assert.That(back.Items.Select(o => o.Id), Is.EqualTo(pages[^2].Items.Select(o => o.Id)), "page before a cursor");
        var feed = await board.GetForExportAsync(filter, 100);
        Assert.That(feed.Select(o => o.Id), Is.EqualTo(expected), "feed and export rows");
    }

    [Test]
    public async Task Parse_ControlCharacters_RemovedBeforeTheDatabase()
    {
        var issuer = await IssuerAsync();
        var word = Word();
        await OfferAsync(issuer, $"Nul {word}");

        Assert.That(await TitlesAsync($"?q=%00{word}%01&territoire=%00gironde%00"), Is.EqualTo(new[] { $"Nul {word}" }));
    }
}
