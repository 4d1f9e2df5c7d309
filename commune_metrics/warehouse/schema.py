"""Schema creation and migration: the SQL files in sql/ run in name order when their
version changes. Files must be idempotent (CREATE ... IF NOT EXISTS, CREATE OR REPLACE VIEW,
ALTER TABLE ... ADD COLUMN IF NOT EXISTS), so a file added later (e.g. 50_analysis.sql)
applies to warehouses built before it existed.

schema_version records the text (sha256) of each file applied. A writable open whose files
all match their latest recorded text writes nothing: re-applying and committing on every
open made every run fail at open on a full disk, where a run with nothing new, or one that
only needs to record its failure, should still get through."""

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


def _rendered(sql_dir: Path) -> dict[Path, str]:
    """The SQL files' texts as applied: the catalog-driven placeholders filled in."""
    return {path: render_sql(path.read_text(encoding="utf-8")) for path in sql_files(sql_dir)}


def pending_files(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> dict[str, str]:
    """{file: sha256} of the SQL files whose text (as applied) differs from the one last
    applied (all of them on a new warehouse). Reads only."""
    return _pending(con, _rendered(sql_dir))


def _pending(con: duckdb.DuckDBPyConnection, texts: dict[Path, str]) -> dict[str, str]:
    current = {path.name: hashlib.sha256(text.encode()).hexdigest() for path, text in texts.items()}
    latest: dict[str, str] = {}
    # Asked of the catalog, not by querying the table: a missing table would make DuckDB look
    # for a Python variable of that name instead (replacement scans).
    if con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_version' "
                   "AND database_name = current_database()").fetchone()[0]:
        latest = dict(con.execute(
            "SELECT file, arg_max(sha256, applied_at) FROM schema_version GROUP BY file").fetchall())
    return {name: digest for name, digest in current.items() if latest.get(name) != digest}


def apply_schema(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> bool:
    """Bring the schema up to the SQL files' version; returns whether anything was applied.
    All files run (they are idempotent, and a later file may depend on an earlier one) in one
    transaction: a failure leaves the previous schema whole."""
    texts = _rendered(sql_dir)
    pending = _pending(con, texts)
    if not pending:
        return False
    con.begin()
    try:
        for text in texts.values():
            con.execute(text)
        # Recorded only after every file ran, so a failing file leaves no half schema.
        now = datetime.now()
        for name, digest in sorted(pending.items()):
            match = _PREFIX.match(name)
            con.execute("INSERT INTO schema_version VALUES (?, ?, ?, ?)",
                        [int(match.group(1)) if match else 0, name, digest, now])
        con.commit()
    except BaseException:
        rollback_quietly(con)
        raise
    return True


def rollback_quietly(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back after a failure without ever replacing that failure: when the failure was the
    commit itself (a full disk), DuckDB has no transaction left and rollback raises
    "cannot rollback - no transaction is active", which used to reach the user instead."""
    try:
        con.rollback()
    except Exception as exc:
        log.debug("rollback after a failure failed too: %s", exc)


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
    except BaseException:
        rollback_quietly(con)
        raise
