-- Base tables. Every statement here must be safe to run on every open: the schema is
-- (re)applied by commune_metrics.warehouse.schema in file-name order, so later changes go in new
-- files (e.g. `ALTER TABLE ... ADD COLUMN IF NOT EXISTS`) and never edit a shipped table.
--
-- Tables are named *_rows / document_versions so the contract views (facts, documents,
-- quarantine, flags) can own the short names. Analysts should query the views.

CREATE SEQUENCE IF NOT EXISTS doc_id_seq START 1;
CREATE SEQUENCE IF NOT EXISTS run_id_seq START 1;

CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER NOT NULL,   -- numeric prefix of the SQL file
    file        VARCHAR NOT NULL,
    sha256      VARCHAR NOT NULL,   -- of the file's text; a changed file is recorded again
    applied_at  TIMESTAMP NOT NULL
);

-- One row per run of the loader (CLI or Prefect flow).
CREATE TABLE IF NOT EXISTS runs (
    run_id       INTEGER NOT NULL,
    trigger      VARCHAR NOT NULL,  -- cli / prefect / serve / test
    host         VARCHAR,
    pid          INTEGER,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP,
    status       VARCHAR NOT NULL,  -- running / ok / failed / stopped (SIGTERM, Ctrl-C) / crashed (pid gone)
    files_seen   INTEGER DEFAULT 0,
    loaded       INTEGER DEFAULT 0,
    unchanged    INTEGER DEFAULT 0,
    quarantined  INTEGER DEFAULT 0,
    skipped      INTEGER DEFAULT 0, -- still being written, vanished, transient errors
    errors       INTEGER DEFAULT 0,
    error_text   VARCHAR
);

-- Every version of every document ever loaded. doc_key identifies "the same report"
-- across corrected re-sends (see pipeline/warehouse/identity.py); exactly one version per
-- doc_key has is_current = true. sha256 is unique across all versions (same bytes = unchanged).
CREATE TABLE IF NOT EXISTS document_versions (
    doc_id        INTEGER NOT NULL,
    doc_key       VARCHAR NOT NULL,
    version       INTEGER NOT NULL,
    is_current    BOOLEAN NOT NULL,
    sha256        VARCHAR NOT NULL,
    source_file   VARCHAR NOT NULL,  -- file name as dropped, no folder
    file_type     VARCHAR,
    size_bytes    BIGINT,
    doc_type      VARCHAR,
    ward_code     INTEGER,
    commune       VARCHAR,
    province      VARCHAR,
    period_start  DATE,
    period_end    DATE,
    as_of         DATE,
    issued_on     DATE,
    signer        VARCHAR,
    pages         INTEGER,
    ocr_pages     VARCHAR,           -- comma separated page numbers read by OCR
    fact_count    INTEGER,
    flag_count    INTEGER,
    loaded_at     TIMESTAMP NOT NULL,
    run_id        INTEGER,
    superseded_at TIMESTAMP,
    superseded_by INTEGER            -- doc_id of the version that replaced this one
);

CREATE TABLE IF NOT EXISTS fact_rows (
    doc_id      INTEGER NOT NULL,
    seq         INTEGER NOT NULL,    -- position in the extraction (flags refer to it)
    metric      VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,
    value       DOUBLE,
    unit        VARCHAR,
    qualifier   VARCHAR,
    page        INTEGER,
    char_start  INTEGER,
    char_end    INTEGER,
    evidence    VARCHAR,
    extractor   VARCHAR,
    confidence  DOUBLE
);

-- Whose figure it is, and whether it passed verification (contract v2): `accepted` facts are in
-- `facts`; `review` ones (low confidence, implausible value) are in `review` with their reason.
ALTER TABLE fact_rows ADD COLUMN IF NOT EXISTS scope VARCHAR DEFAULT 'self';
ALTER TABLE fact_rows ADD COLUMN IF NOT EXISTS status VARCHAR DEFAULT 'accepted';
ALTER TABLE fact_rows ADD COLUMN IF NOT EXISTS reason VARCHAR;

CREATE TABLE IF NOT EXISTS flag_rows (
    doc_id        INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    rule          VARCHAR NOT NULL,
    metrics       VARCHAR,           -- comma separated metric codes
    expected      DOUBLE,
    actual        DOUBLE,
    difference    DOUBLE,
    message       VARCHAR,
    evidence      VARCHAR,           -- sentences joined by newlines
    fact_indexes  VARCHAR            -- comma separated fact_rows.seq
);

-- Files currently rejected, one row per distinct content hash. A later successful load
-- of the same bytes removes the row; the full history is in run_files.
CREATE TABLE IF NOT EXISTS quarantine_rows (
    sha256       VARCHAR NOT NULL,
    source_file  VARCHAR NOT NULL,
    code         VARCHAR NOT NULL,   -- commune_metrics.core.errors code (empty, corrupt, ...)
    reason       VARCHAR NOT NULL,
    first_at     TIMESTAMP NOT NULL,
    last_at      TIMESTAMP NOT NULL,
    attempts     INTEGER NOT NULL,
    run_id       INTEGER
);

-- Audit trail: what happened to each file in each run.
CREATE TABLE IF NOT EXISTS run_files (
    run_id       INTEGER NOT NULL,
    source_file  VARCHAR NOT NULL,
    sha256       VARCHAR,
    outcome      VARCHAR NOT NULL,   -- loaded / unchanged / quarantined / skipped / error
    reason       VARCHAR,
    doc_id       INTEGER,
    version      INTEGER,
    seconds      DOUBLE,
    recorded_at  TIMESTAMP NOT NULL
);

-- Reference data, refreshed from code on every writable open when available.
CREATE TABLE IF NOT EXISTS communes (
    ward_code      INTEGER NOT NULL,
    name           VARCHAR,
    full_name      VARCHAR,
    province       VARCHAR,
    province_code  INTEGER
);

CREATE TABLE IF NOT EXISTS metrics (
    code         VARCHAR NOT NULL,
    unit         VARCHAR,
    label_vi     VARCHAR,
    description  VARCHAR
);
-- What the views need to know of a metric, declared once in rules/metrics.yaml.
ALTER TABLE metrics ADD COLUMN IF NOT EXISTS flow BOOLEAN;               -- accumulates over the period
ALTER TABLE metrics ADD COLUMN IF NOT EXISTS better VARCHAR;             -- 'lower' when less is better
ALTER TABLE metrics ADD COLUMN IF NOT EXISTS comparison_column VARCHAR;  -- column in document_metrics
