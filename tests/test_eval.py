"""The eval scorer: matching rules on hand-made gold, and the accuracy bar on the real seeds."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from commune_metrics.evaluate import Gold, GoldFact, Prediction, evaluate, load_gold, run_eval, score


def _gold() -> Gold:
    return Gold(
        facts=[
            GoldFact("a.txt", "dossiers.received", "actual", 5676, False),
            GoldFact("a.txt", "dossiers.resolved", "actual", 5260, False),
            GoldFact("a.txt", "staff.awareness_pct", "actual", 100, True),
        ],
        meta={"a.txt": {"doc": "a.txt", "doc_type": "report", "commune": "Vạn Tường",
                        "period_start": "2025-07-01", "signer": None}},
    )


def _pred(metric: str, value: float, kind: str = "actual") -> Prediction:
    return Prediction("a.txt", metric, kind, value, "câu", "rule")


def test_matching_key_tolerance_and_optional() -> None:
    preds = {"a.txt": [
        _pred("dossiers.received", 5676.004),  # within 0.01
        _pred("dossiers.received", 5676.0),  # the same fact twice counts once
        _pred("staff.awareness_pct", 100),  # matches an optional gold fact: not a false hit
        _pred("dossiers.resolved", 5260, kind="target"),  # wrong kind: false hit, and a miss
    ]}
    meta = {"a.txt": {"doc_type": "report", "commune": "vạn tường", "period_start": date(2025, 7, 1),
                      "signer": None}}
    report = score(_gold(), preds, meta)
    o = report["overall"]
    assert (o["tp"], o["fp"], o["fn"]) == (1, 1, 1)
    assert o["precision"] == 0.5 and o["recall"] == 0.5
    assert [m["metric"] for m in report["misses"]] == ["dossiers.resolved"]
    assert [(f["metric"], f["kind"]) for f in report["false_hits"]] == [("dossiers.resolved", "target")]
    assert report["per_metric"]["dossiers.received"]["f1"] == 1.0
    assert report["metadata"]["commune"]["accuracy"] == 1.0
    assert report["metadata"]["period_start"]["accuracy"] == 1.0
    assert report["metadata"]["signer"]["accuracy"] == 1.0


def test_missed_optional_is_not_a_miss() -> None:
    preds = {"a.txt": [_pred("dossiers.received", 5676), _pred("dossiers.resolved", 5260)]}
    report = score(_gold(), preds, {})
    assert report["overall"]["f1"] == 1.0
    assert report["metadata"]["doc_type"]["accuracy"] == 0.0


def test_run_eval_json_and_exit_codes(tmp_path: Path, capsys) -> None:
    (tmp_path / "r.txt").write_text(
        "BÁO CÁO\nKết quả thực hiện\nTổng số hồ sơ tiếp nhận là 5.676 hồ sơ; trong đó, tiếp nhận trực tuyến "
        "là 5.297 hồ sơ.\n", encoding="utf-8")
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"doc_meta": {"doc": "r.txt", "doc_type": "report"}},
        {"doc": "r.txt", "metric": "dossiers.received", "kind": "actual", "value": 5676, "optional": False},
        {"doc": "r.txt", "metric": "dossiers.received_online", "kind": "actual", "value": 5297},
    ]), encoding="utf-8")
    assert run_eval(gold, tmp_path, as_json=True) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["overall"]["f1"] == 1.0 and report["metadata"]["doc_type"]["accuracy"] == 1.0
    assert run_eval(tmp_path / "none.jsonl", tmp_path) == 2
    assert run_eval(gold, tmp_path / "nowhere") == 2


def test_seed_documents_meet_the_bar(seeds_dir: Path, gold_file: Path) -> None:
    report = evaluate(gold_file, seeds_dir)
    overall = report["overall"]
    assert not report["errors"]
    assert overall["recall"] >= 0.95, report["misses"]
    assert overall["f1"] >= 0.95, (report["misses"], report["false_hits"])
    assert len(load_gold(gold_file).docs) == report["documents"] == 5
