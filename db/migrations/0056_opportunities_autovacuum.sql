-- Expiry at scale (issue 8): after 100,000 offers expire at once, their old versions stay in the small partial indexes
-- of open offers (WHERE status = 'published') until VACUUM, and every later expiry run with nothing to do reads them
-- again (a bitmap scan over 22,000 heap pages: ~150 ms instead of ~1 ms); index-only counts of the board also fetch
-- the heap again. The default threshold (20 % of the table: 220,000 dead rows at 1.1 M offers) would wait for weeks
-- of edits; 2 % sends autovacuum within a minute or two of a mass expiry, and rarely otherwise.
ALTER TABLE opportunities SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
