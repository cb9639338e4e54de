-- Email alerts without an account: subscribers (one per address, consent recorded), their digest preferences,
-- the per-period digest ledger, deadline reminders and their ledger, and the Data Protection key ring.

-- One row per email address. Confirmation (double opt-in) is per address: a confirmed address may receive
-- digests and reminders; an unconfirmed one receives nothing but the confirmation email and is purged after 7 days.
CREATE TABLE IF NOT EXISTS subscribers (
  id                         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- Stored lower-cased and trimmed: one row per address whatever its spelling.
  email                      text NOT NULL UNIQUE
                             CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 320 AND email = lower(email)),
  consent_at                 timestamptz NOT NULL DEFAULT now(),
  consent_ip                 text CHECK (length(consent_ip) <= 64),
  confirmed_at               timestamptz,
  confirmed_ip               text CHECK (length(confirmed_ip) <= 64),
  -- Throttles confirmation emails to one address (no mail-bombing a victim through the form).
  last_confirmation_sent_at  timestamptz,
  created_at                 timestamptz NOT NULL DEFAULT now()
);
-- The purge of unconfirmed addresses.
CREATE INDEX IF NOT EXISTS subscribers_unconfirmed ON subscribers (created_at) WHERE confirmed_at IS NULL;

-- The weekly or daily digest of one subscriber. Arrays are kept sorted and distinct so that identical
-- preferences compare equal: the digest renders one body per distinct preference set.
CREATE TABLE IF NOT EXISTS digest_subscriptions (
  subscriber_id   bigint PRIMARY KEY REFERENCES subscribers (id) ON DELETE CASCADE,
  territory_codes text[] NOT NULL CHECK (cardinality(territory_codes) BETWEEN 1 AND 50),
  kinds           text[] NOT NULL CHECK (cardinality(kinds) BETWEEN 1 AND 3 AND kinds <@ ARRAY['emploi', 'aap', 'ami']),
  -- Empty: every theme.
  themes          text[] NOT NULL DEFAULT '{}' CHECK (cardinality(themes) <= 30),
  frequency       text NOT NULL DEFAULT 'weekly' CHECK (frequency IN ('weekly', 'daily')),
  paused_at       timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS digest_subscriptions_active ON digest_subscriptions (frequency) WHERE paused_at IS NULL;
-- Admin counts per territory.
CREATE INDEX IF NOT EXISTS digest_subscriptions_territories ON digest_subscriptions USING gin (territory_codes);

-- Exactly one digest per subscriber and period ('S2026-W48' weekly, 'J2026-11-23' daily): the row is written in
-- the same transaction as its outbox row, so a re-run, a retry or a second node finds it and sends nothing.
CREATE TABLE IF NOT EXISTS digest_deliveries (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  subscriber_id  bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  period         text NOT NULL CHECK (period ~ '^[SJ][0-9]{4}-[0-9W-]{3,6}$'),
  -- The window this digest covered: the next one starts where this one ended.
  covered_from   timestamptz NOT NULL,
  covered_until  timestamptz NOT NULL,
  new_count      int NOT NULL CHECK (new_count >= 0),
  closing_count  int NOT NULL CHECK (closing_count >= 0),
  outbox_id      bigint REFERENCES outbox (id) ON DELETE SET NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (subscriber_id, period)
);
-- "Since the previous digest": the latest covered_until per subscriber.
CREATE INDEX IF NOT EXISTS digest_deliveries_latest ON digest_deliveries (subscriber_id, covered_until DESC);
-- Deleting outbox rows (retention, erasure) checks this foreign key.
CREATE INDEX IF NOT EXISTS digest_deliveries_outbox ON digest_deliveries (outbox_id) WHERE outbox_id IS NOT NULL;

-- "Me rappeler la date limite" on one opportunity.
CREATE TABLE IF NOT EXISTS deadline_reminders (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  subscriber_id  bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  opportunity_id bigint NOT NULL REFERENCES opportunities (id) ON DELETE CASCADE,
  created_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (subscriber_id, opportunity_id)
);
CREATE INDEX IF NOT EXISTS deadline_reminders_opportunity ON deadline_reminders (opportunity_id);

-- J-7 and J-1 at most once each for a given deadline date: when the deadline moves, the stages of the new
-- date are due again, and those of the old date are never sent late.
CREATE TABLE IF NOT EXISTS reminder_deliveries (
  reminder_id    bigint NOT NULL REFERENCES deadline_reminders (id) ON DELETE CASCADE,
  stage          smallint NOT NULL CHECK (stage IN (7, 1)),
  deadline_date  date NOT NULL,
  outbox_id      bigint REFERENCES outbox (id) ON DELETE SET NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (reminder_id, stage, deadline_date)
);
CREATE INDEX IF NOT EXISTS reminder_deliveries_outbox ON reminder_deliveries (outbox_id) WHERE outbox_id IS NOT NULL;

-- ASP.NET Core Data Protection key ring, shared by every node and kept across restarts: signed links in emails
-- and authentication cookies stay valid.
CREATE TABLE IF NOT EXISTS data_protection_keys (
  friendly_name text PRIMARY KEY,
  xml           text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
