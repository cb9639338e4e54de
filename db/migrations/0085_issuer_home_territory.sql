-- An organisation's home territory (commune, EPCI, département…), chosen at sign-up: its new offers start from it.
-- Nullable: organisations registered before it, or created by an import, have none until someone sets it.
ALTER TABLE issuers ADD COLUMN IF NOT EXISTS home_territory_code text REFERENCES territories (code);
