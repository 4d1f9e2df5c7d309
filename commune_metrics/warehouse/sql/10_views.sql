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

-- Facts of every version (history), as the extractor read them; `facts` below is the
-- current slice of it with analyst corrections applied.
CREATE OR REPLACE VIEW fact_history AS
SELECT d.source_file, d.sha256 AS doc_sha256, d.doc_type, d.ward_code, d.commune, d.province,
       d.period_start, d.period_end,
       f.metric, f.kind, f.value, f.unit, f.qualifier, f.page, f.char_start, f.char_end,
       f.evidence, f.extractor, f.confidence,
       d.doc_key, d.version, d.is_current, d.loaded_at, d.as_of, d.issued_on, d.doc_id, f.seq,
       fact_id_of(d.sha256, f.metric, f.kind, f.char_start) AS fact_id, coalesce(f.scope, 'self') AS scope,
       coalesce(f.status, 'accepted') AS status, f.reason
FROM fact_rows f
JOIN document_versions d USING (doc_id);

-- Current facts with corrections applied (every column any view needs; `facts` is the public
-- projection). value/metric/kind/scope are the corrected ones, original_* what was read;
-- value is NULL when the analyst rejected the fact. unit follows a corrected metric.
CREATE OR REPLACE VIEW facts_corrected AS
WITH c AS (
    SELECT *,
           NOT rejected AND (new_value IS NOT NULL OR new_metric IS NOT NULL OR new_kind IS NOT NULL
                             OR new_scope IS NOT NULL) AS changes,
           NOT rejected AND coalesce(confirmed, false) AS confirms
    FROM corrections_current
)
SELECT f.fact_id,
       f.source_file, f.doc_sha256, f.doc_type, f.ward_code, f.commune, f.province,
       f.period_start, f.period_end,
       coalesce(c.new_metric, f.metric) AS metric,
       coalesce(c.new_kind, f.kind) AS kind,
       CASE WHEN c.rejected THEN NULL ELSE coalesce(c.new_value, f.value) END AS value,
       f.value AS original_value,
       CASE WHEN c.new_metric IS NOT NULL THEN coalesce(m.unit, f.unit) ELSE f.unit END AS unit,
       f.qualifier, f.page, f.char_start, f.char_end, f.evidence, f.extractor, f.confidence,
       coalesce(c.new_scope, f.scope) AS scope,
       coalesce(c.rejected OR c.changes, false) AS corrected,
       coalesce(c.rejected, false) AS rejected,
       coalesce(c.confirms AND NOT c.changes, false) AS confirmed,
       coalesce(c.rejected OR c.changes OR c.confirms, false) AS reviewed,
       CASE WHEN c.rejected THEN 'rejected' WHEN c.changes THEN 'corrected'
            WHEN c.confirms THEN 'confirmed' END AS review_status,
       -- held back by the extractor (verifier below its threshold, implausible value) and not yet
       -- confirmed or corrected by an analyst: in `review`, not in `facts`
       f.status = 'review' AND NOT coalesce(c.rejected OR c.changes OR c.confirms, false)
           AS held_for_review,
       f.reason,
       c.note AS corrected_why, c.who AS corrected_by, c."at" AS corrected_at,
       c.note AS correction_note,  -- v1 name of corrected_why
       f.metric AS original_metric, f.kind AS original_kind, f.scope AS original_scope,
       f.as_of, f.issued_on, f.loaded_at, f.doc_key, f.version, f.doc_id, f.seq,
       coalesce('w:' || f.ward_code,
                'n:' || lower(coalesce(f.province, '')) || '|' || lower(f.commune)) AS commune_key
FROM fact_history f
LEFT JOIN c ON c.fact_id = f.fact_id
LEFT JOIN metrics m ON m.code = c.new_metric
WHERE f.is_current;

-- The contract's columns of every candidate, corrections applied, with `reason` (why one is held):
-- `facts` and `review` below are this view split by held_for_review, so they cannot drift apart.
CREATE OR REPLACE VIEW contract_facts AS
SELECT source_file, doc_sha256, doc_type, ward_code, commune, province, period_start, period_end,
       metric, kind, value, unit, qualifier, page, char_start, char_end, evidence, extractor, confidence,
       fact_id, scope,
       doc_key, version, loaded_at, as_of, issued_on,
       original_value, corrected, rejected, confirmed, review_status, held_for_review,
       corrected_by, corrected_at, corrected_why, original_metric, original_kind, original_scope,
       reason
