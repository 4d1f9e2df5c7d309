"""tools/agreement.py: one labeller's facts scored against another's by eval's rules."""

from __future__ import annotations

import json
from pathlib import Path

from commune_metrics.evaluate import score
from tools.agreement import _load, as_predictions, with_reading_twins

TEXT = ("Trong tháng, xã tiếp nhận 120 hồ sơ, giải quyết đúng hạn 110 hồ sơ.\n"
        "Tỷ lệ hồ sơ trực tuyến đạt 85%.\n")


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _fact(metric: str, value: float, optional: bool = False, evidence: str = "tiếp nhận 120") -> dict:
    return {"doc": "x.txt", "metric": metric, "kind": "actual", "value": value, "unit": "count",
            "optional": optional, "evidence": evidence}


META = {"doc_meta": {"doc": "x.txt", "level": "commune", "kind": "report"}}


def test_agreement_counts_as_eval_does(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text(TEXT, encoding="utf-8")
    a = _write(tmp_path / "a.jsonl", [META, _fact("dossiers.received", 120),
                                      _fact("dossiers.online_pct", 85, evidence="đạt 85%")])
    # B misses the share, reads the received count, and adds one A does not have
    b = _write(tmp_path / "b.jsonl", [META, _fact("dossiers.received", 120),
                                      _fact("dossiers.resolved", 120, optional=True)])
    gold_a, gold_b = _load(a, tmp_path), _load(b, tmp_path)
    required = score(gold_a, as_predictions(gold_b, True), {})["overall"]
    assert (required["tp"], required["fp"], required["fn"]) == (1, 0, 1)
    everything = score(gold_a, as_predictions(gold_b, False), {})["overall"]
    assert (everything["tp"], everything["fp"], everything["fn"]) == (1, 1, 1)
    same = score(gold_a, as_predictions(gold_a, True), {})["overall"]
    assert same["precision"] == same["recall"] == 1.0


def test_on_time_alone_gains_its_other_reading(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text(TEXT, encoding="utf-8")
    rows = [_fact("dossiers.resolved_on_time", 110, evidence="giải quyết đúng hạn 110 hồ sơ")]
    twins = with_reading_twins(rows, tmp_path)
    assert [(r["metric"], r["optional"]) for r in twins] == [
        ("dossiers.resolved_on_time", False), ("dossiers.resolved_in_time", True)]
    (tmp_path / "x.txt").write_text("Giải quyết trước hạn 10, đúng hạn 110 hồ sơ.\n", encoding="utf-8")
    rows = [_fact("dossiers.resolved_on_time", 110, evidence="đúng hạn 110 hồ sơ")]
    assert with_reading_twins(rows, tmp_path) == rows  # an early figure: one reading
