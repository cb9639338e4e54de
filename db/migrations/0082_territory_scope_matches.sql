-- Matching at commune scale (issue 22). 0050 wrote one match row per offer and per territory it matches both ways:
-- with 36,000 territories a national offer would have 36,000 rows. Now an offer has a bounded scope: the codes of its
-- own territories and of their ancestors (what contains them: a commune's EPCI, département, région, France), plus
-- its own territories marked with '=' ('=33': "an offer for Gironde itself"). A search for T reads the keys
--   T                  offers of T and of everything T contains (their scope holds T), and, unless only local
--   '=' || ancestor    offers made for a territory that contains T (national, régional… offers),
-- both ways through the hierarchy with one to six index ranges, whatever the size of T.
-- '=' never starts a territory code (CHECK of 0001), so both kinds of keys share one column and one index.

-- The place of work of a job (a commune), besides the territories it was published for: it joins the scope.
ALTER TABLE opportunities
  ADD COLUMN IF NOT EXISTS work_territory_code text REFERENCES territories (code),
  ADD COLUMN IF NOT EXISTS territory_scope text[] NOT NULL DEFAULT '{}';

CREATE OR REPLACE FUNCTION territory_scope_of(p_codes text[]) RETURNS text[]
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$
    SELECT coalesce(array_agg(DISTINCT k ORDER BY k), '{}')
    FROM (SELECT unnest(t.lineage) AS k FROM territories t WHERE t.code = ANY (p_codes)
          UNION ALL
          SELECT '=' || c FROM unnest(p_codes) c) s
  $$;

CREATE OR REPLACE FUNCTION opportunities_scope_before_write() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  NEW.territory_scope := territory_scope_of(
    CASE WHEN NEW.work_territory_code IS NULL THEN NEW.territory_codes ELSE NEW.territory_codes || NEW.work_territory_code END);
  RETURN NEW;
END $$;

-- Existing offers first, before the triggers below exist (their match rows are rebuilt at the end, set-based).
UPDATE opportunities SET territory_scope = territory_scope_of(territory_codes) WHERE territory_codes <> '{}';

DROP TRIGGER IF EXISTS opportunities_scope_before_write ON opportunities;
CREATE TRIGGER opportunities_scope_before_write BEFORE INSERT OR UPDATE OF territory_codes, work_territory_code
  ON opportunities FOR EACH ROW EXECUTE FUNCTION opportunities_scope_before_write();

-- The match rows are now the scope's keys (at most ~6 a territory, 2 for a national offer).
CREATE OR REPLACE FUNCTION opportunity_territory_matches_refresh(p_ids bigint[]) RETURNS void
  LANGUAGE sql AS $$
  DELETE FROM opportunity_territory_matches WHERE opportunity_id = ANY (p_ids);
  INSERT INTO opportunity_territory_matches (opportunity_id, territory_code, kind, deadline_sort)
  SELECT o.id, k, o.kind, o.deadline_sort
  FROM opportunities o
  CROSS JOIN LATERAL unnest(o.territory_scope) k
  WHERE o.id = ANY (p_ids) AND o.status = 'published';
$$;

-- As 0055, on the scope (which follows territory_codes and the place of work) instead of territory_codes.
DROP TRIGGER IF EXISTS opportunities_matches_upd ON opportunities;
CREATE TRIGGER opportunities_matches_upd AFTER UPDATE ON opportunities FOR EACH ROW
  WHEN ((NEW.status = 'published' OR OLD.status = 'published')
        AND (NEW.status IS DISTINCT FROM OLD.status OR NEW.kind IS DISTINCT FROM OLD.kind
             OR NEW.deadline_sort IS DISTINCT FROM OLD.deadline_sort
             OR NEW.territory_scope IS DISTINCT FROM OLD.territory_scope)
        AND NOT (NEW.status <> 'published' AND OLD.deadline_sort <= now()))
  EXECUTE FUNCTION opportunities_matches_after_update_row();

TRUNCATE opportunity_territory_matches;
INSERT INTO opportunity_territory_matches (opportunity_id, territory_code, kind, deadline_sort)
SELECT o.id, k, o.kind, o.deadline_sort
FROM opportunities o CROSS JOIN LATERAL unnest(o.territory_scope) k
WHERE o.status = 'published';
ANALYZE opportunity_territory_matches;

-- The GIN filters (text search within a territory, archive, digest preview) overlap the scope with the search's keys.
CREATE INDEX IF NOT EXISTS opportunities_open_scope
  ON opportunities USING gin (territory_scope) WHERE status = 'published';
CREATE INDEX IF NOT EXISTS opportunities_public_scope
  ON opportunities USING gin (territory_scope) WHERE status IN ('published', 'closed', 'expired');
CREATE INDEX IF NOT EXISTS opportunities_open_search_scope
  ON opportunities USING gin (search, territory_scope, kind) WHERE status = 'published';
DROP INDEX IF EXISTS opportunities_open_territories;
DROP INDEX IF EXISTS opportunities_public_territories;
DROP INDEX IF EXISTS opportunities_open_search_territories;
ANALYZE opportunities;
