"""Analyst corrections: fix or reject an extracted figure without touching the fact itself.

A correction is appended to the warehouse table `corrections` (05_corrections.sql) and keyed on
what identifies the fact inside its file (file hash, metric, kind, span start), exposed as
the short `fact_id` of view `facts` (which shows corrected values beside `original_value`).
Re-ingesting the same bytes reproduces the same key, so corrections survive reloads; a new
version of a document (new bytes) does not inherit them (see view `corrections_unmatched`).

Two ways in: `commune-metrics correct FACT_ID --value V --note ...` (correct_fact) and a
CSV file, by default data/corrections.csv (apply_corrections_csv), applied on ingest and
report. Applying the same CSV twice records nothing new. CSV columns: fact_id (or
doc_sha256, metric, kind, char_start), value, reject, note, who, separated by ',' or ';';
values are read the Vietnamese way ("5.679" = 5679, "80,05" = 80.05). README "Corrections".
"""

from __future__ import annotations

import csv
import getpass
import hashlib
import logging
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from commune_metrics.core.config import DATA_DIR

DEFAULT_CORRECTIONS_CSV = DATA_DIR / "corrections.csv"
CSV_COLUMNS = ("fact_id", "value", "reject", "note", "who")
# Alternative to fact_id in the CSV: the four columns the id is a hash of.
CSV_KEY_COLUMNS = ("doc_sha256", "metric", "kind", "char_start")
_TRUE = {"1", "true", "yes", "y", "x", "có", "co", "reject", "rejected"}
_FALSE = {"", "0", "false", "no", "n", "không", "khong"}

_VN_GROUPED = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")
log = logging.getLogger(__name__)


class CorrectionError(ValueError):
    """A correction that cannot be recorded (unknown fact, bad value, bad CSV row)."""


@dataclass(frozen=True)
class FactKey:
    doc_sha256: str
    metric: str
    kind: str
    char_start: int

    @property
    def fact_id(self) -> str:
        return fact_id(self.doc_sha256, self.metric, self.kind, self.char_start)


def fact_id(doc_sha256: str, metric: str, kind: str, char_start: int) -> str:
    """Same value as the SQL macro fact_id_of in 50_analysis.sql."""
    raw = f"{doc_sha256}|{metric}|{kind}|{int(char_start)}"
    return hashlib.md5(raw.encode("utf-8")).hexdigest()[:12]


