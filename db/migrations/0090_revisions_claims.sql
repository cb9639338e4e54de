-- Issue 21: edits of a published offer waiting for moderation, organisation claims, accent-blind organisation names.

-- An edit of a published offer by a non-trusted organisation waits here while the published version stays public.
-- One pending revision per offer: a second edit replaces the first. data is the checked form (Publishing.OfferData).
CREATE TABLE IF NOT EXISTS opportunity_revisions (
  opportunity_id bigint PRIMARY KEY REFERENCES opportunities (id) ON DELETE CASCADE,
  data           jsonb NOT NULL,
  submitted_by   bigint REFERENCES users (id) ON DELETE SET NULL,
  submitted_at   timestamptz NOT NULL DEFAULT now()
);

-- An account asking to join an organisation that already exists (imported, or with other accounts).
CREATE TABLE IF NOT EXISTS issuer_claims (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  issuer_id    bigint NOT NULL REFERENCES issuers (id) ON DELETE CASCADE,
  status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'refused')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  decided_at   timestamptz,
  decided_by   text
);
-- One open request per account; the moderation page lists the open ones, oldest first.
CREATE UNIQUE INDEX IF NOT EXISTS issuer_claims_one_pending ON issuer_claims (user_id) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS issuer_claims_pending ON issuer_claims (created_at, id) WHERE status = 'pending';

-- An issuer account waiting for its claim has no organisation yet: the 0030 rule "issuer => issuer_id" goes.
DO $$
DECLARE c text;
BEGIN
  FOR c IN SELECT conname FROM pg_constraint
           WHERE conrelid = 'users'::regclass AND contype = 'c'
             AND pg_get_constraintdef(oid) LIKE '%issuer_id IS NOT NULL%'
  LOOP
    EXECUTE format('ALTER TABLE users DROP CONSTRAINT %I', c);
  END LOOP;
END $$;

-- "Ville de Begles" and "Ville de Bègles" are one organisation: looked up by folded name. Not unique: a database may
-- already hold both spellings, which an admin merges.
CREATE INDEX IF NOT EXISTS issuers_name_folded ON issuers (lower(immutable_unaccent(btrim(name))));
