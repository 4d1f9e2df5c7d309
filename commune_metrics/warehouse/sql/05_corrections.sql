-- Analyst corrections: their own layer, created before the views so that every view that
-- ranks or compares figures (10_views.sql, 50_analysis.sql) reads corrected values.

-- A fact's id as analysts see it: a hash of what identifies the fact inside its file, so the
-- id (and any correction keyed on it) survives re-ingestion of the same bytes.
-- pipeline/corrections.py computes the same value in Python (fact_id()).
CREATE OR REPLACE MACRO fact_id_of(doc_sha256, metric, kind, char_start) AS
    substr(md5(doc_sha256 || '|' || metric || '|' || kind || '|' || CAST(char_start AS VARCHAR)), 1, 12);

CREATE SEQUENCE IF NOT EXISTS correction_id_seq START 1;

-- Append-only log of analyst corrections; the latest row per fact wins. Keyed on what
-- identifies the fact in its document (file hash, metric, kind, span start), never on a
-- row number, so corrections survive reloads.
CREATE TABLE IF NOT EXISTS corrections (
    correction_id  INTEGER NOT NULL DEFAULT nextval('correction_id_seq'),
    fact_id        VARCHAR NOT NULL,  -- fact_id_of(doc_sha256, metric, kind, char_start)
    doc_sha256     VARCHAR NOT NULL,
    metric         VARCHAR NOT NULL,
    kind           VARCHAR NOT NULL,
    char_start     INTEGER NOT NULL,
    new_value      DOUBLE,            -- NULL with rejected = false: back to the extracted value
    rejected       BOOLEAN NOT NULL DEFAULT false,
    note           VARCHAR,
    who            VARCHAR,
    "at"           TIMESTAMP NOT NULL,
    source         VARCHAR            -- 'cli' or the corrections CSV file name
);

-- Review actions (v2): a correction may also move a fact to another metric, kind or scope, or
-- confirm it as read. A row's meaning, in this order: rejected -> the fact is wrong; any new_*
-- set -> corrected (unset fields keep what was read); confirmed -> right as read; else a
-- revert to the extracted fact, unreviewed.
ALTER TABLE corrections ADD COLUMN IF NOT EXISTS new_metric VARCHAR;
ALTER TABLE corrections ADD COLUMN IF NOT EXISTS new_kind VARCHAR;
ALTER TABLE corrections ADD COLUMN IF NOT EXISTS new_scope VARCHAR;
ALTER TABLE corrections ADD COLUMN IF NOT EXISTS confirmed BOOLEAN DEFAULT false;
-- Set by the review page's queued actions: applying the same queued action twice records it once.
ALTER TABLE corrections ADD COLUMN IF NOT EXISTS action_id VARCHAR;

CREATE OR REPLACE VIEW corrections_current AS
SELECT * EXCLUDE (rn)
FROM (
    SELECT c.*, row_number() OVER (PARTITION BY fact_id ORDER BY "at" DESC, correction_id DESC) AS rn
    FROM corrections c
)
WHERE rn = 1;


-- Who the fact is about (self / sub_unit / other_unit / higher_level / earlier_period /
-- unknown), set by the extractor once it decides scope (accuracy issue); NULL until then,
-- and counted as the commune's own figure.
ALTER TABLE fact_rows ADD COLUMN IF NOT EXISTS scope VARCHAR;

-- The normalized text of each loaded document (evidence spans index into it) and where its
-- file was last seen, for the review page (highlighting, page images).
CREATE TABLE IF NOT EXISTS document_texts (
    sha256       VARCHAR NOT NULL,
    text         VARCHAR NOT NULL,
    page_starts  VARCHAR            -- comma separated offsets where pages 1, 2, ... start; NULL: no pages
);
CREATE TABLE IF NOT EXISTS document_files (
    sha256       VARCHAR NOT NULL,
    path         VARCHAR NOT NULL,  -- absolute path of the archived (or kept) file
    recorded_at  TIMESTAMP NOT NULL
);
