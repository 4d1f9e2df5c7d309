"""Each required gold fact of the real seed documents, extracted from its own sentence.

Sentences are read from ../shared/seeds at test time (never copied into the repo): the test
finds the sentence of the normalized seed that contains the gold evidence snippet, runs the
fact finder on that sentence, and asserts the fact. One test per metric family.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from commune_metrics.extract.extractor import _finder, _lower_same_length
from commune_metrics.extract.metadata import extract_meta
from commune_metrics.extract.sentences import split_sentences
from commune_metrics.readers import load_document
from commune_metrics.readers.normalize import normalize_text

FAMILIES = {
    "dossiers": ("dossiers.", "results."),
    "procedures": ("procedures.",),
    "infrastructure": ("computers.", "network.", "databases."),
    "staff": ("staff.", "documents.", "archives."),
    "community_plan_budget": ("community.", "criteria.", "budget."),
}


def _squash(text: str) -> str:
    return " ".join(text.split())


def _cases(gold_file: Path, family: str) -> list[dict]:
    prefixes = FAMILIES[family]
    rows = [json.loads(line) for line in gold_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if "metric" in r and not r["optional"] and r["metric"].startswith(prefixes)]


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_from_seed_sentences(family: str, seeds_dir: Path, gold_file: Path) -> None:
    cases = _cases(gold_file, family)
    assert cases, f"no gold facts for family {family}"
    docs: dict[str, tuple] = {}
    failures = []
    for case in cases:
        if case["doc"] not in docs:
            doc = load_document(seeds_dir / case["doc"])
            docs[case["doc"]] = (doc, split_sentences(doc.text), extract_meta(doc).doc_type)
        doc, sentences, doc_type = docs[case["doc"]]
        snippet = _squash(normalize_text(case["evidence"]))
        sentence = next((s for s in sentences if snippet in _squash(s.text)), None)
        assert sentence is not None, f"evidence not found in {case['doc']}: {snippet!r}"
        kind = "target" if doc_type == "plan" else "actual"
        facts = _finder().sentence_facts(sentence, doc.text, _lower_same_length(doc.text), kind)
        hit = [f for f in facts if f.metric == case["metric"] and f.kind == case["kind"]
               and abs(f.value - case["value"]) <= 0.01]
        if not hit:
            failures.append((case["metric"], case["value"], [(f.metric, f.value) for f in facts]))
            continue
        fact = hit[0]
        assert doc.text[fact.char_start : fact.char_end] == fact.evidence == sentence.text
        assert 0 < fact.confidence <= 1 and fact.extractor
    assert not failures, failures