FROM facts_corrected;

-- The contract view: one row per verified fact of the current version of each document,
-- corrections applied (README "Corrections"). A rejected fact stays, with value NULL and
-- rejected = true, so the rejection is visible; original_value is always what the extractor
-- read. Candidates held for review are not here but in `review` (until an analyst confirms them).
CREATE OR REPLACE VIEW facts AS
SELECT * EXCLUDE (reason) FROM contract_facts WHERE NOT held_for_review;

CREATE OR REPLACE VIEW held_facts AS
SELECT f.* FROM facts_corrected f WHERE f.held_for_review;

-- Candidates the extractor held back (contract v2): the columns of `facts`, plus `reason`.
CREATE OR REPLACE VIEW review AS
SELECT * FROM contract_facts WHERE held_for_review;

-- What the analysts' review queue lists (review page, "?" in comparisons).
CREATE OR REPLACE VIEW review_queue AS SELECT * FROM held_facts;

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

-- What comparisons may use: actual figures (not targets), from reports rather than plans (a
-- plan's "actual" is a baseline, not the period's result), about the commune itself (scope
-- self, or not yet decided), neither rejected nor held for review. Corrections applied.
CREATE OR REPLACE VIEW comparable_facts AS
SELECT f.*
FROM facts_corrected f
WHERE f.kind = 'actual' AND NOT f.rejected AND f.value IS NOT NULL AND NOT f.held_for_review
  AND coalesce(f.doc_type, 'other') <> 'plan' AND coalesce(f.scope, 'self') = 'self';

-- '17' for 17.0, '80.05' otherwise: how a derived share shows the counts it came from.
CREATE OR REPLACE MACRO num_text(x) AS
    CASE WHEN x = round(x) THEN CAST(CAST(x AS BIGINT) AS VARCHAR) ELSE CAST(round(x, 2) AS VARCHAR) END;

-- A share outside 0-100 % means the figures behind it were misread (e.g. an OCR slip);
-- the comparison leaves it out rather than rank a commune on it. The facts stay as read.
CREATE OR REPLACE MACRO plausible_share(x) AS CASE WHEN x BETWEEN 0 AND 100 THEN x END;

-- One figure per current document and metric: the most confident, then the first mentioned.
CREATE OR REPLACE VIEW document_figures AS
SELECT * EXCLUDE (rn)
FROM (
    SELECT f.*, row_number() OVER (PARTITION BY f.doc_sha256, f.metric
                                   ORDER BY f.confidence DESC, f.char_start) AS rn
    FROM comparable_facts f
)
WHERE rn = 1;

