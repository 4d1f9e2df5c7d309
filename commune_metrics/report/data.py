"""What the report shows, read from the warehouse views in one place so the HTML and the
Excel export show the same rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from commune_metrics.checks import ChecksConfigError, load_checks
from commune_metrics.report.labels import metric_labels


@dataclass(frozen=True)
class Table:
    """One view as the report reads it: the Excel sheet holds exactly these rows."""

    name: str  # sheet name
    sql: str
    columns: tuple[str, ...] = ()


TABLES: tuple[Table, ...] = (
    Table(
        "So sánh xã",
        """SELECT ward_code, commune, province, online_share, overdue_share, antivirus_coverage,
                  staff_trained_share, dossiers_received, computers_total, staff_present, documents,
                  latest_period_end, commune_key,
                  online_share_derived, overdue_share_derived, antivirus_coverage_derived,
                  staff_trained_share_derived, online_share_period_end, overdue_share_period_end,
                  antivirus_coverage_period_end, staff_trained_share_period_end
           FROM comparison ORDER BY province NULLS LAST, commune, commune_key""",
    ),
    Table(
        "Số liệu và dẫn chứng",
        """SELECT fact_id, source_file, commune, province, doc_type, metric, kind, value, original_value,
                  unit, qualifier, period_start, period_end, page, char_start, char_end, evidence,
                  extractor, confidence, corrected, rejected, correction_note, corrected_by,
                  doc_sha256, commune_key, seq, scope, review_status, corrected_at, original_metric,
                  held_for_review, ward_code
           FROM facts_corrected ORDER BY province NULLS LAST, commune NULLS LAST, source_file, char_start,
                  metric, kind""",
    ),
    Table(
        "Cảnh báo",
        """SELECT g.source_file, d.commune, d.province, g.rule, g.metrics, g.expected, g.actual,
                  g.difference, g.message, g.evidence, g.doc_sha256, g.fact_indexes
           FROM flags g
           LEFT JOIN (SELECT doc_sha256, commune, province FROM documents WHERE status = 'loaded') d
                  USING (doc_sha256)
           ORDER BY g.source_file, g.rule, g.metrics""",
    ),
    Table(
        "Mục tiêu - thực hiện",
        """SELECT commune, province, metric, target_value, target_qualifier, actual_value, gap, met,
                  target_scope, target_file, target_evidence, actual_file, actual_evidence,
                  actual_period_end, target_fact_id, actual_fact_id, commune_key
           FROM target_gaps ORDER BY province NULLS LAST, commune, metric, target_value""",
    ),
    Table(
        "Quy đổi 30 ngày",
        """SELECT commune, province, metric, value, period_start, period_end, period_days, period_known,
                  per_30_days,
                  rate_status, source_file, fact_id, commune_key, ward_code
           FROM fact_rates_30d ORDER BY province NULLS LAST, commune NULLS LAST, metric, source_file""",
    ),
    Table(
        "Tệp không đọc được",
        """SELECT source_file, reason, code, attempts, first_at, "at", doc_sha256
           FROM quarantine ORDER BY source_file, first_at""",
    ),
    Table(
        "Văn bản đã thay thế",
        """SELECT h.source_file, h.commune, h.province, h.ward_code, h.doc_type, h.period_start, h.period_end,
                  h.version, h.loaded_at, h.superseded_at, n.source_file AS replaced_by,
                  n.version AS replaced_by_version, h.doc_sha256
           FROM document_history h
           LEFT JOIN document_history n ON n.doc_id = h.superseded_by
           WHERE NOT h.is_current
           ORDER BY h.province NULLS LAST, h.commune NULLS LAST, h.source_file, h.version""",
    ),
)
COMPARISON, FACTS, FLAGS, TARGETS, RATES, QUARANTINE, REPLACED = (t.name for t in TABLES)


@dataclass
class ReportData:
    tables: dict[str, list[dict]]
    columns: dict[str, list[str]]
    labels: dict[str, str]  # metric code -> Vietnamese label
    severities: dict[str, str] = field(default_factory=dict)  # check name -> error / warning
    # comparison_cells by (commune_key, column): why a blank is blank ("held" / "missing")
    cells: dict[tuple[str, str], dict] = field(default_factory=dict)
    generated_at: datetime = field(default_factory=datetime.now)

    def rows(self, table: str) -> list[dict]:
        return self.tables[table]

    def label(self, metric: str) -> str:
        return self.labels.get(metric, metric)


def _fetch(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], list[dict]]:
    cur = con.execute(sql)
    columns = [d[0] for d in cur.description]
    return columns, [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]


def load_report_data(con: duckdb.DuckDBPyConnection) -> ReportData:
    tables: dict[str, list[dict]] = {}
    columns: dict[str, list[str]] = {}
    for table in TABLES:
        columns[table.name], tables[table.name] = _fetch(con, table.sql)
    _, cells = _fetch(con, "SELECT commune_key, column_name, status, derived, derived_from "
                           "FROM comparison_cells")
    by_cell = {(c["commune_key"], c["column_name"]): c for c in cells}
    return ReportData(tables, columns, metric_labels(con), _severities(), by_cell)


def _severities() -> dict[str, str]:
    try:
        return {c.name: c.severity for c in load_checks().checks}
    except (OSError, ChecksConfigError):
        return {}
