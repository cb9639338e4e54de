-- Fragments of shared bodies (digests): each offer's lines are written once per run, not once in every body that lists
-- them. A digest body held its ~80 offers' lines in full: at commune level, 21,700 bodies of ~45 KB for 100,000
-- subscribers, compressed into TOAST, then read back and decompressed, ~9 s of PostgreSQL's time out of 28
-- (pg_stat_statements; docs/benchmarks.md, 04/12). A body now holds its own text (headings, links) with, on a line of
-- its own, the marker U+001A for each fragment, and the fragments' ids in order; the delivery job encodes each fragment
-- once and puts it in place. A fragment holds no placeholder.
CREATE TABLE IF NOT EXISTS outbox_fragments (
  -- Chosen by the app from the content (SHA-256): a run writes each offer's lines once, whichever bodies list them.
  id         uuid PRIMARY KEY,
  text_part  text NOT NULL,
  html_part  text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- No foreign key, as for body_id (0063): the daily purge deletes old fragments no body lists.
ALTER TABLE outbox_bodies ADD COLUMN IF NOT EXISTS fragments uuid[] NOT NULL DEFAULT '{}';

-- A body with its fragments in place (the text or the HTML ones): what the delivery job sends, for other readers. A
-- marker counts on a line of its own; one without a fragment left is dropped (MailFragment.Expand does the same).
CREATE OR REPLACE FUNCTION outbox_with_fragments(body text, fragments uuid[], html boolean) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN coalesce(cardinality(fragments), 0) = 0 THEN body ELSE (
    SELECT string_agg(s.segment || coalesce(CASE WHEN html THEN f.html_part ELSE f.text_part END, ''), '' ORDER BY s.n)
    FROM unnest(regexp_split_to_array(body, E'(^|(?<=\n))\x1A\n')) WITH ORDINALITY AS s(segment, n)
    LEFT JOIN outbox_fragments f ON f.id = fragments[s.n]) END
$$;

CREATE OR REPLACE VIEW outbox_messages AS
SELECT o.id, o.message_id, o.category, o.dedupe_key, o.to_address, o.to_name, o.subject,
       coalesce(o.text_body, outbox_personalise(outbox_with_fragments(b.text_body, b.fragments, false), b.placeholders,
         o.personal)) AS text_body,
       coalesce(o.html_body, outbox_personalise(outbox_with_fragments(b.html_body, b.fragments, true), b.placeholders,
         o.personal[cardinality(b.placeholders) + 1 :])) AS html_body,
       o.headers, o.status, o.attempts, o.next_attempt_at, o.last_error, o.created_at, o.sent_at, o.body_id
FROM outbox o
LEFT JOIN outbox_bodies b ON b.id = o.body_id;