-- Shares a document did not write but whose counts it gave, computed from counts of the SAME
-- document (a ratio never mixes two reports):
--   dossiers.online_pct            = received_online / received
--   computers.antivirus_pct        = antivirus / total
--   staff.trained_pct              = trained / present, else trained / quota
--   dossiers.resolved_in_time_pct  = in_time / resolved, else (resolved - overdue) / resolved,
--                                    else (early + on_time) / resolved
-- A share the document wrote always wins over its counts. derived_from shows the counts
-- ('17/40'), derived_from_ids the fact_ids of the two figures.
CREATE OR REPLACE VIEW derived_shares AS
WITH p AS (
    SELECT doc_sha256,
           max(value) FILTER (WHERE metric = 'dossiers.received')             AS received,
           max(value) FILTER (WHERE metric = 'dossiers.received_online')      AS received_online,
           max(value) FILTER (WHERE metric = 'dossiers.online_pct')           AS online_pct,
           max(value) FILTER (WHERE metric = 'dossiers.resolved')             AS resolved,
           max(value) FILTER (WHERE metric = 'dossiers.resolved_in_time')     AS in_time,
           max(value) FILTER (WHERE metric = 'dossiers.resolved_early')       AS early,
           max(value) FILTER (WHERE metric = 'dossiers.resolved_on_time')     AS on_time,
           max(value) FILTER (WHERE metric = 'dossiers.resolved_overdue')     AS overdue,
           max(value) FILTER (WHERE metric = 'dossiers.resolved_in_time_pct') AS in_time_pct,
           max(value) FILTER (WHERE metric = 'computers.total')               AS computers,
           max(value) FILTER (WHERE metric = 'computers.antivirus')           AS antivirus,
           max(value) FILTER (WHERE metric = 'computers.antivirus_pct')       AS antivirus_pct,
           max(value) FILTER (WHERE metric = 'staff.present')                 AS present,
           max(value) FILTER (WHERE metric = 'staff.quota')                   AS quota,
           max(value) FILTER (WHERE metric = 'staff.trained')                 AS trained,
           max(value) FILTER (WHERE metric = 'staff.trained_pct')             AS trained_pct,
           map(list(metric), list(fact_id))                                   AS ids,
           map(list(metric), list(evidence))                                  AS evidences,
           map(list(metric), list(page))                                      AS pages,
           map(list(metric), list(confidence))                                AS confidences
    FROM document_figures
    GROUP BY doc_sha256
), ratios AS (
    SELECT 'dossiers.online_pct' AS metric, online_pct IS NOT NULL AS written,
           received_online AS part, received AS whole,
           'dossiers.received_online' AS part_metric, 'dossiers.received' AS whole_metric, p.*
    FROM p
    UNION ALL
    SELECT 'computers.antivirus_pct', antivirus_pct IS NOT NULL, antivirus, computers,
           'computers.antivirus', 'computers.total', p.*
    FROM p
    UNION ALL
    SELECT 'staff.trained_pct', trained_pct IS NOT NULL, trained, coalesce(present, quota),
           'staff.trained', CASE WHEN present IS NOT NULL THEN 'staff.present' ELSE 'staff.quota' END, p.*
    FROM p
    UNION ALL
    SELECT 'dossiers.resolved_in_time_pct', in_time_pct IS NOT NULL,
           coalesce(in_time, resolved - overdue, early + on_time), resolved,
           CASE WHEN in_time IS NOT NULL THEN 'dossiers.resolved_in_time'
                WHEN overdue IS NOT NULL THEN 'dossiers.resolved_overdue'
                ELSE 'dossiers.resolved_on_time' END,
           'dossiers.resolved', p.*
    FROM p
)
SELECT d.source_file, d.sha256 AS doc_sha256, d.doc_type, d.ward_code, d.commune, d.province,
       d.period_start, d.period_end, d.as_of, d.issued_on, d.loaded_at,
       r.metric, 100.0 * r.part / r.whole AS value, r.part, r.whole,
       num_text(r.part) || '/' || num_text(r.whole) AS derived_from,
       r.ids[r.part_metric] || ',' || r.ids[r.whole_metric] AS derived_from_ids,
       r.evidences[r.part_metric] AS evidence, r.pages[r.part_metric] AS page,
       least(r.confidences[r.part_metric], r.confidences[r.whole_metric]) AS confidence,
       coalesce('w:' || d.ward_code, 'n:' || lower(coalesce(d.province, '')) || '|' || lower(d.commune))
           AS commune_key
FROM ratios r
JOIN document_versions d ON d.sha256 = r.doc_sha256 AND d.is_current
WHERE NOT r.written AND r.part IS NOT NULL AND r.whole IS NOT NULL AND r.whole > 0
  AND plausible_share(100.0 * r.part / r.whole) IS NOT NULL;

-- Every figure a comparison may rank: comparable facts (percent values outside 0-100 left
-- out, see plausible_share) plus the derived shares, marked derived.
CREATE OR REPLACE VIEW metric_values AS
SELECT fact_id, source_file, doc_sha256, doc_type, ward_code, commune, province, period_start, period_end,
       as_of, issued_on, loaded_at, metric, value, unit, qualifier, page, char_start, evidence, confidence,
       original_value, corrected, false AS derived, CAST(NULL AS VARCHAR) AS derived_from,
       CAST(NULL AS VARCHAR) AS derived_from_ids, CAST(NULL AS DOUBLE) AS part, CAST(NULL AS DOUBLE) AS whole,
       commune_key
