-- No query looks an outbox row up by its Message-ID (the app draws a random one per row), yet the unique index on it
-- took one more entry at each INSERT and at each of the two updates of a row's life (claimed, then sent: neither can
-- be HOT, the due index covers next_attempt_at and status): a heap fetch for the uniqueness check each time. A digest
-- of 100,000 subscribers runs these 300,000 times.
ALTER TABLE outbox DROP CONSTRAINT outbox_message_id_key;
