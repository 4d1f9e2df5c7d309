-- Contract views (shared/spec/contract.md) and comparison helpers. Recreated on every
-- writable open, so editing this file or adding later files (e.g. 50_analysis.sql) applies
-- to existing warehouses. Extra columns go at the END of a contract view, never in between.

-- Every version of every document, current or superseded.
CREATE OR REPLACE VIEW document_history AS
SELECT source_file, sha256 AS doc_sha256, doc_type, ward_code, commune, province,
       period_start, period_end, issued_on, signer, pages,
       doc_key, version, is_current, loaded_at, superseded_at, superseded_by, doc_id, run_id,
       as_of, file_type, size_bytes, ocr_pages, fact_count, flag_count,
       doc_number, subject, encoding_fixed, replaces, replace_reason, arrived_at, source_file_raw, container
FROM document_versions;

-- Facts of every version (history); `facts` below is the current slice of it.
CREATE OR REPLACE VIEW fact_history AS
SELECT d.source_file, d.sha256 AS doc_sha256, d.doc_type, d.ward_code, d.commune, d.province,
       d.period_start, d.period_end,
       f.metric, f.kind, f.value, f.unit, f.qualifier, f.page, f.char_start, f.char_end,
       f.evidence, f.extractor, f.confidence,
       d.doc_key, d.version, d.is_current, d.loaded_at, d.as_of, d.issued_on, d.doc_id, f.seq,
       coalesce(f.scope, 'self') AS scope, coalesce(f.status, 'accepted') AS status, f.reason
FROM fact_rows f
JOIN document_versions d USING (doc_id);

-- Verified facts of current documents. `scope` says whose figure it is (contract v2): comparisons
-- use `self` only; the others (sub_unit, other_unit, higher_level, earlier_period) are kept and shown.
CREATE OR REPLACE VIEW facts AS
SELECT source_file, doc_sha256, doc_type, ward_code, commune, province, period_start, period_end,
       metric, kind, value, unit, qualifier, page, char_start, char_end, evidence, extractor, confidence,
       doc_key, version, loaded_at, as_of, issued_on, scope
FROM fact_history
WHERE is_current AND status = 'accepted';

-- Candidates held back from `facts` (contract v2): a confidence below the verifier's threshold or
-- a value outside the metric's plausible range. The columns of `facts`, plus `reason`.
CREATE OR REPLACE VIEW review AS
SELECT source_file, doc_sha256, doc_type, ward_code, commune, province, period_start, period_end,
       metric, kind, value, unit, qualifier, page, char_start, char_end, evidence, extractor, confidence,
       doc_key, version, loaded_at, as_of, issued_on, scope, reason
FROM fact_history
WHERE is_current AND status = 'review';

-- Current facts with corrections applied. `value` is what analysis uses (NULL when the
-- analyst rejected the fact); `original_value` is what the extractor read.
CREATE OR REPLACE VIEW facts_corrected AS
SELECT fact_id_of(f.doc_sha256, f.metric, f.kind, f.char_start) AS fact_id,
       f.source_file, f.doc_sha256, f.doc_type, f.ward_code, f.commune, f.province,
       f.period_start, f.period_end, f.metric, f.kind,
       CASE WHEN c.rejected THEN NULL ELSE coalesce(c.new_value, f.value) END AS value,
       f.value AS original_value,
       f.unit, f.qualifier, f.page, f.char_start, f.char_end, f.evidence, f.extractor, f.confidence,
       coalesce(c.rejected OR c.new_value IS NOT NULL, false) AS corrected,
       coalesce(c.rejected, false) AS rejected,
       c.note AS correction_note, c.who AS corrected_by, c."at" AS corrected_at,
       f.as_of, f.issued_on, f.loaded_at, f.doc_key, f.doc_id, f.seq,
       coalesce('w:' || f.ward_code,
                'n:' || lower(coalesce(f.province, '')) || '|' || lower(f.commune)) AS commune_key,
       f.scope
FROM fact_history f
LEFT JOIN corrections_current c
       ON c.fact_id = fact_id_of(f.doc_sha256, f.metric, f.kind, f.char_start)
WHERE f.is_current AND f.status = 'accepted';

-- Files rejected and not (yet) loaded since.
CREATE OR REPLACE VIEW quarantine AS
-- `at` is a keyword in DuckDB, hence the quotes; the contract names the column so.
SELECT q.source_file, q.sha256 AS doc_sha256, q.reason, q.last_at AS "at", q.code, q.attempts, q.first_at, q.run_id,
       q.source_file_raw, q.container
FROM quarantine_rows q
WHERE NOT EXISTS (SELECT 1 FROM document_versions d WHERE d.sha256 = q.sha256);

CREATE OR REPLACE VIEW documents AS
SELECT source_file, sha256 AS doc_sha256, doc_type, ward_code, commune, province,
       period_start, period_end, issued_on, signer, pages,
       'loaded' AS status, CAST(NULL AS VARCHAR) AS reason,
       doc_key, version, loaded_at, as_of, file_type, fact_count, flag_count,
       doc_number, subject, encoding_fixed, replaces, replace_reason, source_file_raw, container
FROM document_versions
WHERE is_current
UNION ALL
SELECT source_file, doc_sha256, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL,
       'quarantined', code || ': ' || reason,
       NULL, NULL, "at", NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, source_file_raw, container
FROM quarantine;

CREATE OR REPLACE VIEW flags AS
SELECT d.source_file, g.rule, g.metrics, g.expected, g.actual, g.evidence,
       d.sha256 AS doc_sha256, g.difference, g.message, g.fact_indexes
