"""Review actions without a browser: the queue while a run holds the writer lock, every kind
of change, escaping of hostile document text in the pages, gold export."""

from __future__ import annotations

import json
import threading
import urllib.request
from datetime import date
from pathlib import Path

import pytest

from commune_metrics.review import actions, pages
from commune_metrics.review.labels import export_labels
from commune_metrics.review.server import ReviewApp, serve
from commune_metrics.warehouse import connect_readonly, open_warehouse
from commune_metrics.warehouse.lock import WriterLock
from commune_metrics.warehouse.pending import ReviewAction, enqueue, queued
from tests.test_analysis_views import Doc, load_docs, query, report

EVIL = '<script>alert("x")</script>'


@pytest.fixture()
def wh(tmp_path: Path) -> tuple[Path, Doc]:
    warehouse = tmp_path / "w.duckdb"
    doc = report("Minh Long", 21361, start=date(2025, 7, 1), end=date(2025, 7, 31))
    doc.add("computers.total", 40).add("computers.antivirus", 17).add("staff.present", 24)
    load_docs(warehouse, [doc])
    return warehouse, doc


def fid_of(warehouse: Path, metric: str) -> str:
    return query(warehouse, "SELECT fact_id FROM facts WHERE original_metric = ?", [metric])[0][0]


CODES = {"computers.total", "computers.antivirus", "computers.antivirus_pct", "staff.present", "staff.quota"}


def test_a_correction_waits_in_the_queue_while_a_run_holds_the_lock(wh, monkeypatch) -> None:
    warehouse, _ = wh
    monkeypatch.setattr(actions, "LOCK_WAIT_SECONDS", 0.3)
    fid = fid_of(warehouse, "computers.antivirus")
    run = WriterLock(warehouse)
    run.acquire(1)
    try:
        outcome = actions.submit(warehouse, actions.parse_action(
            {"fact_id": fid, "action": "correct", "value": "18", "why": "sổ thiết bị"}, "Lan", CODES))
        assert outcome.status == "queued" and f"pid {__import__('os').getpid()}" in outcome.message
        assert len(queued(warehouse)) == 1
        assert query(warehouse, "SELECT value FROM facts WHERE fact_id = ?", [fid]) == [(17.0,)]
    finally:
        run.release()
    # The next writer (here an empty open, in practice the run's next batch) applies it.
    with open_warehouse(warehouse):
        pass
    assert queued(warehouse) == []
    sql = "SELECT value, corrected_by, corrected_why FROM facts WHERE fact_id = ?"
    assert query(warehouse, sql, [fid]) == [(18.0, "Lan", "sổ thiết bị")]
    assert query(warehouse, "SELECT antivirus_coverage FROM comparison") == [(45.0,)]


def test_a_queued_action_is_recorded_once_even_if_applied_twice(wh) -> None:
    warehouse, _ = wh
    action = ReviewAction.new(fid_of(warehouse, "staff.present"), "reject", "Lan", "trùng")
    path = enqueue(warehouse, action)
    saved = path.read_bytes()
    with open_warehouse(warehouse):
        pass
    path.write_bytes(saved)  # as if the process died between commit and delete
    with open_warehouse(warehouse):
        pass
    assert query(warehouse, "SELECT count(*) FROM corrections") == [(1,)]


def test_metric_kind_and_scope_corrections_and_confirm(wh) -> None:
    warehouse, _ = wh
    total = fid_of(warehouse, "computers.total")
    staff = fid_of(warehouse, "staff.present")
    for payload in (
        {"fact_id": total, "action": "correct", "scope": "sub_unit", "why": "máy của thôn"},
        {"fact_id": staff, "action": "correct", "metric": "staff.quota", "kind": "target",
         "why": "là biên chế"},
    ):
        assert actions.submit(warehouse, actions.parse_action(payload, "Lan", CODES)).status == "saved"
    rows = dict((r[0], r[1:]) for r in query(
        warehouse, "SELECT original_metric, metric, kind, scope, corrected FROM facts"))
    assert rows["computers.total"] == ("computers.total", "actual", "sub_unit", True)
    # the extractor gives every fact a scope now (issue 12): the original one shows
    assert rows["staff.present"] == ("staff.quota", "target", "self", True)
    # A sub-unit's computers and a target are not the commune's actual figures: no coverage.
    assert query(warehouse, "SELECT antivirus_coverage, computers_total, staff_present FROM comparison") == [
        (None, None, None)]
    # confirming keeps the correction in force and marks it reviewed
    actions.submit(warehouse, actions.parse_action({"fact_id": staff, "action": "confirm"}, "Lan", CODES))
    assert query(warehouse, "SELECT metric, kind, review_status FROM facts WHERE fact_id = ?", [staff]) == [
        ("staff.quota", "target", "corrected")]
    # revert: back to what was read
    actions.submit(warehouse, actions.parse_action({"fact_id": staff, "action": "revert"}, "Lan", CODES))
    assert query(warehouse, "SELECT metric, kind, review_status FROM facts WHERE fact_id = ?", [staff]) == [
        ("staff.present", "actual", None)]


@pytest.mark.parametrize("payload, message", [
    ({"action": "delete"}, "action must be"),
    ({"action": "reject"}, "fact_id"),
    ({"action": "reject", "fact_id": "abc"}, "why"),
    ({"action": "correct", "fact_id": "abc", "why": "x"}, "nothing to correct"),
    ({"action": "correct", "fact_id": "abc", "why": "x", "metric": "drop table"}, "unknown metric"),
    ({"action": "correct", "fact_id": "abc", "why": "x", "scope": "everywhere"}, "unknown scope"),
    ({"action": "correct", "fact_id": "abc", "why": "x", "value": "nan"}, "finite"),
    ({"action": "reject", "fact_id": "<script>", "why": "x"}, "malformed"),
])
def test_bad_actions_are_refused_with_a_reason(payload: dict, message: str) -> None:
    with pytest.raises(actions.ActionError, match=message):
        actions.parse_action(payload, "Lan", CODES)


