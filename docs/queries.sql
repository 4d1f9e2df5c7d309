-- Example queries against the warehouse (DuckDB SQL). Open it read-only:
--   duckdb -readonly data/warehouse/warehouse.duckdb
-- Each query below is run by tests/test_readme_sql.py against a warehouse built from the
-- bundled sample inbox (data/raw/samples/), so they stay correct as the schema evolves.

-- name: documents per province
SELECT province, count(*) AS documents, min(period_start) AS from_date, max(period_end) AS to_date
FROM documents
WHERE status = 'loaded'
GROUP BY province
ORDER BY documents DESC, province;

-- name: communes side by side (shares in percent)
SELECT commune, province, round(online_share, 1) AS online_pct, round(overdue_share, 1) AS overdue_pct,
       round(antivirus_coverage, 1) AS antivirus_pct, round(staff_trained_share, 1) AS trained_pct
FROM comparison
ORDER BY online_share DESC NULLS LAST;

-- name: one metric across communes, with its evidence
SELECT commune, province, value, unit, period_end, source_file, page, evidence
FROM commune_latest
WHERE metric = 'staff.quota'
ORDER BY value DESC;

-- name: every figure read from one commune's reports, in time order
SELECT period_end, metric, kind, value, unit, qualifier, source_file, page, evidence
FROM facts
WHERE commune = 'Tân Thành'
ORDER BY period_end, metric;

-- name: online share of dossiers per report, computed from counts
SELECT commune, period_end,
       max(value) FILTER (WHERE metric = 'dossiers.received_online') AS online,
       max(value) FILTER (WHERE metric = 'dossiers.received')        AS received,
       round(100.0 * online / nullif(received, 0), 1)                  AS online_pct
FROM facts
WHERE kind = 'actual'
GROUP BY commune, period_end, source_file
HAVING received IS NOT NULL
ORDER BY commune, period_end;

-- name: targets written in plans
SELECT commune, province, metric, qualifier, value, unit, evidence
FROM facts
WHERE kind = 'target'
ORDER BY commune, metric;

-- name: figures that do not add up (consistency checks)
SELECT source_file, rule, metrics, expected, actual, evidence
FROM flags
ORDER BY source_file, rule;

-- name: every version of every report, current or replaced
SELECT source_file, commune, period_start, period_end, version, is_current, loaded_at
FROM document_history
ORDER BY commune, period_end, version;

-- name: loader runs
SELECT run_id, trigger, started_at, finished_at, status, loaded, unchanged, quarantined, skipped
FROM runs
ORDER BY run_id DESC;
