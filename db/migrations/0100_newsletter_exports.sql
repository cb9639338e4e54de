-- Each newsletter export produced from /admin/export: the next export starts, by default, the day after the last
-- period exported (issue 21, item 13) instead of a fixed "last 7 days" that skips or repeats offers.
CREATE TABLE IF NOT EXISTS newsletter_exports (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  from_date   date NOT NULL,
  to_date     date NOT NULL CHECK (to_date >= from_date),
  territory   text NOT NULL,
  national    boolean NOT NULL,
  exported_by bigint REFERENCES users (id) ON DELETE SET NULL,
  exported_at timestamptz NOT NULL DEFAULT now()
);
-- "The last period exported": max(to_date), read from the top of this index.
CREATE INDEX IF NOT EXISTS newsletter_exports_to_date ON newsletter_exports (to_date DESC);
