-- The digest ledger's link to its outbox row without a foreign key. The key was checked at commit for every digest
-- queued: one FOR KEY SHARE lock written on each new outbox row (a WAL record, with a full page image after each
-- checkpoint) and one trigger query, ~2 s of PostgreSQL's CPU in a 100,000-subscriber run (docs/benchmarks.md, 04/12).
-- The only writer (DigestRunner) draws the id and writes the outbox row in the same transaction, or unlinks the ledger
-- row when that email was already queued; what the key still did, clearing links when outbox rows are deleted
-- (retention, erasure), this trigger does, once per DELETE statement.
ALTER TABLE digest_deliveries DROP CONSTRAINT IF EXISTS digest_deliveries_outbox_id_fkey;

CREATE OR REPLACE FUNCTION outbox_unlink_digest_ledger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE digest_deliveries d SET outbox_id = NULL FROM gone WHERE d.outbox_id = gone.id;
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS outbox_unlink_digest_ledger ON outbox;
CREATE TRIGGER outbox_unlink_digest_ledger AFTER DELETE ON outbox
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION outbox_unlink_digest_ledger();
