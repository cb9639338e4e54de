-- Expiry at scale (issue 8): expiring 100,000 offers took 30 s, a third of it in the match-table trigger of 0050.
-- 1. An offer that leaves 'published' after its closing instant keeps its rows in opportunity_territory_matches.
--    Deleting them cost up to ~120 rows per national offer, for nothing: the board reads that table with
--    "deadline_sort > now()", and these rows' deadline_sort (the offer's, kept in sync) is already past, so they are
--    never shown again; republishing or a new deadline refreshes them as before. PurgeJob deletes them once a day.
--    The table now holds every published offer, plus rows whose deadline_sort is past.
-- 2. The UPDATE trigger is per row with a WHEN condition instead of per statement with transition tables: PostgreSQL
--    copied every updated row (old and new, ~2.7 kB each) into the transition tables of any UPDATE, 270 MB written to
--    temporary files for 100,000 expired offers; now a row that does not change the matches queues nothing.
CREATE OR REPLACE FUNCTION opportunities_matches_after_update_row() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  PERFORM opportunity_territory_matches_refresh(ARRAY[NEW.id]);
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS opportunities_matches_upd ON opportunities;
CREATE TRIGGER opportunities_matches_upd AFTER UPDATE ON opportunities FOR EACH ROW
  WHEN ((NEW.status = 'published' OR OLD.status = 'published')
        AND (NEW.status IS DISTINCT FROM OLD.status OR NEW.kind IS DISTINCT FROM OLD.kind
             OR NEW.deadline_sort IS DISTINCT FROM OLD.deadline_sort
             OR NEW.territory_codes IS DISTINCT FROM OLD.territory_codes)
        -- Leaving the board after its deadline (expiry): its rows are already out of every range the board reads.
        AND NOT (NEW.status <> 'published' AND OLD.deadline_sort <= now()))
  EXECUTE FUNCTION opportunities_matches_after_update_row();

DROP FUNCTION IF EXISTS opportunities_matches_after_update();
