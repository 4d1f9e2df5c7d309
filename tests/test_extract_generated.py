"""Generalization: score extraction on documents written with the HELD-OUT phrase set of the
sample generator (phrasings the rules were not developed on)."""

from __future__ import annotations

from pathlib import Path

import pytest

from commune_metrics.evaluate import evaluate

generator = pytest.importorskip(
    "tools.samples.generator", reason="the sample generator (tools.samples) is not importable"
)


def test_heldout_generated_reports(tmp_path: Path) -> None:
    gold = generator.generate_corpus(tmp_path, n=40, seed=20251, phrases="heldout", formats=("txt",))
    report = evaluate(gold, tmp_path)
    assert not report["errors"]
    assert report["documents"] == 40
    assert report["overall"]["f1"] >= 0.97, report["overall"]


def test_dev_generated_reports(tmp_path: Path) -> None:
    gold = generator.generate_corpus(tmp_path, n=20, seed=7, phrases="dev", formats=("txt",))
    report = evaluate(gold, tmp_path)
    assert report["overall"]["f1"] >= 0.98, report["overall"]
