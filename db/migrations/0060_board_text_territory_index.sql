-- Board text search within a territory (issue 8 benchmarks): one GIN over the words, the territories and the kind of
-- open offers, so that "insertion jeunes" in Gironde intersects posting lists inside the index instead of probing every
-- offer of the territory's match rows (9,000 probes, 25-290 ms, for a count of 818 at national scale). A multicolumn
-- GIN serves a condition on any subset of its columns as well as a single-column one: it replaces the words-only index
-- of 0010. btree_gin gives GIN the equality on kind; it is a trusted extension (the database owner may create it).
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX IF NOT EXISTS opportunities_open_search_territories
  ON opportunities USING gin (search, territory_codes, kind) WHERE status = 'published';
DROP INDEX IF EXISTS opportunities_open_search;
