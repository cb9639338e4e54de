-- Core schema: territories, issuers, themes, opportunities.
-- Forward-only: never edit this file once landed; add a new numbered file instead.

CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;

-- French stemming that ignores accents: "numerique" finds "numérique".
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'fr_unaccent') THEN
    CREATE TEXT SEARCH CONFIGURATION fr_unaccent (COPY = french);
    ALTER TEXT SEARCH CONFIGURATION fr_unaccent
      ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;
  END IF;
END $$;

-- unaccent() is only STABLE; this wrapper pins the dictionary so it can back an index.
CREATE OR REPLACE FUNCTION immutable_unaccent(text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;

CREATE TABLE IF NOT EXISTS territories (
  -- Key: 'FR' for France, 'R' + INSEE code for régions (R75), the bare INSEE code for départements (33, 2A, 971).
  -- Régions and départements share INSEE numbers (75 is Paris and Nouvelle-Aquitaine), hence the prefix.
  -- Room left for EPCI ('E' + SIREN) and communes ('C' + INSEE code).
  code        text PRIMARY KEY CHECK (code ~ '^[A-Z0-9]{1,12}$'),
  insee_code  text NOT NULL,
  name        text NOT NULL CHECK (length(name) BETWEEN 2 AND 200),
  level       text NOT NULL CHECK (level IN ('pays', 'region', 'departement', 'epci', 'commune')),
  parent_code text REFERENCES territories (code),
  -- Ancestors and self, root first ({FR,R75,33}): one indexed step answers "is X inside Y".
  lineage     text[] NOT NULL,
  search_name text GENERATED ALWAYS AS (lower(immutable_unaccent(name))) STORED,
  CHECK ((level = 'pays') = (parent_code IS NULL)),
  CHECK (lineage[array_length(lineage, 1)] = code)
);
CREATE INDEX IF NOT EXISTS territories_lineage_gin ON territories USING gin (lineage);
CREATE INDEX IF NOT EXISTS territories_search_name_trgm ON territories USING gin (search_name gin_trgm_ops);
CREATE INDEX IF NOT EXISTS territories_parent ON territories (parent_code);

-- Every territory an offer for @code must match, both ways through the hierarchy:
-- its ancestors (a national offer matches everyone) and its descendants (a Gironde offer
-- matches a Nouvelle-Aquitaine subscriber). Gironde and Landes do not match each other.
CREATE OR REPLACE FUNCTION territory_match_set(p_code text) RETURNS text[]
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$
    SELECT coalesce(array_agg(t.code), '{}')
    FROM territories t
    WHERE t.lineage @> ARRAY[p_code]
       OR t.code = ANY ((SELECT lineage FROM territories WHERE code = p_code)::text[])
  $$;

CREATE TABLE IF NOT EXISTS issuers (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name       text NOT NULL CHECK (length(btrim(name)) BETWEEN 2 AND 200),
  type       text NOT NULL DEFAULT 'autre'
             CHECK (type IN ('etat', 'collectivite', 'association', 'fondation', 'entreprise', 'autre')),
  trusted    boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS issuers_name_key ON issuers (lower(name));

CREATE TABLE IF NOT EXISTS themes (
  code  text PRIMARY KEY CHECK (code ~ '^[a-z0-9-]{2,40}$'),
  label text NOT NULL UNIQUE
);

CREATE TABLE IF NOT EXISTS opportunities (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind           text NOT NULL CHECK (kind IN ('emploi', 'aap', 'ami')),
  title          text NOT NULL CHECK (length(btrim(title)) BETWEEN 3 AND 300),
  issuer_id      bigint NOT NULL REFERENCES issuers (id),
  -- Copied from issuers.name by trigger so the search vector can weight it (generated columns cannot join).
  issuer_name    text NOT NULL DEFAULT '',
  description    text NOT NULL DEFAULT '' CHECK (length(description) <= 20000),
  url            text CHECK (url ~ '^https?://[^\s]+$' AND length(url) <= 2000),
  contact        text CHECK (length(contact) <= 500),
  -- The deadline is a date in Europe/Paris, with an optional time; none at all is allowed.
  deadline_date  date,
  deadline_time  time,
  -- The one rule of when an offer closes: the deadline time, or 23:59:59 Paris time that day (DST-aware).
  closes_at      timestamptz GENERATED ALWAYS AS
                   ((deadline_date + coalesce(deadline_time, time '23:59:59')) AT TIME ZONE 'Europe/Paris') STORED,
  -- Soonest deadline first, no-deadline offers last; keyset pagination runs on (deadline_sort, id).
  deadline_sort  timestamptz GENERATED ALWAYS AS
                   (coalesce((deadline_date + coalesce(deadline_time, time '23:59:59')) AT TIME ZONE 'Europe/Paris',
                             'infinity'::timestamptz)) STORED,
  status         text NOT NULL DEFAULT 'draft'
                 CHECK (status IN ('draft', 'pending', 'published', 'closed', 'expired')),
  contract_type  text CHECK (contract_type IN ('cdi', 'cdd', 'stage', 'alternance', 'service_civique',
                                               'fonction_publique_titulaire', 'fonction_publique_contractuel', 'autre')),
  beneficiaries  text CHECK (length(beneficiaries) <= 1000),
  amount_eur     numeric(14, 2) CHECK (amount_eur >= 0),
  -- Direct territories, denormalized from opportunity_territories by trigger for GIN overlap filters.
  territory_codes text[] NOT NULL DEFAULT '{}',
  search         tsvector NOT NULL DEFAULT ''::tsvector,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  published_at   timestamptz,
  closed_at      timestamptz,
  CHECK (deadline_time IS NULL OR deadline_date IS NOT NULL),
  CHECK (kind = 'emploi' OR contract_type IS NULL),
  CHECK (kind <> 'emploi' OR (beneficiaries IS NULL AND amount_eur IS NULL)),
  CHECK (status <> 'published' OR published_at IS NOT NULL)
);

CREATE TABLE IF NOT EXISTS opportunity_territories (
  opportunity_id bigint NOT NULL REFERENCES opportunities (id) ON DELETE CASCADE,
  territory_code text NOT NULL REFERENCES territories (code),
  PRIMARY KEY (opportunity_id, territory_code)
);
CREATE INDEX IF NOT EXISTS opportunity_territories_code ON opportunity_territories (territory_code);

CREATE TABLE IF NOT EXISTS opportunity_themes (
  opportunity_id bigint NOT NULL REFERENCES opportunities (id) ON DELETE CASCADE,
  theme_code     text NOT NULL REFERENCES themes (code),
  PRIMARY KEY (opportunity_id, theme_code)
);
CREATE INDEX IF NOT EXISTS opportunity_themes_code ON opportunity_themes (theme_code);

-- Search vector: title (A) > issuer (B) > description (C), French, accent-insensitive.
CREATE OR REPLACE FUNCTION opportunities_before_write() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.issuer_id IS DISTINCT FROM OLD.issuer_id THEN
    NEW.issuer_name := (SELECT name FROM issuers WHERE id = NEW.issuer_id);
  END IF;
  NEW.search :=
      setweight(to_tsvector('fr_unaccent', coalesce(NEW.title, '')), 'A')
   || setweight(to_tsvector('fr_unaccent', coalesce(NEW.issuer_name, '')), 'B')
   || setweight(to_tsvector('fr_unaccent', coalesce(NEW.description, '')), 'C');
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS opportunities_before_write ON opportunities;
CREATE TRIGGER opportunities_before_write BEFORE INSERT OR UPDATE OF title, issuer_id, description ON opportunities
  FOR EACH ROW EXECUTE FUNCTION opportunities_before_write();

CREATE OR REPLACE FUNCTION issuers_after_rename() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  UPDATE opportunities SET issuer_name = NEW.name, description = description WHERE issuer_id = NEW.id;
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS issuers_after_rename ON issuers;
CREATE TRIGGER issuers_after_rename AFTER UPDATE OF name ON issuers
  FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION issuers_after_rename();

-- Keep opportunities.territory_codes equal to the join table, set-based per statement.
CREATE OR REPLACE FUNCTION opportunity_territories_sync() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  UPDATE opportunities o
     SET territory_codes = coalesce((SELECT array_agg(ot.territory_code ORDER BY ot.territory_code)
                                       FROM opportunity_territories ot WHERE ot.opportunity_id = o.id), '{}')
   WHERE o.id IN (SELECT opportunity_id FROM changed_rows);
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS opportunity_territories_sync_ins ON opportunity_territories;
CREATE TRIGGER opportunity_territories_sync_ins AFTER INSERT ON opportunity_territories
  REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION opportunity_territories_sync();
DROP TRIGGER IF EXISTS opportunity_territories_sync_del ON opportunity_territories;
CREATE TRIGGER opportunity_territories_sync_del AFTER DELETE ON opportunity_territories
  REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION opportunity_territories_sync();

-- Board indexes. "Open" = published and deadline_sort > now(); every hot index is partial on published.
CREATE INDEX IF NOT EXISTS opportunities_open_deadline
  ON opportunities (deadline_sort, id) WHERE status = 'published';
CREATE INDEX IF NOT EXISTS opportunities_open_kind_deadline
  ON opportunities (kind, deadline_sort, id) WHERE status = 'published';
CREATE INDEX IF NOT EXISTS opportunities_open_territories
  ON opportunities USING gin (territory_codes) WHERE status = 'published';
CREATE INDEX IF NOT EXISTS opportunities_open_published_at
  ON opportunities (published_at DESC, id DESC) WHERE status = 'published';
CREATE INDEX IF NOT EXISTS opportunities_search
  ON opportunities USING gin (search);
CREATE INDEX IF NOT EXISTS opportunities_issuer ON opportunities (issuer_id);
