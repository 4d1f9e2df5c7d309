"""Review actions waiting for the writer lock.

The review page must never lose an analyst's click, and must not hang while a nightly run
holds the writer lock for minutes. So every action is first written as one small JSON file
in `<warehouse>.pending/` (temporary name, then rename: a reader never sees half a file), and
whoever holds the writer lock next applies the queue: the review page itself when the lock is
free, or the running ingest after its current batch (Warehouse.publish). Each action carries
an id recorded with the correction, so a queue applied twice (a crash between commit and
delete) records each action once.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:  # corrections imports the warehouse lazily; no import cycle at run time
    from commune_metrics.warehouse.corrections import Change

log = logging.getLogger(__name__)

ACTIONS = ("confirm", "correct", "reject", "revert")


@dataclass(frozen=True)
class ReviewAction:
    fact_id: str
    action: str  # confirm / correct / reject / revert
    who: str
    why: str
    at: str  # ISO time of the click, not of when the queue is applied
    value: float | None = None
    metric: str | None = None
    kind: str | None = None
    scope: str | None = None
    action_id: str = ""

    @classmethod
    def new(cls, fact_id: str, action: str, who: str, why: str, **changes: object) -> ReviewAction:
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}, got {action!r}")
        return cls(fact_id=fact_id.strip().lower(), action=action, who=who, why=why,
                   at=datetime.now().isoformat(timespec="microseconds"),
                   action_id=secrets.token_hex(8), **changes)  # type: ignore[arg-type]


def pending_dir(db_path: Path) -> Path:
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".pending")


def enqueue(db_path: Path, action: ReviewAction) -> Path:
    folder = pending_dir(db_path)
    folder.mkdir(parents=True, exist_ok=True)
    # Names sort in click order; the id keeps two clicks in the same microsecond apart.
    name = f"{action.at.replace(':', '').replace('-', '')}-{action.action_id}.json"
    tmp = folder / f".{name}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(asdict(action), fh, ensure_ascii=False)
        fh.flush()
        os.fsync(fh.fileno())
    final = folder / name
    os.replace(tmp, final)
    return final


def queued(db_path: Path) -> list[Path]:
    folder = pending_dir(db_path)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.json") if not p.name.startswith("."))


def apply_pending(con: duckdb.DuckDBPyConnection, db_path: Path) -> int:
    """Record every queued action (caller holds the writer lock); returns how many were new.
    An action that cannot apply (its fact was replaced by a new version of the document) is
    logged and dropped: the page showed the analyst the fact at the time."""
    from commune_metrics.warehouse.corrections import CorrectionError, lookup_fact, record_correction

    applied = 0
    for path in queued(db_path):
        try:
            action = ReviewAction(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            log.warning("%s: unreadable queued review action, dropped (%s)", path.name, exc)
            path.unlink(missing_ok=True)
            continue
        con.begin()
        try:
            key = lookup_fact(con, action.fact_id)
            change = _change(con, action, key.fact_id)
            if record_correction(con, key, change.value, change.reject, action.why, action.who,
                                 source="review", at=datetime.fromisoformat(action.at), change=change,
                                 action_id=action.action_id):
                applied += 1
            con.commit()
        except CorrectionError as exc:
            con.rollback()
            log.warning("review action on %s not applied: %s", action.fact_id, exc)
        except BaseException:
            con.rollback()
            raise  # the file stays queued for the next writer
        path.unlink(missing_ok=True)
    return applied


def _change(con: duckdb.DuckDBPyConnection, action: ReviewAction, fact_id: str) -> Change:
    from commune_metrics.warehouse.corrections import Change, check_change

    if action.action == "reject":
        change = Change(reject=True)
    elif action.action == "correct":
        change = Change(action.value, action.metric, action.kind, action.scope)
    elif action.action == "confirm":
        # Confirming keeps a correction in force (the analyst confirms what the page shows);
        # confirming a rejected fact takes the rejection back.
        row = con.execute(
            """SELECT new_value, new_metric, new_kind, new_scope, rejected FROM corrections_current
               WHERE fact_id = ?""", [fact_id]
        ).fetchone()
        if row and not row[4]:
            change = Change(row[0], row[1], row[2], row[3], confirm=True)
        else:
            change = Change(confirm=True)
    else:  # revert: back to what the extractor read, unreviewed
        change = Change()
    check_change(con, change)
    return change
