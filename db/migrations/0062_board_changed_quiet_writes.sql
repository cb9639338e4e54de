-- Writes that cannot change what a list page shows say so, and are not announced (Board/PageCache.cs):
-- a statement-level trigger fires even when no row changed, so the expiry job, every 15 minutes on one node, made every
-- node forget all its kept pages whether or not anything was due; its status update only concerns offers already past
-- their closing instant, which no page lists (the board computes closes_at itself). Such a transaction runs
-- SET LOCAL opportunites.board_quiet = 'on' (BoardChanges.QuietSql) and notifies itself when it did change a listed row.
CREATE OR REPLACE FUNCTION notify_board_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(current_setting('opportunites.board_quiet', true), '') <> 'on' THEN
    PERFORM pg_notify('board_changed', '');
  END IF;
  RETURN NULL;
END
$$;
