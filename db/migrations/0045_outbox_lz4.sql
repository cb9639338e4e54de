-- Outbox bodies compressed with lz4 instead of pglz (issue 8 digest benchmark): a weekly digest writes ~40 KB of
-- text + HTML per subscriber, and pglz compression was most of the cost of queuing them (3.9 s per 2,000 rows
-- against 0.7 s with lz4 on this machine). Applies to values written from now on; existing rows stay readable.
ALTER TABLE outbox ALTER COLUMN text_body SET COMPRESSION lz4;
ALTER TABLE outbox ALTER COLUMN html_body SET COMPRESSION lz4;