def test_hostile_document_text_is_escaped_everywhere(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    evil = report(EVIL, None, name="<img src=x onerror=alert(1)>.txt", start=date(2025, 7, 1),
                  end=date(2025, 7, 31))
    evil.add("dossiers.received", 10, evidence=f"Tiếp nhận 10 hồ sơ {EVIL}")
    load_docs(warehouse, [evil])
    stop = threading.Event()
    app = ReviewApp(warehouse=warehouse, who='"><b>me</b>')
    ready = threading.Event()
    urls: list[str] = []
    thread = threading.Thread(target=serve, args=(app, lambda u: (urls.append(u), ready.set()), stop))
    thread.start()
    try:
        assert ready.wait(30)
        con = connect_readonly(warehouse)
        sha, key = con.execute("SELECT doc_sha256, commune_key FROM facts_corrected").fetchone()
        con.close()
        bodies = []
        for path in ("", "commune?key=" + urllib.request.quote(key, safe=""), f"doc/{sha}", "queue", "flags"):
            with urllib.request.urlopen(urls[0] + path, timeout=30) as resp:
                bodies.append(resp.read().decode("utf-8"))
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()
    for body in bodies:
        assert "<script>alert" not in body and "<img src=x" not in body and "<b>me</b>" not in body
        assert len([m for m in body.split("<script")]) == 2  # only the app's own script tag
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in bodies[2]  # shown, as text


def test_marked_text_covers_each_span_and_keeps_the_text() -> None:
    text = "Câu một có 40 máy. Câu hai <b> có 17 máy."
    facts = [{"fact_id": "a1", "char_start": 0, "char_end": 18},
             {"fact_id": "b2", "char_start": 11, "char_end": 40},
             {"fact_id": "bad", "char_start": 30, "char_end": 999}]
    html = pages.marked_text(text, facts, None)
    assert '<mark class="ev" data-facts="a1">Câu một có </mark>' in html
    assert '<mark class="ev" data-facts="a1 b2">40 máy.</mark>' in html
    assert "&lt;b&gt;" in html and "<b>" not in html
    stripped = html
    for tag in ('<mark class="ev" data-facts="a1">', '<mark class="ev" data-facts="a1 b2">',
                '<mark class="ev" data-facts="b2">', "</mark>"):
        stripped = stripped.replace(tag, "")
    assert stripped.replace("&lt;", "<").replace("&gt;", ">") == text


def test_export_labels_writes_reviewed_facts_in_the_gold_format(wh, tmp_path: Path) -> None:
    warehouse, doc = wh
    for payload in (
        {"fact_id": fid_of(warehouse, "computers.total"), "action": "confirm"},
        {"fact_id": fid_of(warehouse, "computers.antivirus"), "action": "correct", "value": "18",
         "why": "sổ"},
        {"fact_id": fid_of(warehouse, "staff.present"), "action": "reject", "why": "sai"},
    ):
        actions.submit(warehouse, actions.parse_action(payload, "Lan", CODES))
    out, negatives = tmp_path / "gold.jsonl", tmp_path / "neg.jsonl"
    con = connect_readonly(warehouse)
    try:
        summary = export_labels(con, out, negatives)
    finally:
        con.close()
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert (summary.documents, summary.facts, summary.negatives) == (1, 2, 1)
    meta = lines[0]["doc_meta"]
    assert meta["doc"] == doc.name and meta["ward_code"] == 21361 and meta["complete"] is True
    facts = {f["metric"]: f for f in lines[1:]}
    assert facts["computers.antivirus"]["value"] == 18 and facts["computers.total"]["value"] == 40
    assert set(facts["computers.total"]) >= {"doc", "metric", "kind", "value", "unit", "optional", "evidence"}
    (neg,) = [json.loads(x) for x in negatives.read_text(encoding="utf-8").splitlines()]
    assert neg["metric"] == "staff.present" and neg["why"] == "sai" and neg["value"] == 24


def test_a_document_loaded_before_texts_were_stored_is_read_again_from_its_file(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.test_concurrency import make_reports

    make_reports(tmp_path / "inbox", range(1))
    warehouse = tmp_path / "w.duckdb"
    subprocess.run([sys.executable, "-m", "commune_metrics", "ingest", str(tmp_path / "inbox"), "--warehouse",
                    str(warehouse), "--archive", str(tmp_path / "raw")], check=True, capture_output=True,
                   timeout=300, env={**os.environ, "CM_SETTLE_SECONDS": "0"})
    with open_warehouse(warehouse) as w:  # as a warehouse of the previous version has it
        w.con.execute("DELETE FROM document_texts")
    (sha,) = query(warehouse, "SELECT doc_sha256 FROM documents")[0]
    stop, ready, urls = threading.Event(), threading.Event(), []
    app = ReviewApp(warehouse=warehouse, who="Lan")
    thread = threading.Thread(target=serve, args=(app, lambda u: (urls.append(u), ready.set()), stop))
    thread.start()
    try:
        assert ready.wait(30)
        with urllib.request.urlopen(f"{urls[0]}doc/{sha}", timeout=60) as resp:
            body = resp.read().decode("utf-8")
    finally:
        stop.set()
        thread.join(30)
    assert '<mark class="ev"' in body and "tiếp nhận 100 hồ sơ" in body
