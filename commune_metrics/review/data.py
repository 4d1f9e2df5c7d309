"""What the review pages show, read from the analysts' snapshot (one connection per request).

Every function returns plain dicts; pages.py turns them into HTML and escapes every string.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

FACT_COLUMNS = """
    f.fact_id, f.source_file, f.doc_sha256, f.doc_type, f.ward_code, f.commune, f.province, f.period_start,
    f.period_end, f.metric, f.kind, f.value, f.original_value, f.unit, f.qualifier, f.page, f.char_start,
    f.char_end, f.evidence, f.confidence, f.scope, f.corrected, f.rejected, f.confirmed, f.review_status,
    f.held_for_review, f.corrected_by, f.corrected_at, f.corrected_why, f.original_metric, f.original_kind,
    f.commune_key, f.seq
"""


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> dict | None:
    found = rows(con, sql, params)
    return found[0] if found else None


def communes(con: duckdb.DuckDBPyConnection) -> list[dict]:
    return rows(con, """
        SELECT c.commune_key, c.ward_code, c.commune, c.province, c.documents, c.latest_period_end,
               (SELECT count(*) FROM facts_corrected f WHERE f.commune_key = c.commune_key) AS facts,
               (SELECT count(*) FROM facts_corrected f WHERE f.commune_key = c.commune_key AND f.reviewed)
                   AS reviewed,
               (SELECT count(*) FROM review_queue q WHERE q.commune_key = c.commune_key) AS queued,
               (SELECT count(*) FROM flags g
                  JOIN document_versions d ON d.sha256 = g.doc_sha256 AND d.is_current
                 WHERE coalesce('w:' || d.ward_code, 'n:' || lower(coalesce(d.province, '')) || '|'
                                || lower(d.commune)) = c.commune_key) AS flags
        FROM compared_communes c
        ORDER BY c.province NULLS LAST, c.commune""")


def documents(con: duckdb.DuckDBPyConnection, commune_key: str | None = None) -> list[dict]:
    where = "WHERE d.commune_key = ?" if commune_key is not None else ""
    return rows(con, f"""
        SELECT d.* FROM (
            SELECT v.sha256 AS doc_sha256, v.source_file, v.doc_type, v.ward_code, v.commune, v.province,
                   v.period_start, v.period_end, v.issued_on, v.file_type, v.pages, v.ocr_pages, v.version,
                   v.fact_count, v.flag_count, v.loaded_at,
                   coalesce('w:' || v.ward_code, 'n:' || lower(coalesce(v.province, '')) || '|'
                            || lower(v.commune)) AS commune_key,
                   (SELECT count(*) FROM facts_corrected f WHERE f.doc_sha256 = v.sha256 AND f.reviewed)
                       AS reviewed,
                   (SELECT count(*) FROM review_queue q WHERE q.doc_sha256 = v.sha256) AS queued
            FROM document_versions v WHERE v.is_current
        ) d {where}
        ORDER BY d.province NULLS LAST, d.commune NULLS LAST, d.period_end NULLS LAST, d.source_file""",
        [commune_key] if commune_key is not None else [])


def commune(con: duckdb.DuckDBPyConnection, commune_key: str) -> dict | None:
    return one(con, "SELECT * FROM compared_communes WHERE commune_key = ?", [commune_key])


def document(con: duckdb.DuckDBPyConnection, sha256: str) -> dict | None:
    return one(con, """
        SELECT v.sha256 AS doc_sha256, v.source_file, v.doc_type, v.ward_code, v.commune, v.province,
               v.period_start, v.period_end, v.issued_on, v.signer, v.file_type, v.pages, v.ocr_pages,
               v.version, v.is_current, t.text, t.page_starts,
               coalesce('w:' || v.ward_code, 'n:' || lower(coalesce(v.province, '')) || '|'
                        || lower(v.commune)) AS commune_key
        FROM document_versions v
        LEFT JOIN document_texts t ON t.sha256 = v.sha256
        WHERE v.sha256 = ?
        ORDER BY v.is_current DESC LIMIT 1""", [sha256])


def file_locations(con: duckdb.DuckDBPyConnection, sha256: str) -> list[str]:
    return [p for (p,) in con.execute(
        "SELECT path FROM document_files WHERE sha256 = ? ORDER BY recorded_at DESC", [sha256]).fetchall()]


def facts(con: duckdb.DuckDBPyConnection, *, doc_sha256: str | None = None,
          commune_key: str | None = None, fact_id: str | None = None) -> list[dict]:
    if doc_sha256 is not None:
        where, params = "f.doc_sha256 = ?", [doc_sha256]
    elif commune_key is not None:
        where, params = "f.commune_key = ?", [commune_key]
    elif fact_id is not None:
        where, params = "f.fact_id = ?", [fact_id]
    else:
        raise ValueError("facts of what?")
    found = rows(con, f"""
        SELECT {FACT_COLUMNS}, m.label_vi AS label,
               EXISTS (SELECT 1 FROM review_queue q WHERE q.fact_id = f.fact_id) AS queued,
               (SELECT q.reason FROM review_queue q WHERE q.fact_id = f.fact_id LIMIT 1) AS queue_reason
        FROM facts_corrected f
        LEFT JOIN metrics m ON m.code = f.metric
        WHERE {where}
        ORDER BY f.period_end NULLS LAST, f.source_file, f.char_start, f.metric""", params)
    if not found and fact_id is not None:
        return queue(con, fact_id=fact_id)
    return found


def queue(con: duckdb.DuckDBPyConnection, fact_id: str | None = None) -> list[dict]:
    """The review queue (view review_queue): held-back or low-confidence candidates."""
    where = "WHERE q.fact_id = ?" if fact_id else ""
    return rows(con, f"""
        SELECT q.fact_id, q.source_file, q.doc_sha256, q.doc_type, q.ward_code, q.commune, q.province,
               q.period_start, q.period_end, q.metric, q.kind, q.value, q.value AS original_value, q.unit,
               q.qualifier, q.page, q.char_start, q.char_end, q.evidence, q.confidence, q.reason,
               true AS queued, q.reason AS queue_reason, m.label_vi AS label
        FROM review_queue q
        LEFT JOIN metrics m ON m.code = q.metric
        {where}
        ORDER BY q.confidence, q.source_file, q.char_start""", [fact_id] if fact_id else [])


def flags(con: duckdb.DuckDBPyConnection, doc_sha256: str | None = None) -> list[dict]:
    where = "WHERE g.doc_sha256 = ?" if doc_sha256 else ""
    found = rows(con, f"""
        SELECT g.source_file, g.doc_sha256, g.rule, g.metrics, g.expected, g.actual, g.difference, g.message,
               g.evidence, g.fact_indexes, d.commune, d.province
        FROM flags g
        LEFT JOIN document_versions d ON d.sha256 = g.doc_sha256 AND d.is_current
        {where}
        ORDER BY d.province NULLS LAST, d.commune NULLS LAST, g.source_file, g.rule""",
        [doc_sha256] if doc_sha256 else [])
    ids = {(r["doc_sha256"], r["seq"]): r["fact_id"] for r in rows(
        con, "SELECT doc_sha256, seq, fact_id FROM facts_corrected")}
    for g in found:
        seqs = [s for s in (g["fact_indexes"] or "").split(",") if s.strip().isdigit()]
        g["fact_ids"] = [ids[(g["doc_sha256"], int(s))] for s in seqs if (g["doc_sha256"], int(s)) in ids]
    return found


@dataclass(frozen=True)
class Metric:
    code: str
    label: str
    unit: str


def metric_catalog(con: duckdb.DuckDBPyConnection) -> list[Metric]:
    return [Metric(c, label or c, unit or "") for c, label, unit in con.execute(
        "SELECT code, label_vi, unit FROM metrics ORDER BY code").fetchall()]


def counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    queued, flagged = con.execute("SELECT (SELECT count(*) FROM review_queue), (SELECT count(*) FROM flags)"
                                  ).fetchone()
    return {"queue": int(queued), "flags": int(flagged)}
