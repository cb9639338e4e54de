-- Board page cache (Board/PageCache.cs): every app node keeps rendered list pages for a few seconds and forgets them
-- all when what they show changes. A statement that writes any table the list reads notifies channel board_changed;
-- PostgreSQL delivers it to every listening node at commit (and once per transaction, however many statements).
CREATE OR REPLACE FUNCTION notify_board_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('board_changed', '');
  RETURN NULL;
END
$$;

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['opportunities', 'opportunity_territories', 'opportunity_territory_matches',
                           'opportunity_themes', 'issuers', 'themes', 'territories']
  LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t || '_board_changed', t);
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I '
                   'FOR EACH STATEMENT EXECUTE FUNCTION notify_board_changed()', t || '_board_changed', t);
  END LOOP;
END
$$;
