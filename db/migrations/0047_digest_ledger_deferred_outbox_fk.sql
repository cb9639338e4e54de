-- A digest batch writes its ledger rows already pointing at the outbox rows written just after them (ids drawn from
-- the outbox sequence by the ledger insert), instead of inserting the ledger, then the outbox, then updating the
-- ledger: one write of each row instead of two (digest benchmark: the update was a tenth of the database's time).
-- The foreign key is checked at commit, when both sides exist.
ALTER TABLE digest_deliveries ALTER CONSTRAINT digest_deliveries_outbox_id_fkey DEFERRABLE INITIALLY DEFERRED;