FROM comparable_facts
WHERE unit <> 'percent' OR plausible_share(value) IS NOT NULL
UNION ALL
SELECT NULL, source_file, doc_sha256, doc_type, ward_code, commune, province, period_start, period_end,
       as_of, issued_on, loaded_at, metric, value, 'percent', 'eq', page, NULL, evidence, confidence,
       NULL, false, true, derived_from, derived_from_ids, part, whole, commune_key
FROM derived_shares;

-- Latest actual value per commune and metric. "Latest" = the document with the latest period
-- end (else as-of, else issue date), then the most recently loaded; within one document the
-- most confident fact, then the first mentioned. Communes are identified by ward code, else
-- by province + name; facts of documents whose commune is unknown are left out (they cannot
-- be compared). Every value carries its own period (period_start/period_end).
CREATE OR REPLACE VIEW actual_latest AS
SELECT * EXCLUDE (rn)
FROM (
    SELECT v.*,
           row_number() OVER (
               PARTITION BY v.commune_key, v.metric
               ORDER BY coalesce(v.period_end, v.as_of, v.issued_on) DESC NULLS LAST,
                        v.loaded_at DESC, v.derived, v.confidence DESC, v.char_start
           ) AS rn
    FROM metric_values v
    WHERE v.ward_code IS NOT NULL OR v.commune IS NOT NULL
)
WHERE rn = 1;

CREATE OR REPLACE VIEW commune_latest AS
SELECT ward_code, commune, province, metric, value, unit, qualifier,
       period_start, period_end, source_file, doc_sha256, page, evidence, confidence,
       fact_id, original_value, corrected, derived, derived_from, derived_from_ids, commune_key
FROM actual_latest;

-- Every commune with a current document, once (the rows of comparisons).
CREATE OR REPLACE VIEW compared_communes AS
SELECT commune_key,
       arg_max(ward_code, ord) AS ward_code, arg_max(commune, ord) AS commune,
       arg_max(province, ord) AS province,
       count(*) AS documents, max(period_end) AS latest_period_end
FROM (
    SELECT d.*, coalesce('w:' || d.ward_code,
                         'n:' || lower(coalesce(d.province, '')) || '|' || lower(d.commune)) AS commune_key,
           row_number() OVER (ORDER BY coalesce(d.period_end, d.as_of, d.issued_on) NULLS FIRST,
                                       d.loaded_at) AS ord
    FROM document_versions d
    WHERE d.is_current AND (d.ward_code IS NOT NULL OR d.commune IS NOT NULL)
)
GROUP BY commune_key;

-- The comparison's columns, the metric each shows, and the figures it is computed from (a
-- blank is "?" when one of these is held for review, "–" when nothing was reported).
CREATE OR REPLACE VIEW comparison_columns AS
SELECT * FROM (VALUES
    (1, 'online_share',        'dossiers.online_pct',           'dossiers.online_pct,dossiers.received_online,dossiers.received'),
    (2, 'overdue_share',       'dossiers.resolved_in_time_pct', 'dossiers.resolved_in_time_pct,dossiers.resolved,dossiers.resolved_in_time,dossiers.resolved_early,dossiers.resolved_on_time,dossiers.resolved_overdue'),
    (3, 'antivirus_coverage',  'computers.antivirus_pct',       'computers.antivirus_pct,computers.antivirus,computers.total'),
    (4, 'staff_trained_share', 'staff.trained_pct',             'staff.trained_pct,staff.trained,staff.present,staff.quota')
) AS t(position, column_name, metric, inputs)
-- then one column per metric with a `comparison_column` in rules/metrics.yaml (positions 5...),
-- filled in from the catalog by warehouse/schema.py when the schema is applied
{{comparison_column_rows}};

-- One cell per commune and comparison column: the value (overdue share = 100 - the in-time
-- share), whether it was derived from counts, its own period, its source, and why a blank is
-- blank: status 'value', 'held' (a figure behind it awaits review) or 'missing'.
CREATE OR REPLACE VIEW comparison_cells AS
SELECT c.commune_key, c.ward_code, c.commune, c.province, c.documents, c.latest_period_end,
       k.position, k.column_name, k.metric,
       CASE WHEN k.column_name = 'overdue_share' THEN plausible_share(100.0 - l.value)
            WHEN k.position <= 4 THEN plausible_share(l.value)
            ELSE l.value END AS value,
       l.derived,
       -- the overdue share shows the overdue count: 100 - 725/726 in time reads as 1/726
       CASE WHEN k.column_name = 'overdue_share' AND l.derived
            THEN num_text(l.whole - l.part) || '/' || num_text(l.whole) ELSE l.derived_from END AS derived_from,
       l.period_start, l.period_end, l.source_file, l.fact_id, l.page,
       CASE WHEN l.value IS NOT NULL THEN 'value'
            WHEN EXISTS (SELECT 1 FROM review_queue q
                         WHERE q.commune_key = c.commune_key
                           AND list_contains(string_split(k.inputs, ','), q.metric)) THEN 'held'
            ELSE 'missing' END AS status
