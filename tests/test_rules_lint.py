"""The rules lint: the shipped rules are clean, and each kind of redundancy is caught."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from commune_metrics.core.config import RULES_DIR
from commune_metrics.extract.lint import lint_rules


def test_shipped_rules_are_lint_clean() -> None:
    assert lint_rules() == []


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    shutil.copytree(RULES_DIR, tmp_path / "rules")
    return tmp_path / "rules"


def _edit(path: Path, edit) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _metric(data: dict, code: str) -> dict:
    return next(m for m in data["metrics"] if m["code"] == code)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        # the same cue twice
        (lambda d: _metric(d, "dossiers.received")["cues"].append("tổng số hồ sơ"), "is listed twice"),
        # two members of one synonym group ("quá hạn" / "vượt thời hạn")
        (lambda d: _metric(d, "dossiers.resolved_overdue")["cues"].append(
            {"cue": "vượt thời hạn", "not": ["đang", "chưa"]}),
         "once synonyms are applied"),
        # a `not` phrase repeated through a synonym ("thủ tục hành chính" / "tthc")
        (lambda d: _metric(d, "dossiers.received")["not"].extend(["thủ tục hành chính", "tthc"]), "repeats"),
    ],
)
def test_redundant_cues_are_caught(rules_copy: Path, edit, expected: str) -> None:
    _edit(rules_copy / "metrics.yaml", edit)
    findings = lint_rules(rules_copy)
    assert any(expected in f for f in findings), findings


def test_a_noun_listed_twice_is_caught(rules_copy: Path) -> None:
    _edit(rules_copy / "vocabulary.yaml", lambda d: d["nouns"]["computer"].append("máy tính"))
    assert lint_rules(rules_copy) == ["vocabulary.yaml: noun class 'computer': 'máy tính' is listed twice"]