@contextmanager
def _writable(warehouse: Path, lock_timeout: float | None = None,
              on_wait: Callable[[str], None] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    # Imported here: the warehouse is a later stage than this module's callers need.
    from commune_metrics.warehouse import open_warehouse

    with open_warehouse(Path(warehouse), lock_timeout=lock_timeout, on_wait=on_wait) as wh:
        yield wh.con


def lookup_fact(con: duckdb.DuckDBPyConnection, fid: str) -> FactKey:
    fid = fid.strip().lower()
    row = con.execute(
        """SELECT doc_sha256, original_metric, original_kind, char_start
           FROM facts_corrected WHERE fact_id = ?""",
        [fid],
    ).fetchone()
    if row is None:
        # A candidate the extractor held back (view review_queue) is corrected the same way.
        row = con.execute(
            "SELECT doc_sha256, metric, kind, char_start FROM review_queue WHERE fact_id = ?", [fid]
        ).fetchone()
    if row is None:
        raise CorrectionError(f"no current fact with id {fid!r} (see the fact_id column of facts)")
    return FactKey(*row)


def _check_value(value: float | None, reject: bool) -> None:
    if reject and value is not None:
        raise CorrectionError("give either a new value or reject, not both")
    if value is not None and not math.isfinite(value):
        raise CorrectionError(f"value must be a finite number, got {value!r}")


@dataclass(frozen=True)
class Change:
    """What a correction sets; None fields keep what the extractor read."""

    value: float | None = None
    metric: str | None = None
    kind: str | None = None
    scope: str | None = None
    reject: bool = False
    confirm: bool = False

    def changes(self) -> bool:
        return any(v is not None for v in (self.value, self.metric, self.kind, self.scope))


SCOPES = ("self", "sub_unit", "other_unit", "higher_level", "earlier_period", "unknown")
KINDS = ("actual", "target")


def check_change(con: duckdb.DuckDBPyConnection, change: Change) -> None:
    """Refuse a change naming an unknown metric, kind or scope, or mixing reject with values."""
    _check_value(change.value, change.reject)
    if change.reject and change.changes():
        raise CorrectionError("a rejected fact takes no new value, metric, kind or scope")
    if change.kind is not None and change.kind not in KINDS:
        raise CorrectionError(f"kind must be one of {', '.join(KINDS)}, got {change.kind!r}")
    if change.scope is not None and change.scope not in SCOPES:
        raise CorrectionError(f"scope must be one of {', '.join(SCOPES)}, got {change.scope!r}")
    if change.metric is not None:
        codes = {c for (c,) in con.execute("SELECT code FROM metrics").fetchall()}
        if codes and change.metric not in codes:
            raise CorrectionError(f"unknown metric code {change.metric!r}")


def _current(con: duckdb.DuckDBPyConnection, fid: str) -> tuple | None:
    return con.execute(
        """SELECT new_value, rejected, note, new_metric, new_kind, new_scope, coalesce(confirmed, false)
           FROM corrections_current WHERE fact_id = ?""", [fid]
    ).fetchone()


def record_correction(
    con: duckdb.DuckDBPyConnection,
    key: FactKey,
    value: float | None,
    reject: bool,
    note: str,
    who: str,
    source: str = "cli",
    at: datetime | None = None,
    change: Change | None = None,
    action_id: str | None = None,
) -> bool:
    """Append a correction; False (nothing written) when it repeats the one in force, or when
    the queued action `action_id` was recorded already.

    value=None with reject=False (and no other change) reverts the fact to its extracted value.
    `change` carries a new metric, kind or scope, or a confirmation (review page).
    """
    change = change or Change(value=value, reject=reject)
    change = Change(value if value is not None else change.value, change.metric, change.kind, change.scope,
                    bool(reject) or change.reject, change.confirm)
    _check_value(change.value, change.reject)
    if action_id is not None and con.execute(
        "SELECT 1 FROM corrections WHERE action_id = ?", [action_id]
    ).fetchone():
        return False
    wanted = (change.value, change.reject, note, change.metric, change.kind, change.scope, change.confirm)
    if _current(con, key.fact_id) == wanted:
        return False
    con.execute(
        """INSERT INTO corrections (fact_id, doc_sha256, metric, kind, char_start, new_value, rejected,
                                    note, who, "at", source, new_metric, new_kind, new_scope, confirmed,
                                    action_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            key.fact_id, key.doc_sha256, key.metric, key.kind, key.char_start, change.value, change.reject,
            note, who, at or datetime.now(), source, change.metric, change.kind, change.scope, change.confirm,
            action_id,
        ],
    )
    return True


def correct_fact(
    warehouse: Path, fact_id: str, value: float | None, reject: bool, note: str, who: str,
    on_wait: Callable[[str], None] | None = None,
) -> None:
    """Correct (value) or reject one current fact, identified by its fact_id. While a run holds
    the writer lock this waits for it, after saying who holds it through `on_wait`."""
    if not note or not note.strip():
        raise CorrectionError("a note saying why is required")
    with _writable(warehouse, on_wait=on_wait) as con:
        key = lookup_fact(con, fact_id)
        record_correction(con, key, value, reject, note.strip(), who or default_who())


def default_who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _parse_bool(raw: str, where: str) -> bool:
    text = (raw or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CorrectionError(f"{where}: reject must be true/false, got {raw!r}")


def parse_value(raw: str, where: str) -> float | None:
    text = (raw or "").strip()
    if not text:
        return None
    text = text.replace(" ", "").replace("\u00a0", "")
    # Vietnamese style first: "5.679" is five thousand six hundred seventy-nine and "80,05"
    # is a decimal; a lone dot followed by other than three digits is a decimal point.
    if _VN_GROUPED.match(text):
        text = text.replace(".", "").replace(",", ".")
    elif "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        raise CorrectionError(f"{where}: value must be a number, got {raw!r}") from None


def read_corrections_csv(csv_path: Path) -> list[dict]:
    """Rows of a corrections CSV, validated; raises CorrectionError naming the bad line."""
    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        # Excel in a Vietnamese (or any comma-decimal) locale saves CSV with ';' between fields.
        header_line = fh.readline()
        fh.seek(0)
        delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
        reader = csv.DictReader(fh, delimiter=delimiter)
        header = {h.strip() for h in reader.fieldnames or []}
        if "fact_id" not in header and not set(CSV_KEY_COLUMNS) <= header:
            raise CorrectionError(
                f"{csv_path}: needs a fact_id column (or {', '.join(CSV_KEY_COLUMNS)}); got {sorted(header)}"
            )
        rows = []
        for line_no, raw in enumerate(reader, start=2):
            row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
            if not any(row.values()):
                continue
            where = f"{csv_path.name} line {line_no}"
            value = parse_value(row.get("value", ""), where)
            reject = _parse_bool(row.get("reject", ""), where)
            _check_value(value, reject)
            if value is None and not reject:
                raise CorrectionError(f"{where}: give a value or reject=true")
            key = None
            if all(row.get(c) for c in CSV_KEY_COLUMNS):
                try:
                    start = int(row["char_start"])
                except ValueError:
                    raise CorrectionError(f"{where}: char_start must be an integer") from None
                key = FactKey(row["doc_sha256"], row["metric"], row["kind"], start)
            elif not row.get("fact_id"):
                raise CorrectionError(f"{where}: fact_id is empty")
            rows.append(
                {
                    "where": where,
                    "fact_id": row.get("fact_id", "").lower(),
                    "key": key,
                    "value": value,
                    "reject": reject,
                    "note": row.get("note", ""),
                    "who": row.get("who", ""),
                }
            )
    return rows


def apply_corrections(con: duckdb.DuckDBPyConnection, csv_path: Path) -> int:
    """Record the CSV's corrections on an open connection; returns how many were new."""
    rows = read_corrections_csv(csv_path)
    applied = 0
    for row in rows:
        key = row["key"]
        if key is None:
            try:
                key = lookup_fact(con, row["fact_id"])
            except CorrectionError:
                # The document may not be loaded yet (or was replaced): keep going, say so.
                log.warning("%s: no current fact %s; row skipped", row["where"], row["fact_id"])
                continue
        elif row["fact_id"] and row["fact_id"] != key.fact_id:
            raise CorrectionError(f"{row['where']}: fact_id does not match doc_sha256/metric/kind/char_start")
        who = row["who"] or f"csv:{csv_path.name}"
        if record_correction(con, key, row["value"], row["reject"], row["note"], who, source=csv_path.name):
            applied += 1
    return applied


def apply_corrections_csv(warehouse: Path, csv_path: Path, lock_timeout: float | None = None,
                          on_wait: Callable[[str], None] | None = None) -> int:
    """Apply a corrections CSV (columns fact_id,value,reject,note,who) to the warehouse."""
    with _writable(warehouse, lock_timeout, on_wait) as con:
        return apply_corrections(con, Path(csv_path))


def apply_default_corrections(con: duckdb.DuckDBPyConnection, csv_path: Path | None = None) -> int:
    """Apply data/corrections.csv (or csv_path) if it exists; used after each ingest run.

    A malformed file is logged, not raised: the documents just loaded must stay loaded.
    """
    path = Path(csv_path or DEFAULT_CORRECTIONS_CSV)
    if not path.is_file():
        return 0
    try:
        return apply_corrections(con, path)
    except (CorrectionError, OSError, csv.Error) as exc:
        log.warning("corrections not applied: %s", exc)
        return 0
