"""`eval` through the warehouse: ingest a copy of the seeds, score the views analysts read
(`facts` with scope self, `documents`), and get what the extractor gives in memory."""

from __future__ import annotations

from pathlib import Path

from commune_metrics.evaluate import evaluate, ingest_copy


def test_seeds_score_the_same_through_the_warehouse(tmp_path: Path, seeds_dir: Path, gold_file: Path) -> None:
    in_memory = evaluate(gold_file, seeds_dir)
    warehouse = ingest_copy(seeds_dir, tmp_path)
    through = evaluate(gold_file, warehouse=warehouse)
    assert through["errors"] == [], through["errors"]
    assert through["overall"] == in_memory["overall"]
    assert through["overall"]["f1"] >= 0.97
    for name, field in through["metadata"].items():
        assert field["accuracy"] == 1.0, (name, field["wrong"])
    assert len(list(seeds_dir.glob("*.txt"))) == 5, "the seeds themselves are never moved"
