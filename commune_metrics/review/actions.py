"""Confirm / correct / reject from the review page: validated here, queued durably
(warehouse/pending.py), then applied through the writer lock when it can be had within a
moment. While a run holds the lock the action stays queued and the run applies it after its
current batch; the page says so instead of hanging.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from commune_metrics.warehouse import WarehouseBusyError, connect_readonly, open_warehouse
from commune_metrics.warehouse.corrections import KINDS, SCOPES, CorrectionError, parse_value
from commune_metrics.warehouse.lock import WriterLock
from commune_metrics.warehouse.pending import ACTIONS, ReviewAction, enqueue, pending_dir

LOCK_WAIT_SECONDS = 3.0


class ActionError(ValueError):
    """A request the page should not have sent (bad value, unknown metric...)."""


@dataclass(frozen=True)
class Outcome:
    status: str  # saved / queued
    message: str


def parse_action(payload: dict, who: str, metric_codes: set[str]) -> ReviewAction:
    """A ReviewAction from the page's JSON, or ActionError naming what is wrong."""
    action = str(payload.get("action") or "")
    if action not in ACTIONS:
        raise ActionError(f"action must be one of {', '.join(ACTIONS)}")
    fact_id = str(payload.get("fact_id") or "").strip().lower()
    if not fact_id or not all(c in "0123456789abcdef" for c in fact_id) or len(fact_id) > 64:
        raise ActionError("fact_id is missing or malformed")
    why = str(payload.get("why") or "").strip()
    if action in ("correct", "reject") and not why:
        raise ActionError("hãy ghi lý do (why is required)")
    changes: dict[str, object] = {}
    if action == "correct":
        raw = payload.get("value")
        if raw not in (None, ""):
            try:
                value = parse_value(str(raw), "value")
            except CorrectionError as exc:
                raise ActionError(str(exc)) from None
            if value is None or not math.isfinite(value):
                raise ActionError("value must be a finite number")
            changes["value"] = value
        for name, allowed in (("metric", metric_codes), ("kind", set(KINDS)), ("scope", set(SCOPES))):
            given = payload.get(name)
            if given in (None, ""):
                continue
            if str(given) not in allowed:
                raise ActionError(f"unknown {name} {given!r}")
            changes[name] = str(given)
        if not changes:
            raise ActionError("nothing to correct: give a value, metric, kind or scope")
    return ReviewAction.new(fact_id, action, who, why, **changes)


def submit(warehouse: Path, action: ReviewAction) -> Outcome:
    """Queue the action, then apply the queue under the writer lock if it is free soon."""
    enqueue(warehouse, action)
    try:
        # open_warehouse applies the pending queue and publishes the snapshot on its way out.
        with open_warehouse(warehouse, lock_timeout=LOCK_WAIT_SECONDS):
            pass
    except WarehouseBusyError:
        holder = WriterLock(Path(warehouse)).holder()
        return Outcome("queued", f"Đã ghi nhận; một lượt nạp đang chạy ({holder}), thay đổi sẽ hiện "
                                 "khi lượt đó xong lô hiện tại.")
    if any(p.stem.endswith(action.action_id) for p in pending_dir(warehouse).glob("*.json")):
        return Outcome("queued", "Đã ghi nhận, chưa áp dụng được; sẽ thử lại ở lần ghi sau.")
    con = connect_readonly(warehouse)
    try:
        recorded = con.execute("SELECT 1 FROM corrections WHERE action_id = ?", [action.action_id]).fetchone()
        repeated = con.execute("SELECT 1 FROM facts_corrected WHERE fact_id = ?", [action.fact_id]).fetchone()
    finally:
        con.close()
    if recorded is None and repeated is None:
        # apply_pending dropped it: the fact is no longer current (its document was replaced).
        raise ActionError("số liệu này không còn trong phiên bản hiện tại của văn bản; hãy tải lại trang")
    return Outcome("saved", "Đã lưu." if recorded else "Không có gì thay đổi.")
