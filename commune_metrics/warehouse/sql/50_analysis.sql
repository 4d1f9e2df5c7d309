-- Analysis layer: per-30-day rates and targets vs actuals, on corrected values
-- (05_corrections.sql, 10_views.sql: facts_corrected, actual_latest). Safe to run on every open.

-- Metrics where less is better: an "eq"/"approx" target for them is a ceiling, not a floor
-- (metrics.yaml `better: lower`, loaded into the metrics table).
CREATE OR REPLACE MACRO lower_is_better(m) AS
    m IN (SELECT code FROM metrics WHERE better = 'lower');

-- Counts that accumulate over the reporting period (so they can be scaled to 30 days);
-- stocks such as computers.total or staff.quota are left out of the rates (metrics.yaml `flow`).
CREATE OR REPLACE MACRO is_flow_metric(m) AS
    m IN (SELECT code FROM metrics WHERE flow);

-- Corrections that match no current fact (the document was replaced by a new version, or
-- re-extraction moved the figure): shown to analysts so nothing is silently lost.
CREATE OR REPLACE VIEW corrections_unmatched AS
SELECT c.*
FROM corrections_current c
WHERE NOT EXISTS (
    SELECT 1 FROM fact_history f
    WHERE f.is_current AND fact_id_of(f.doc_sha256, f.metric, f.kind, f.char_start) = c.fact_id
);

-- Flow counts scaled to 30 days: value / days(period) * 30. Facts whose document has no
-- usable period stay in the view with period_known = false and no rate.
CREATE OR REPLACE VIEW fact_rates_30d AS
WITH p AS (
    SELECT f.*,
           CASE WHEN f.period_start IS NOT NULL AND f.period_end IS NOT NULL
                     AND f.period_end >= f.period_start
                THEN date_diff('day', f.period_start, f.period_end) + 1 END AS period_days
    FROM comparable_facts f
    WHERE f.unit = 'count' AND is_flow_metric(f.metric)
)
SELECT fact_id, ward_code, commune, province, source_file, doc_sha256, metric, value,
       period_start, period_end, period_days,
       period_days IS NOT NULL AS period_known,
       round(value / period_days * 30, 2) AS per_30_days,
       CASE WHEN period_days IS NULL THEN 'unknown_period' ELSE 'ok' END AS rate_status,
       commune_key, evidence, page
FROM p;

-- Targets vs actuals. A commune's target is one written in its own documents; a province-
-- wide target (document with a province but no commune) applies to every commune of that
-- province that has no target of its own for the metric. One row per distinct target
-- (value, qualifier) and commune, compared with the commune's latest actual.
-- met respects the qualifier: ">= 80" is met by 80.05, "> 95" is not met by 95; "eq" and
-- "approx" targets are floors, or ceilings for metrics where less is better.
CREATE OR REPLACE VIEW target_gaps AS
WITH targets AS (
    -- target_of, not scope: facts have a scope column of their own (self, sub_unit, ...)
    SELECT f.* EXCLUDE (scope),
           CASE WHEN f.ward_code IS NULL AND f.commune IS NULL AND f.province IS NOT NULL
                THEN 'province' ELSE 'commune' END AS target_of
    FROM facts_corrected f
    WHERE f.kind = 'target' AND NOT f.rejected AND f.value IS NOT NULL AND NOT f.held_for_review
      AND coalesce(f.scope, 'self') = 'self'
), own AS (
    SELECT t.commune_key, t.metric, t.value, t.qualifier, t.fact_id, t.source_file, t.evidence, t.page,
           t.target_of AS scope, coalesce(t.period_end, t.as_of, t.issued_on) AS ord_date, t.loaded_at
    FROM targets t
    WHERE t.target_of = 'commune'
), provincial AS (
    SELECT a.commune_key, t.metric, t.value, t.qualifier, t.fact_id, t.source_file, t.evidence, t.page,
           t.target_of AS scope, coalesce(t.period_end, t.as_of, t.issued_on) AS ord_date, t.loaded_at
    FROM targets t
    JOIN actual_latest a
      ON a.metric = t.metric AND lower(a.province) = lower(t.province)
    WHERE t.target_of = 'province'
      AND NOT EXISTS (SELECT 1 FROM own o WHERE o.commune_key = a.commune_key AND o.metric = t.metric)
), all_targets AS (
    SELECT * EXCLUDE (rn)
    FROM (
        SELECT u.*,
               row_number() OVER (PARTITION BY commune_key, metric, value, qualifier
                                  ORDER BY ord_date DESC NULLS LAST, loaded_at DESC) AS rn
        FROM (SELECT * FROM own UNION ALL SELECT * FROM provincial) u
    )
    WHERE rn = 1
), joined AS (
    SELECT a.ward_code, a.commune, a.province, t.metric, a.unit,
           t.value AS target_value, t.qualifier AS target_qualifier, t.scope AS target_scope,
           t.source_file AS target_file, t.evidence AS target_evidence, t.page AS target_page,
           t.fact_id AS target_fact_id,
           a.value AS actual_value, a.qualifier AS actual_qualifier,
           a.source_file AS actual_file, a.evidence AS actual_evidence, a.page AS actual_page,
           a.fact_id AS actual_fact_id, a.period_start AS actual_period_start,
           a.period_end AS actual_period_end, a.commune_key
    FROM all_targets t
    JOIN actual_latest a USING (commune_key, metric)
)
SELECT ward_code, commune, province, metric, unit, target_value, target_qualifier,
       actual_value, round(actual_value - target_value, 4) AS gap,
       CASE target_qualifier
           WHEN 'gt'  THEN actual_value > target_value
                           OR (actual_value = target_value AND actual_qualifier = 'gt')
           WHEN 'gte' THEN actual_value >= target_value
           WHEN 'lt'  THEN actual_value < target_value
                           OR (actual_value = target_value AND actual_qualifier = 'lt')
           WHEN 'lte' THEN actual_value <= target_value
           ELSE CASE WHEN lower_is_better(metric) THEN actual_value <= target_value
                     ELSE actual_value >= target_value END
       END AS met,
       target_scope, target_file, target_evidence, target_page, target_fact_id,
       actual_qualifier, actual_file, actual_evidence, actual_page, actual_fact_id,
       actual_period_start, actual_period_end, commune_key
FROM joined;
