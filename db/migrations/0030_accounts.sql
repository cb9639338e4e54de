-- Issuer and admin accounts, single-use tokens (verification, reset, email change), audit trail, moderation note.

CREATE TABLE IF NOT EXISTS users (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email             text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 320),
  -- ASP.NET Core Identity PasswordHasher format; NULL until the user sets one (admin created from the CLI).
  password_hash     text,
  role              text NOT NULL CHECK (role IN ('issuer', 'admin')),
  issuer_id         bigint REFERENCES issuers (id),
  email_verified_at timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  last_login_at     timestamptz,
  CHECK (role = 'admin' OR issuer_id IS NOT NULL)
);
-- One account per address, whatever its case.
CREATE UNIQUE INDEX IF NOT EXISTS users_email_key ON users (lower(email));
CREATE INDEX IF NOT EXISTS users_issuer ON users (issuer_id);

CREATE TABLE IF NOT EXISTS account_tokens (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  purpose    text NOT NULL CHECK (purpose IN ('verify', 'reset', 'email_change')),
  -- SHA-256 of the token sent by email: a database leak gives no usable link.
  token_hash text NOT NULL UNIQUE,
  new_email  text CHECK (new_email ~ '^[^@\s]+@[^@\s]+$' AND length(new_email) <= 320),
  expires_at timestamptz NOT NULL,
  used_at    timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((purpose = 'email_change') = (new_email IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS account_tokens_user ON account_tokens (user_id, purpose);

-- Who changed what, when: written in the same transaction as the change.
CREATE TABLE IF NOT EXISTS audit_log (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at            timestamptz NOT NULL DEFAULT now(),
  actor_user_id bigint REFERENCES users (id) ON DELETE SET NULL,
  -- Kept as text so the trail stays readable after an account is deleted or changes address.
  actor_email   text,
  action        text NOT NULL CHECK (action ~ '^[a-z_.]{2,60}$'),
  subject_type  text NOT NULL CHECK (subject_type IN ('opportunity', 'issuer', 'user', 'import')),
  subject_id    bigint,
  details       text NOT NULL DEFAULT '' CHECK (length(details) <= 4000)
);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at DESC, id DESC);
CREATE INDEX IF NOT EXISTS audit_log_subject ON audit_log (subject_type, subject_id, at DESC);

-- Why a moderator rejected or unpublished an offer (shown to its issuer in their space).
ALTER TABLE opportunities ADD COLUMN IF NOT EXISTS moderation_note text CHECK (length(moderation_note) <= 2000);
-- The issuer's space: its own offers, last changed first.
CREATE INDEX IF NOT EXISTS opportunities_issuer_updated ON opportunities (issuer_id, updated_at DESC, id DESC);
-- The moderation queue.
CREATE INDEX IF NOT EXISTS opportunities_pending ON opportunities (created_at, id) WHERE status = 'pending';
-- Likely duplicates compare titles with pg_trgm similarity() within one issuer's offers (opportunities_issuer):
-- few rows per issuer, so no trigram index on every title is kept up to date for it.
