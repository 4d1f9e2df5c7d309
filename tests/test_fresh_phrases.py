"""The `fresh` phrase set: a third, independently written wording of the same figures, so
extraction can be scored on sentences nobody tuned on. It must load, cover the whole catalog,
stay apart from dev and heldout, and generate documents whose gold is in their text."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from pipeline.samples import generator as gen
from pipeline.samples.__main__ import main as samples_cli
from pipeline.samples.phrasebook import OPTIONAL, PHRASE_SETS, PLACEHOLDER, load_phrase_set
from pipeline.samples.world import METRIC_UNITS, draw_world

OTHER_SETS = ("dev", "heldout")
# dev vs heldout are held to 0.75 in test_samples; the fresh set is held to a stricter bar.
MAX_WORD_OVERLAP = 0.7


@pytest.fixture(scope="module")
def fresh():
    return load_phrase_set("fresh")


def _variants(text: str) -> set[str]:
    """The template with every optional part kept, and with every optional part dropped."""
    return {OPTIONAL.sub(r"\1", text), OPTIONAL.sub("", text)}


def _skeletons(text: str) -> set[str]:
    return {re.sub(r"\s+", " ", PLACEHOLDER.sub("#", v)).strip().lower() for v in _variants(text)}


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", PLACEHOLDER.sub(" ", text).lower()))


def test_fresh_is_a_known_phrase_set(fresh) -> None:
    assert "fresh" in PHRASE_SETS
    assert fresh.name == "fresh"
    assert {"gt", "gte", "approx"} <= set(fresh.qualifiers)
    assert all(fresh.qualifiers[q] for q in ("gt", "gte", "approx"))
    assert fresh.pool("actual") and fresh.pool("target")
    assert set(fresh.table_labels) <= set(METRIC_UNITS) and len(fresh.table_header) == 3


def test_every_metric_has_an_actual_template(fresh) -> None:
    actual = {m for t in fresh.pool("actual") for m in t.metrics()}
    assert actual == set(METRIC_UNITS), sorted(set(METRIC_UNITS) - actual)


def test_every_plannable_metric_has_a_target_template(fresh) -> None:
    """Targets are written only for metrics a plan sets a figure for (the world's targets), so
    a target fact never carries an actual value; and every such metric gets one."""
    plannable = set(draw_world(random.Random(0)).targets)
    targets = {m for t in fresh.pool("target") for m in t.metrics()}
    assert targets == plannable, (sorted(plannable - targets), sorted(targets - plannable))


def test_sections_are_the_generators(fresh) -> None:
    assert {t.section for t in fresh.pool("actual")} == set(gen.REPORT_SECTIONS)
    # A plan's "current situation" paragraph draws on these three sections only.
    situation = {m for t in fresh.pool("actual", ("infra", "staff", "community")) for m in t.metrics()}
    assert "computers.total" in situation and "staff.quota" in situation


@pytest.mark.parametrize("other", OTHER_SETS)
def test_no_template_is_shared_with_the_tuned_sets(fresh, other: str) -> None:
    theirs = load_phrase_set(other)
    their_skeletons = {s for t in theirs.templates for s in _skeletons(t.text)}
    for t in fresh.templates:
        assert not _skeletons(t.text) & their_skeletons, (t.id, t.text)
        for o in theirs.templates:
            a, b = _words(t.text), _words(o.text)
            assert len(a & b) / len(a | b) < MAX_WORD_OVERLAP, (t.id, o.id)
    assert not set(fresh.table_labels.values()) & set(theirs.table_labels.values())


def test_no_template_repeats_a_metric_or_itself(fresh) -> None:
    seen: set[str] = set()
    for t in fresh.templates:
        metrics = t.metrics()
        assert len(metrics) == len(set(metrics)), t.id
        assert t.skeleton() not in seen, t.id
        seen.add(t.skeleton())


def test_only_years_and_dates_are_written_outside_placeholders(fresh) -> None:
    """Any other literal figure would be a number in the text that the gold does not explain."""
    for t in fresh.templates:
        literal = PLACEHOLDER.sub(" ", t.text)
        for number in re.findall(r"\d[\d/.,]*", literal):
            assert re.fullmatch(r"20\d\d|\d{1,2}/\d{1,2}/20\d\d", number.rstrip(".,")), (t.id, number)


def test_fixed_qualifiers_are_carried_by_the_template_words(fresh) -> None:
    words = {"gte": ("không dưới", "ít nhất", "tối thiểu", "từ"), "gt": ("trên", "hơn"),
             "approx": ("khoảng", "gần")}
    fixed = 0
    for t in fresh.templates:
        for m in PLACEHOLDER.finditer(t.text):
            if m.group(3):
                fixed += 1
                before = t.text[: m.start()].rstrip().lower()
                assert before.endswith(words[m.group(3)]), (t.id, m.group(0))
    assert fixed >= 3


def test_a_200_document_corpus_covers_the_catalog_with_true_evidence() -> None:
    docs = gen.compose_corpus(200, seed=2026, phrases="fresh", formats=("txt",))
    facts = [(doc, f) for doc, _ in docs for f in doc.facts]
    assert {f.metric for _, f in facts} == set(METRIC_UNITS)
    assert {f.kind for _, f in facts} == {"actual", "target"}
    assert {"eq", "gt", "gte", "approx"} <= {f.qualifier for _, f in facts}
    for doc, f in facts:
        assert f.evidence in doc.text(), (doc.name, f.evidence)
        assert f.value_text in f.evidence, (doc.name, f.metric)


def test_cli_writes_a_small_fresh_corpus(tmp_path: Path) -> None:
    out = tmp_path / "fresh"
    assert samples_cli(["--out", str(out), "--n", "12", "--seed", "5", "--phrases", "fresh",
                        "--formats", "txt", "--workers", "1"]) == 0
    records = [json.loads(line) for line in (out / "gold.jsonl").read_text("utf-8").splitlines()]
    metas = [r["doc_meta"] for r in records if "doc_meta" in r]
    facts = [r for r in records if "doc_meta" not in r]
    assert sorted(m["doc"] for m in metas) == sorted(p.name for p in out.glob("*.txt"))
    assert len(facts) >= 12 * 6
    fresh_sentences = 0
    for fact in facts:
        text = (out / fact["doc"]).read_text("utf-8")
        assert fact["evidence"] in text, fact
        assert fact["metric"] in METRIC_UNITS and fact["unit"] == METRIC_UNITS[fact["metric"]]
        fresh_sentences += "|" not in fact["evidence"]  # table rows are not sentences
    assert fresh_sentences > len(facts) // 2
