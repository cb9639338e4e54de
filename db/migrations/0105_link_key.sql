-- The key that signs the links of alert emails (AlertTokens): one for every node, made here once, never sent anywhere.
-- 244 random bits from two version-4 UUIDs (gen_random_uuid draws from the server's strong random source). Replacing
-- it voids every link given out before.
CREATE TABLE IF NOT EXISTS link_keys (
  name       text PRIMARY KEY,
  secret     bytea NOT NULL CHECK (length(secret) >= 32),
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO link_keys (name, secret)
VALUES ('alertes', decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'))
ON CONFLICT (name) DO NOTHING;
