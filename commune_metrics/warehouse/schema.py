"""Schema creation and migration: the SQL files in sql/ run in name order on every
writable open. Files must be idempotent (CREATE ... IF NOT EXISTS, CREATE OR REPLACE VIEW,
ALTER TABLE ... ADD COLUMN IF NOT EXISTS), so a file added later (e.g. 50_analysis.sql)
applies to warehouses built before it existed. schema_version records which file texts
have been applied, for audit."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import duckdb

SQL_DIR = Path(__file__).resolve().parent / "sql"
_PREFIX = re.compile(r"^(\d+)")
log = logging.getLogger(__name__)


def sql_files(sql_dir: Path = SQL_DIR) -> list[Path]:
    return sorted(p for p in sql_dir.glob("*.sql") if p.is_file())


def schema_version(sql_dir: Path = SQL_DIR) -> int:
    """The highest numeric prefix among the SQL files."""
    numbers = [int(m.group(1)) for p in sql_files(sql_dir) if (m := _PREFIX.match(p.name))]
    return max(numbers, default=0)


def apply_schema(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> None:
    files = sql_files(sql_dir)
    con.begin()
    try:
        texts = {path: render_sql(path.read_text(encoding="utf-8")) for path in files}
        for path in files:
            con.execute(texts[path])
        # Recorded only after every file ran, so a failing file leaves no half schema.
        applied = {(f, h) for f, h in con.execute("SELECT file, sha256 FROM schema_version").fetchall()}
        now = datetime.now()
        for path in files:
            digest = hashlib.sha256(texts[path].encode()).hexdigest()
            if (path.name, digest) not in applied:
                match = _PREFIX.match(path.name)
                con.execute(
                    "INSERT INTO schema_version VALUES (?, ?, ?, ?)",
                    [int(match.group(1)) if match else 0, path.name, digest, now],
                )
        con.commit()
    except Exception:
        con.rollback()
        raise


def render_sql(text: str) -> str:
    """Fill the catalog-driven parts of the views: one comparison column per metric with a
    `comparison_column` in rules/metrics.yaml, so adding a metric touches no SQL. Codes and
    column names were validated by the rules schema (identifier patterns) before they get here."""
    if "{{" not in text:
        return text
    columns = [(code, col) for code, *_rest, col in _catalog_rows(_rules_stamp()) if col]
    rows = "".join(f"\nUNION ALL SELECT {5 + i}, '{col}', '{code}', '{code}'"
                   for i, (code, col) in enumerate(columns))
    latest = "\n       ".join(f"max(value) FILTER (WHERE column_name = '{col}') AS {col},"
                              for _code, col in columns)
    return text.replace("{{comparison_column_rows}}", rows).replace("{{comparison_latest}}", latest)


def refresh_reference(con: duckdb.DuckDBPyConnection) -> None:
    """Fill communes (once) and metrics (every open: the catalog is data and may change)
    from upstream modules when they are available; their absence is not an error."""
    try:
        if con.execute("SELECT count(*) FROM communes").fetchone()[0] == 0:
            from commune_metrics.extract.gazetteer import all_communes

            rows = [
                (c.ward_code, c.name, c.full_name, c.province, getattr(c, "province_code", None))
                for c in all_communes()
            ]
            _replace(con, "communes", rows)
    except ImportError:
        log.debug("commune_metrics.extract.gazetteer not available; communes table left empty")
    except Exception as exc:  # reference data must never block loading documents
        log.warning("communes table not refreshed: %s", exc)

    try:
        rows = _catalog_rows(_rules_stamp())
        current = con.execute(
            "SELECT code, unit, label_vi, description, flow, better, comparison_column"
            " FROM metrics ORDER BY code"
        ).fetchall()
        if sorted(rows) != current:
            _replace(con, "metrics", rows)
    except ImportError:
        log.debug("commune_metrics.extract.rules not available; metrics table left as is")
    except Exception as exc:  # e.g. a broken rules file: report it, keep loading
        log.warning("metrics table not refreshed: %s", exc)


def _rules_stamp() -> tuple:
    from commune_metrics.core.config import RULES_DIR

    return (str(RULES_DIR), *((p.name, st.st_mtime_ns, st.st_size)
                              for p in sorted(RULES_DIR.glob("*.y*ml")) for st in [p.stat()]))


@lru_cache(maxsize=4)
def _catalog_rows(_stamp: tuple) -> list[tuple]:
    """The metric catalog as rows, parsed once per version of the rules files: parsing the
    YAML took ~60 ms, paid on every writable open (once per ingest chunk)."""
    from commune_metrics.extract.rules import load_catalog

    return [(m.code, m.unit, m.label_vi, m.description, m.flow, m.better, m.comparison_column)
            for m in load_catalog()]


def _replace(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    if not rows:
        return
    import pandas as pd  # only when reference data changes; keeps CLI start-up light

    columns = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]  # table: a literal above
    frame = pd.DataFrame(rows, columns=columns)
    con.begin()
    try:
        con.execute(f"DELETE FROM {table}")
        # Bulk insert through a registered frame: executemany is row by row in DuckDB.
        con.register("_reference_rows", frame)
        con.execute(f"INSERT INTO {table} SELECT * FROM _reference_rows")
        con.unregister("_reference_rows")
        con.commit()
    except Exception:
        con.rollback()
        raise