FROM flag_rows g
JOIN document_versions d USING (doc_id)
WHERE d.is_current;

-- Latest actual value per commune and metric, analyst corrections applied (rejected facts
-- left out). "Latest" = the document with the latest period end (else as-of, else issue
-- date), then the most recently loaded; within one document the most confident fact, then
-- the first mentioned. Communes are identified by ward code, else by province + name; facts of
-- documents whose commune is unknown are left out (they cannot be compared).
CREATE OR REPLACE VIEW actual_latest AS
SELECT * EXCLUDE (rn)
FROM (
    SELECT f.*,
           row_number() OVER (
               PARTITION BY f.commune_key, f.metric
               ORDER BY coalesce(f.period_end, f.as_of, f.issued_on) DESC NULLS LAST,
                        f.loaded_at DESC, f.confidence DESC, f.char_start
           ) AS rn
    FROM facts_corrected f
    WHERE f.kind = 'actual' AND NOT f.rejected AND f.value IS NOT NULL AND f.scope = 'self'
      AND (f.ward_code IS NOT NULL OR f.commune IS NOT NULL)
)
WHERE rn = 1;

CREATE OR REPLACE VIEW commune_latest AS
SELECT ward_code, commune, province, metric, value, unit, qualifier,
       period_start, period_end, source_file, doc_sha256, page, evidence, confidence,
       fact_id, original_value, corrected
FROM actual_latest;

-- A share outside 0-100 % means the figures behind it were misread (e.g. an OCR slip);
-- the comparison leaves it out rather than rank a commune on it. The facts stay as read.
CREATE OR REPLACE MACRO plausible_share(x) AS CASE WHEN x BETWEEN 0 AND 100 THEN x END;

-- Key figures per current document (one value per metric: most confident, then first).
-- Shares are percentages 0-100 computed from counts of the SAME document, so a ratio never
-- mixes figures of two reports. When a share is written directly it wins over counts, except
-- antivirus coverage, which the brief defines as computers.antivirus / computers.total.
CREATE OR REPLACE VIEW document_metrics AS
WITH best AS (
    SELECT f.doc_sha256, f.metric, f.value,
           row_number() OVER (PARTITION BY f.doc_sha256, f.metric
                              ORDER BY f.confidence DESC, f.char_start) AS rn
    FROM facts_corrected f
    WHERE f.kind = 'actual' AND f.value IS NOT NULL AND f.scope = 'self'
), piv AS (
    SELECT doc_sha256,
           -- one column per metric with a comparison_column (rules/metrics.yaml), filled in
           -- by warehouse/schema.py from the catalog when the schema is applied
           {{comparison_pivot}}
    FROM best
    WHERE rn = 1
    GROUP BY doc_sha256
)
SELECT d.source_file, d.doc_sha256, d.doc_type, d.ward_code, d.commune, d.province,
       d.period_start, d.period_end, d.as_of, d.issued_on, d.loaded_at,
       coalesce('w:' || d.ward_code, 'n:' || lower(coalesce(d.province, '')) || '|' || lower(d.commune)) AS commune_key,
       p.* EXCLUDE (doc_sha256),
       plausible_share(coalesce(p.dossiers_online_pct,
                100.0 * p.dossiers_received_online / nullif(p.dossiers_received, 0))) AS online_share,
       plausible_share(coalesce(100.0 * p.dossiers_resolved_overdue / nullif(p.dossiers_resolved, 0),
                100.0 - p.dossiers_resolved_in_time_pct,
                100.0 * (p.dossiers_resolved - coalesce(p.dossiers_resolved_in_time,
                                                        p.dossiers_resolved_early + p.dossiers_resolved_on_time))
                      / nullif(p.dossiers_resolved, 0))) AS overdue_share,
       plausible_share(coalesce(100.0 * p.computers_antivirus / nullif(p.computers_total, 0),
                p.computers_antivirus_pct)) AS antivirus_coverage,
       plausible_share(coalesce(p.staff_trained_pct,
                100.0 * p.staff_trained / nullif(p.staff_present, 0),
                100.0 * p.staff_trained / nullif(p.staff_quota, 0))) AS staff_trained_share
FROM documents d
LEFT JOIN piv p USING (doc_sha256)
WHERE d.status = 'loaded';

-- One row per commune: each key figure from the latest document that has it
-- (latest = period end, else as-of, else issue date, then load time).
CREATE OR REPLACE VIEW comparison AS
WITH ranked AS (
    SELECT m.*,
           row_number() OVER (PARTITION BY commune_key
                              ORDER BY coalesce(period_end, as_of, issued_on) NULLS FIRST, loaded_at) AS ord
    FROM document_metrics m
    WHERE commune_key IS NOT NULL
)
SELECT arg_max(ward_code, ord)  AS ward_code,
       arg_max(commune, ord)    AS commune,
       arg_max(province, ord)   AS province,
       arg_max(online_share, ord)        FILTER (WHERE online_share IS NOT NULL)        AS online_share,
       arg_max(overdue_share, ord)       FILTER (WHERE overdue_share IS NOT NULL)       AS overdue_share,
       arg_max(antivirus_coverage, ord)  FILTER (WHERE antivirus_coverage IS NOT NULL)  AS antivirus_coverage,
       arg_max(staff_trained_share, ord) FILTER (WHERE staff_trained_share IS NOT NULL) AS staff_trained_share,
       -- each metric's comparison_column, from the latest document that has it
       {{comparison_latest}}
       count(*)                 AS documents,
       max(period_end)          AS latest_period_end,
       commune_key
FROM ranked
GROUP BY commune_key;
