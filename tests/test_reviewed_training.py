"""Analysts' reviews feed the verifier: `export-labels --docs` writes the reviewed documents' texts
beside their labels, and `make train` (tools/train_verifier.py) learns from such a folder, only
from the figures an analyst judged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from commune_metrics.review import actions
from commune_metrics.review.labels import export_labels
from commune_metrics.warehouse import connect_readonly
from tests.test_analysis_views import query

# Our own wording: a commune report with three figures the rules read.
REPORT = (
    "UBND XÃ TÂN LẬP\nBÁO CÁO\nKết quả giải quyết thủ tục hành chính tháng 7 năm 2025\n"
    "Trong tháng, Bộ phận một cửa xã tiếp nhận 320 hồ sơ, đã giải quyết 300 hồ sơ.\n"
    "Xã hiện có 40 máy tính.\n"
)


@pytest.fixture()
def reviewed(tmp_path: Path) -> tuple[Path, Path]:
    """A warehouse with the report loaded, its receipts confirmed and its resolved count
    rejected; the computers are left unjudged."""
    inbox, warehouse = tmp_path / "inbox", tmp_path / "w.duckdb"
    inbox.mkdir()
    (inbox / "bc_tan_lap.txt").write_text(REPORT, encoding="utf-8")
    subprocess.run([sys.executable, "-m", "commune_metrics", "ingest", str(inbox), "--warehouse",
                    str(warehouse), "--archive", str(tmp_path / "raw")], check=True, capture_output=True,
                   timeout=300, env={**os.environ, "CM_SETTLE_SECONDS": "0"})
    ids = dict(query(warehouse, "SELECT original_metric, fact_id FROM facts"))
    assert {"dossiers.received", "dossiers.resolved", "computers.total"} <= set(ids), ids
    codes = set(ids)
    for payload in ({"fact_id": ids["dossiers.received"], "action": "confirm"},
                    {"fact_id": ids["dossiers.resolved"], "action": "reject", "why": "sai"}):
        actions.submit(warehouse, actions.parse_action(payload, "Lan", codes))
    return warehouse, tmp_path / "export"


def _export(warehouse: Path, folder: Path, docs: bool = True):
    con = connect_readonly(warehouse)
    try:
        return export_labels(con, folder / "gold.jsonl", folder / "rejected.jsonl",
                             folder / "docs" if docs else None)
    finally:
        con.close()


def test_export_with_docs_writes_each_text_under_the_name_its_lines_use(reviewed) -> None:
    warehouse, folder = reviewed
    summary = _export(warehouse, folder)
    assert (summary.documents, summary.facts, summary.negatives, summary.texts) == (1, 1, 1, 1)
    lines = [json.loads(x) for x in (folder / "gold.jsonl").read_text(encoding="utf-8").splitlines()]
    meta = lines[0]["doc_meta"]
    (text_file,) = (folder / "docs").iterdir()
    assert meta["doc"] == text_file.name and meta["text"] is True and meta["complete"] is False
    assert text_file.name.startswith("bc_tan_lap-") and text_file.suffix == ".txt"
    assert "tiếp nhận 320 hồ sơ" in text_file.read_text(encoding="utf-8")
    assert {x["doc"] for x in lines[1:]} == {text_file.name}
    rejected = (folder / "rejected.jsonl").read_text(encoding="utf-8").splitlines()
    (negative,) = [json.loads(x) for x in rejected]
    assert negative["doc"] == text_file.name and negative["metric"] == "dossiers.resolved"


def test_export_without_docs_keeps_the_source_name(reviewed) -> None:
    warehouse, folder = reviewed
    summary = _export(warehouse, folder, docs=False)
    meta = json.loads((folder / "gold.jsonl").read_text(encoding="utf-8").splitlines()[0])["doc_meta"]
    assert summary.texts == 0 and meta["doc"] == "bc_tan_lap.txt" and "text" not in meta
    assert not (folder / "docs").exists()


def test_training_learns_only_what_an_analyst_judged(reviewed) -> None:
    from tools.train_verifier import _reviewed

    warehouse, folder = reviewed
    _export(warehouse, folder)
    cands = _reviewed(folder, 15.0)
    judged = {c.key[0]: c.y for c in cands}
    # confirmed: right; rejected: wrong; the computers nobody judged are not taken as wrong
    assert judged == {"dossiers.received": 1, "dossiers.resolved": 0}
    assert all(c.weight == 15.0 and c.group.startswith("reviewed:export/") for c in cands)


def test_a_document_without_its_text_is_skipped(reviewed) -> None:
    from tools.train_verifier import _reviewed

    warehouse, folder = reviewed
    _export(warehouse, folder)
    for f in (folder / "docs").iterdir():
        f.unlink()
    assert _reviewed(folder, 15.0) == []


def test_the_command_writes_the_texts_and_says_so(reviewed) -> None:
    warehouse, folder = reviewed
    done = subprocess.run([sys.executable, "-m", "commune_metrics", "export-labels", "--warehouse",
                           str(warehouse), "--out", str(folder / "gold.jsonl"), "--negatives",
                           str(folder / "rejected.jsonl"), "--docs", str(folder / "docs")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "1 text to" in " ".join(done.stdout.split()) and len(list((folder / "docs").iterdir())) == 1


def test_make_train_takes_an_export_folder(reviewed, tmp_path: Path) -> None:
    """`make train REVIEWED=DIR` (tools.train_verifier --reviewed DIR): the judged candidates are
    trained on and counted in the model's training block; the shipped model has none."""
    warehouse, folder = reviewed
    _export(warehouse, folder)
    out = tmp_path / "verifier.json"
    done = subprocess.run([sys.executable, "-m", "tools.train_verifier", "--out", str(out), "--per-set", "5",
                           "--reviewed", str(folder)], capture_output=True, text=True, timeout=900,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "reviewed by analysts: 2 judged candidates from 1 export(s)" in done.stdout
    assert json.loads(out.read_text(encoding="utf-8"))["training"]["reviewed_candidates"] == 2
    from commune_metrics.extract.verifier import MODEL_PATH

    assert "reviewed_candidates" not in json.loads(MODEL_PATH.read_text(encoding="utf-8"))["training"]
