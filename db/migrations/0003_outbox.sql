-- Mail outbox: every email is a row written in the same transaction as the change that causes it;
-- the delivery job sends due rows (claimed with FOR UPDATE SKIP LOCKED) and marks each one sent.
CREATE TABLE IF NOT EXISTS outbox (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- Stable across retries so a receiving server (and our tests) can spot a re-delivery.
  message_id      text NOT NULL UNIQUE,
  -- What the email is about: verification, reset, moderation, digest, reminder, renewal, confirmation...
  category        text NOT NULL CHECK (category ~ '^[a-z_]{2,40}$'),
  -- Business idempotency: the same effect (e.g. 'digest:42:2026-W48') never queues two emails.
  dedupe_key      text UNIQUE,
  to_address      text NOT NULL CHECK (to_address ~ '^[^@\s]+@[^@\s]+$' AND length(to_address) <= 320),
  to_name         text,
  subject         text NOT NULL CHECK (length(subject) BETWEEN 1 AND 998),
  text_body       text NOT NULL,
  html_body       text NOT NULL,
  -- Extra headers (List-Id, List-Unsubscribe, List-Unsubscribe-Post...) as a JSON object of strings.
  headers         jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(headers) = 'object'),
  status          text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
  attempts        int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  sent_at         timestamptz,
  CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
-- The delivery job's claim: due queued rows, oldest first.
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_at, id) WHERE status = 'queued';
CREATE INDEX IF NOT EXISTS outbox_failed ON outbox (created_at DESC) WHERE status = 'failed';
CREATE INDEX IF NOT EXISTS outbox_to_address ON outbox (lower(to_address), created_at DESC);
