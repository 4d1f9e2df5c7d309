"""Rules are data: the YAML is checked at load with clear errors, the catalog matches the spec,
and an analyst can change what is extracted by editing YAML only."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from commune_metrics.core.config import RULES_DIR
from commune_metrics.core.model import Fact
from commune_metrics.extract.facts import FactFinder
from commune_metrics.extract.rules import RulesError, load_catalog, load_rules
from commune_metrics.extract.sentences import split_sentences
from commune_metrics.readers.normalize import normalize_text
from tests.conftest import SHARED

REPO_RULES = RULES_DIR


@pytest.fixture()
def rules_copy(tmp_path: Path) -> Path:
    for name in ("metrics.yaml", "vocabulary.yaml", "grammar.yaml", "scoring.yaml"):
        shutil.copy(REPO_RULES / name, tmp_path / name)
    return tmp_path


def _edit_metric(rules_dir: Path, code: str, **changes) -> None:
    path = rules_dir / "metrics.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    entry = next(m for m in data["metrics"] if m["code"] == code)
    entry.update(changes)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def _facts(rules_dir: Path, text: str, default_kind: str = "actual") -> list[Fact]:
    finder = FactFinder(load_rules(rules_dir))
    text = normalize_text(text)
    low = text.lower()
    out: list[Fact] = []
    for sent in split_sentences(text):
        out += finder.sentence_facts(sent, text, low, default_kind)
    return out


def test_repo_rules_load() -> None:
    rules = load_rules(REPO_RULES)
    assert len(rules.metrics) == len(load_catalog(REPO_RULES))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"unit": "pieces"}, "unknown unit 'pieces'"),
        ({"colour": "red"}, "unknown field(s) ['colour']"),
        ({"cues": ["re:(unclosed"]}, "bad regex"),
        ({"nouns": ["spaceships"]}, "unknown noun class 'spaceships'"),
        ({"ratio_whole": "no.such_metric"}, "ratio_whole 'no.such_metric'"),
        ({"cues": [{"cue": "x", "colour": "red"}]}, "unknown cue field(s) ['colour']"),
        ({"cues": [{"context": ["x"]}]}, "exactly one of 'cue' or 'all'"),
        ({"label_vi": ""}, "missing label_vi"),
        ({"alone_means": {"metric": "dossiers.online_pct", "unless_document_has": ["x"]}},
         "alone_means 'dossiers.online_pct' is not a metric with unit count"),
        ({"alone_means": {"metric": "dossiers.resolved", "unless_document_has": []}}, "unless_document_has"),
        ({"no_share": "sometimes"}, "no_share"),
        ({"share": "dossiers.online_pct", "no_share": True}, "no_share contradicts share"),
    ],
)
def test_bad_rules_fail_with_a_clear_error(rules_copy: Path, change: dict, message: str) -> None:
    _edit_metric(rules_copy, "dossiers.received", **change)
    with pytest.raises(RulesError) as err:
        load_rules(rules_copy)
    assert message in str(err.value)
    assert "dossiers.received" in str(err.value)


def test_duplicate_code_is_refused(rules_copy: Path) -> None:
    path = rules_copy / "metrics.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["metrics"].append(dict(data["metrics"][0]))
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RulesError, match="duplicate code"):
        load_catalog(rules_copy)


def test_catalog_matches_the_spec() -> None:
    spec = SHARED / "spec" / "metrics.md"
    if not spec.is_file():
        pytest.skip(f"spec not found at {spec}")
    pattern = r"^\| ([a-z_]+\.[a-z_]+) \| (count|percent|vnd) \|"
    rows = re.findall(pattern, spec.read_text(encoding="utf-8"), re.M)
    catalog = {m.code: m.unit for m in load_catalog(REPO_RULES)}
    assert catalog == dict(rows)
    assert all(m.label_vi and m.description for m in load_catalog(REPO_RULES))


def test_context_words_change_the_meaning() -> None:
    text = (
        "Số hồ sơ đã giải quyết là 120 hồ sơ (trong đó, trước hạn là 100; đúng hạn là 15; quá hạn là 5); "
        "hồ sơ đang giải quyết là 40 hồ sơ (trong đó, trong hạn là 33, quá hạn là 7)."
    )
    got = {(f.metric, f.value) for f in _facts(REPO_RULES, text)}
    assert got == {
        ("dossiers.resolved", 120), ("dossiers.resolved_early", 100), ("dossiers.resolved_on_time", 15),
        ("dossiers.resolved_overdue", 5), ("dossiers.in_progress", 40),
        ("dossiers.in_progress_on_time", 33), ("dossiers.in_progress_overdue", 7),
    }


def test_a_synonym_is_added_by_editing_yaml_only(rules_copy: Path) -> None:
    text = "Xã đã lắp đặt được 9 trạm phát sóng wifi công cộng."
    assert _facts(rules_copy, text) == []
    _edit_metric(rules_copy, "network.dedicated_lines", cues=["trạm phát sóng wifi"])
    vocab_path = rules_copy / "vocabulary.yaml"
    vocab = yaml.safe_load(vocab_path.read_text(encoding="utf-8"))
    vocab["nouns"]["line"].append("trạm")
    vocab_path.write_text(yaml.safe_dump(vocab, allow_unicode=True), encoding="utf-8")
    (fact,) = _facts(rules_copy, text)
    assert (fact.metric, fact.value) == ("network.dedicated_lines", 9)


def _edit_vocab(rules_dir: Path, **changes) -> None:
    path = rules_dir / "vocabulary.yaml"
    vocab = yaml.safe_load(path.read_text(encoding="utf-8"))
    vocab.update(changes)
    path.write_text(yaml.safe_dump(vocab, allow_unicode=True), encoding="utf-8")


def test_a_synonym_group_widens_every_cue(rules_copy: Path) -> None:
    text = "Có 9 máy tính được lắp phần mềm chặn tin rác."
    assert not any(f.metric == "computers.antivirus" for f in _facts(rules_copy, text))
    vocab = yaml.safe_load((rules_copy / "vocabulary.yaml").read_text(encoding="utf-8"))
    _edit_vocab(rules_copy, synonyms=vocab.get("synonyms", []) + [["diệt virus", "chặn tin rác"]])
    assert ("computers.antivirus", 9) in {(f.metric, f.value) for f in _facts(rules_copy, text)}


@pytest.mark.parametrize("groups", [["quá hạn"], [["quá hạn"]], [["re:x", "y"]], [["a", "b"], ["b", "c"]]])
def test_bad_synonym_groups_are_refused(rules_copy: Path, groups: list) -> None:
    _edit_vocab(rules_copy, synonyms=groups)
    with pytest.raises(RulesError, match="synonym"):
        load_rules(rules_copy)
