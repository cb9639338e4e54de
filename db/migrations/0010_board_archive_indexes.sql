-- Public board, "inclure les offres closes": the archive is every offer that was once public, whatever its status
-- now. The open-list indexes of 0001 are partial on status = 'published'; these serve the archive searches.
CREATE INDEX IF NOT EXISTS opportunities_public_deadline
  ON opportunities (deadline_sort, id) WHERE status IN ('published', 'closed', 'expired');
CREATE INDEX IF NOT EXISTS opportunities_public_published_at
  ON opportunities (published_at DESC, id DESC) WHERE status IN ('published', 'closed', 'expired');
CREATE INDEX IF NOT EXISTS opportunities_public_territories
  ON opportunities USING gin (territory_codes) WHERE status IN ('published', 'closed', 'expired');

-- Text search over open offers: a partial GIN beside the full one of 0001, so that counts and rare words stay small.
CREATE INDEX IF NOT EXISTS opportunities_open_search
  ON opportunities USING gin (search) WHERE status = 'published';
