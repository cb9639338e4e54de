-- Shared outbox bodies (issue 8 digest benchmark): a weekly digest's ~45 KB body is the same for every subscriber of a
-- preference group but for a few links. It is stored once in outbox_bodies, with its placeholders; each outbox row
-- points at it and carries only its own values, and the delivery job personalises it when it sends. At 100,000
-- subscribers the queue held ~4.5 GB of near-identical text written, compressed, logged and read back (1.6 GB of WAL
-- for the INSERTs alone, their largest statement). Every other email keeps its bodies in its own row.
CREATE TABLE IF NOT EXISTS outbox_bodies (
  -- Chosen by the app so that a body and the rows pointing at it are written in one round trip.
  id           uuid PRIMARY KEY,
  -- Replaced, in order, by each row's values: personal[i] in the text body, personal[n + i] in the HTML body.
  placeholders text[] NOT NULL CHECK (cardinality(placeholders) BETWEEN 1 AND 10),
  text_body    text NOT NULL,
  html_body    text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE outbox_bodies ALTER COLUMN text_body SET COMPRESSION lz4;
ALTER TABLE outbox_bodies ALTER COLUMN html_body SET COMPRESSION lz4;

ALTER TABLE outbox ALTER COLUMN text_body DROP NOT NULL;
ALTER TABLE outbox ALTER COLUMN html_body DROP NOT NULL;
-- No foreign key: it would need an index on outbox.body_id, one more entry written by every INSERT and by every
-- "sent" UPDATE (not a HOT update: status is in the partial indexes' predicates). A body is written in the same
-- transaction as its first rows, a run never reuses another run's bodies, and the daily purge deletes only old bodies
-- no row points at (one anti-join over outbox).
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS body_id uuid;
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS personal text[];
ALTER TABLE outbox ADD CONSTRAINT outbox_one_body CHECK (
  CASE WHEN body_id IS NULL THEN text_body IS NOT NULL AND html_body IS NOT NULL AND personal IS NULL
       ELSE text_body IS NULL AND html_body IS NULL AND personal IS NOT NULL END);

-- Ordinal replacement of each placeholder by its value, in order (what the delivery job does in C# with
-- string.Replace(..., StringComparison.Ordinal)).
CREATE OR REPLACE FUNCTION outbox_personalise(body text, placeholders text[], vals text[]) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  FOR i IN 1 .. coalesce(cardinality(placeholders), 0) LOOP
    body := replace(body, placeholders[i], coalesce(vals[i], ''));
  END LOOP;
  RETURN body;
END $$;

-- Every outbox row with the bodies it sends: what readers other than the delivery job use (tests, bench samples).
CREATE OR REPLACE VIEW outbox_messages AS
SELECT o.id, o.message_id, o.category, o.dedupe_key, o.to_address, o.to_name, o.subject,
       coalesce(o.text_body, outbox_personalise(b.text_body, b.placeholders, o.personal)) AS text_body,
       coalesce(o.html_body, outbox_personalise(b.html_body, b.placeholders,
         o.personal[cardinality(b.placeholders) + 1 :])) AS html_body,
       o.headers, o.status, o.attempts, o.next_attempt_at, o.last_error, o.created_at, o.sent_at, o.body_id
FROM outbox o
LEFT JOIN outbox_bodies b ON b.id = o.body_id;