FROM compared_communes c
CROSS JOIN comparison_columns k
LEFT JOIN actual_latest l ON l.commune_key = c.commune_key AND l.metric = k.metric;

-- One row per commune: each key figure from the latest document that has it. *_derived says
-- a share was computed from counts; *_period_end is the period that value comes from, which
-- may be earlier than latest_period_end (the commune's latest report).
CREATE OR REPLACE VIEW comparison AS
SELECT any_value(ward_code) AS ward_code, any_value(commune) AS commune, any_value(province) AS province,
       max(value) FILTER (WHERE column_name = 'online_share')        AS online_share,
       max(value) FILTER (WHERE column_name = 'overdue_share')       AS overdue_share,
       max(value) FILTER (WHERE column_name = 'antivirus_coverage')  AS antivirus_coverage,
       max(value) FILTER (WHERE column_name = 'staff_trained_share') AS staff_trained_share,
       {{comparison_latest}}
       any_value(documents) AS documents, any_value(latest_period_end) AS latest_period_end,
       commune_key,
       bool_or(derived) FILTER (WHERE column_name = 'online_share')        AS online_share_derived,
       bool_or(derived) FILTER (WHERE column_name = 'overdue_share')       AS overdue_share_derived,
       bool_or(derived) FILTER (WHERE column_name = 'antivirus_coverage')  AS antivirus_coverage_derived,
       bool_or(derived) FILTER (WHERE column_name = 'staff_trained_share') AS staff_trained_share_derived,
       max(period_end) FILTER (WHERE column_name = 'online_share' AND value IS NOT NULL)        AS online_share_period_end,
       max(period_end) FILTER (WHERE column_name = 'overdue_share' AND value IS NOT NULL)       AS overdue_share_period_end,
       max(period_end) FILTER (WHERE column_name = 'antivirus_coverage' AND value IS NOT NULL)  AS antivirus_coverage_period_end,
       max(period_end) FILTER (WHERE column_name = 'staff_trained_share' AND value IS NOT NULL) AS staff_trained_share_period_end
FROM comparison_cells
GROUP BY commune_key;

-- Key figures per current document (v1 view, kept for saved queries): shares as in
-- comparison_cells, from this document alone.
CREATE OR REPLACE VIEW document_metrics AS
WITH v AS (
    SELECT doc_sha256, metric, value FROM metric_values
)
SELECT d.source_file, d.sha256 AS doc_sha256, d.doc_type, d.ward_code, d.commune, d.province,
       d.period_start, d.period_end, d.as_of, d.issued_on, d.loaded_at,
       coalesce('w:' || d.ward_code, 'n:' || lower(coalesce(d.province, '')) || '|' || lower(d.commune)) AS commune_key,
       max(v.value) FILTER (WHERE v.metric = 'dossiers.received')              AS dossiers_received,
       max(v.value) FILTER (WHERE v.metric = 'computers.total')                AS computers_total,
       max(v.value) FILTER (WHERE v.metric = 'staff.present')                  AS staff_present,
       max(v.value) FILTER (WHERE v.metric = 'dossiers.online_pct')            AS online_share,
       plausible_share(100.0 - max(v.value) FILTER (WHERE v.metric = 'dossiers.resolved_in_time_pct'))
                                                                               AS overdue_share,
       max(v.value) FILTER (WHERE v.metric = 'computers.antivirus_pct')        AS antivirus_coverage,
       max(v.value) FILTER (WHERE v.metric = 'staff.trained_pct')              AS staff_trained_share
FROM document_versions d
LEFT JOIN v ON v.doc_sha256 = d.sha256
WHERE d.is_current
GROUP BY ALL;
