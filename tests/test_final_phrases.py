"""The `final` phrase set: a fifth wording of the same figures, written apart from the extraction
rules and from the tuned sets, and used once for the last honest score. It must load, cover the
whole catalog, share no sentence with dev or heldout, be fair (every number in its text is a fact
the gold explains, with the qualifier its words say, and a clean clause as evidence) and
generate documents whose gold is in their text."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from pipeline.samples import generator as gen
from pipeline.samples.__main__ import main as samples_cli
from pipeline.samples.phrasebook import OPTIONAL, PHRASE_SETS, PLACEHOLDER, VALUE_SEPARATORS, load_phrase_set
from pipeline.samples.world import METRIC_UNITS, draw_world

TUNED_SETS = ("dev", "heldout")
MAX_WORD_OVERLAP = 0.7  # stricter than the 0.75 dev vs heldout bar in test_samples
# Words a careful reader takes as a bound on the figure right after them.
QUALIFIER_WORDS = {"gte": ("không dưới", "ít nhất", "tối thiểu", "từ"), "gt": ("trên", "hơn"),
                   "approx": ("khoảng", "gần", "ước khoảng")}


@pytest.fixture(scope="module")
def final():
    return load_phrase_set("final")


def _variants(text: str) -> set[str]:
    """The template with every optional part kept, and with every optional part dropped."""
    return {OPTIONAL.sub(r"\1", text), OPTIONAL.sub("", text)}


def _skeletons(text: str) -> set[str]:
    return {re.sub(r"\s+", " ", PLACEHOLDER.sub("#", v)).strip().lower() for v in _variants(text)}


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", PLACEHOLDER.sub(" ", text).lower()))


def test_final_is_a_known_phrase_set(final) -> None:
    assert "final" in PHRASE_SETS
    assert final.name == "final"
    assert all(final.qualifiers.get(q) for q in ("gt", "gte", "approx"))
    for qualifier, words in final.qualifiers.items():
        assert set(words) <= set(QUALIFIER_WORDS[qualifier]), qualifier
    assert len(final.pool("actual")) >= 70 and len(final.pool("target")) >= 20
    assert set(final.table_labels) <= set(METRIC_UNITS) and len(final.table_header) == 3


def test_every_metric_has_an_actual_template(final) -> None:
    actual = {m for t in final.pool("actual") for m in t.metrics()}
    assert actual == set(METRIC_UNITS), sorted(set(METRIC_UNITS) - actual)


def test_every_plannable_metric_has_a_target_template(final) -> None:
    """Targets only for metrics the world gives a target value, so a target fact never carries an
    actual figure; and each such metric gets at least one."""
    plannable = set(draw_world(random.Random(0)).targets)
    targets = {m for t in final.pool("target") for m in t.metrics()}
    assert targets == plannable, (sorted(plannable - targets), sorted(targets - plannable))


def test_sections_are_the_generators(final) -> None:
    assert {t.section for t in final.pool("actual")} == set(gen.REPORT_SECTIONS)
    assert {t.section for t in final.pool("target")} <= set(gen.REPORT_SECTIONS)
    situation = {m for t in final.pool("actual", ("infra", "staff", "community")) for m in t.metrics()}
    assert "computers.total" in situation and "staff.quota" in situation


@pytest.mark.parametrize("other", TUNED_SETS)
def test_no_template_is_shared_with_the_tuned_sets(final, other: str) -> None:
    theirs = load_phrase_set(other)
    their_skeletons = {s for t in theirs.templates for s in _skeletons(t.text)}
    their_words = [(o.id, _words(v)) for o in theirs.templates for v in _variants(o.text)]
    for t in final.templates:
        assert not _skeletons(t.text) & their_skeletons, (t.id, t.text)
        for variant in _variants(t.text):
            a = _words(variant)
            for oid, b in their_words:
                assert len(a & b) / len(a | b) < MAX_WORD_OVERLAP, (t.id, oid)
    assert not set(final.table_labels.values()) & set(theirs.table_labels.values())
    assert tuple(final.table_header) != tuple(theirs.table_header)


def test_no_template_repeats_a_metric_or_itself(final) -> None:
    seen: set[str] = set()
    for t in final.templates:
        metrics = t.metrics()
        assert len(metrics) == len(set(metrics)), t.id
        assert t.skeleton() not in seen, t.id
        seen.add(t.skeleton())


def test_only_years_are_written_outside_placeholders(final) -> None:
    """Any other literal figure would be a number in the text that the gold does not explain."""
    texts = [t.text for t in final.templates] + list(final.table_labels.values())
    for text in texts:
        for number in re.findall(r"\d[\d/.,]*", PLACEHOLDER.sub(" ", text)):
            assert re.fullmatch(r"20\d\d|\d{1,2}/\d{1,2}/20\d\d", number.rstrip(".,")), (text, number)


def test_fixed_qualifiers_are_carried_by_the_template_words(final) -> None:
    fixed = 0
    for t in final.templates:
        for m in PLACEHOLDER.finditer(t.text):
            if m.group(3):
                fixed += 1
                before = t.text[: m.start()].rstrip().lower()
                assert before.endswith(QUALIFIER_WORDS[m.group(3)]), (t.id, m.group(0))
                # The generator writes "hơn 100%" as eq, which the template's own word would contradict.
                assert not (m.group(3) == "gt" and METRIC_UNITS[m.group(2)] == "percent"), t.id
    assert fixed >= 5


def test_no_plain_value_follows_a_qualifier_word(final) -> None:
    bound_words = tuple(w for words in QUALIFIER_WORDS.values() for w in words)
    pattern = re.compile(r"(^|\W)(" + "|".join(bound_words) + r")$")
    for t in final.templates:
        for m in PLACEHOLDER.finditer(t.text):
            if not m.group(1) and not m.group(3):
                assert not pattern.search(t.text[: m.start()].rstrip().lower()), (t.id, m.group(0))


def test_every_value_gets_a_clean_evidence_clause(final) -> None:
    """The generator cuts evidence at ; ( ) and at the first ', ' or ' và ' between two values in
    one clause. A value right after a closing bracket would lose its nouns, and a second
    separator between two values would cut a noun phrase ('thôn, tổ dân phố') in half."""
    for t in final.templates:
        for text in _variants(t.text):
            slots = list(PLACEHOLDER.finditer(text))
            for i, m in enumerate(slots):
                before = text[: m.start()]
                assert before.rfind(")") <= max(before.rfind(c) for c in ";("), (t.id, m.group(0))
                if i + 1 < len(slots):
                    gap = text[m.end() : slots[i + 1].start()]
                    if not any(c in gap for c in ";()"):
                        assert sum(gap.count(sep) for sep in VALUE_SEPARATORS) <= 1, (t.id, gap)


def test_the_clerks_phrasing_is_varied(final) -> None:
    texts = [t.text for t in final.templates]
    joined = " ".join(texts).lower()
    for phrase in ("lũy kế", "so với cùng kỳ", "tương ứng", "trong đó", "cụ thể", "chiếm", "đạt",
                   "với", "gồm", "tthc", "dvc", "cchc", "cbcc", "csdl"):
        assert phrase in joined, phrase
    assert any(re.search(r"\{[^}]+\}/\{[^}]+\}", t) for t in texts), "a ratio"
    assert any(re.search(r"\([^)]*\{", t) for t in texts), "a parenthesised breakdown"
    assert sum(bool(re.search(r":\s*\{", t)) for t in texts) >= 5, "labels before values"
    assert sum(t.startswith("{") for t in texts) >= 4, "sentences opening on the figure"
    assert sum(len(PLACEHOLDER.findall(t)) >= 3 for t in texts) >= 8, "dense summary sentences"


def test_a_corpus_covers_the_catalog_with_true_evidence() -> None:
    docs = gen.compose_corpus(150, seed=777, phrases="final", formats=("txt",))
    facts = [(doc, f) for doc, _ in docs for f in doc.facts]
    assert {f.metric for _, f in facts} == set(METRIC_UNITS)
    assert {f.kind for _, f in facts} == {"actual", "target"}
    assert {"eq", "gt", "gte", "approx"} <= {f.qualifier for _, f in facts}
    plannable = set(draw_world(random.Random(0)).targets)
    assert {f.metric for _, f in facts if f.kind == "target"} == plannable
    assert any("|" in f.evidence for _, f in facts), "table rows"
    for doc, f in facts:
        text = doc.text()
        assert f.evidence in text, (doc.name, f.evidence)
        assert f.value_text in f.evidence, (doc.name, f.metric)
        if f.qualifier in ("gt", "approx"):
            before = f.evidence[: f.evidence.index(f.value_text)].rstrip().lower()
            assert before.endswith(QUALIFIER_WORDS[f.qualifier]), (f.qualifier, f.evidence)


def test_cli_writes_a_small_final_corpus(tmp_path: Path) -> None:
    out = tmp_path / "final"
    assert samples_cli(["--out", str(out), "--n", "8", "--seed", "5", "--phrases", "final",
                        "--formats", "txt", "--workers", "1"]) == 0
    records = [json.loads(line) for line in (out / "gold.jsonl").read_text("utf-8").splitlines()]
    metas = [r["doc_meta"] for r in records if "doc_meta" in r]
    facts = [r for r in records if "doc_meta" not in r]
    assert sorted(m["doc"] for m in metas) == sorted(p.name for p in out.glob("*.txt"))
    assert len(facts) >= 8 * 6
    for fact in facts:
        assert fact["evidence"] in (out / fact["doc"]).read_text("utf-8"), fact
        assert fact["metric"] in METRIC_UNITS and fact["unit"] == METRIC_UNITS[fact["metric"]]
