"""The synthetic report generator: its truth must be true, complete and reproducible, and the
two phrase sets must stay apart so held-out scores mean something."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from tools.samples import generator as gen
from tools.samples.inbox import INBOX_DIR, INBOX_GOLD, ITEMS, compose_inbox
from tools.samples.phrasebook import PHRASE_SETS, PLACEHOLDER, load_phrase_set
from tools.samples.world import METRIC_UNITS, PART_RULES, SUM_RULES

CORPUS_SIZE = 60


@pytest.fixture(scope="module", params=PHRASE_SETS)
def corpus(request) -> list[tuple[gen.SampleDoc, str]]:
    return gen.compose_corpus(CORPUS_SIZE, seed=11, phrases=request.param, formats=("pdf", "docx", "txt"))


def _read_value(written: str) -> float:
    """An independent reader for the number formats the generator claims to use."""
    text = written.strip().removesuffix("%").strip()
    scale = 1
    for word, factor in ((" tỷ đồng", 10**9), (" triệu đồng", 10**6), (" đồng", 1)):
        if text.endswith(word):
            text, scale = text.removesuffix(word), factor
            break
    text = text.replace(".", "").replace(",", ".")
    return float(text) * scale


# --- metric catalog -------------------------------------------------------------------------


def test_units_match_the_metric_catalog(gold_file: Path) -> None:
    spec = gold_file.parent.parent / "spec" / "metrics.md"
    rows = re.findall(r"^\| ([a-z_]+\.[a-z_]+) \| (count|percent|vnd) \|", spec.read_text("utf-8"), re.M)
    assert len(rows) > 40
    assert dict(rows) == METRIC_UNITS


def test_every_metric_code_appears_in_a_60_document_corpus(corpus) -> None:
    seen = {f.metric for doc, _ in corpus for f in doc.facts}
    assert seen == set(METRIC_UNITS), f"never written: {sorted(set(METRIC_UNITS) - seen)}"


def test_documents_carry_a_random_subset_of_facts(corpus) -> None:
    counts = [len(doc.facts) for doc, _ in corpus]
    assert min(counts) >= 6 and max(counts) <= 32
    assert len(set(counts)) > 5
    assert {doc.meta["doc_type"] for doc, _ in corpus} == {"report", "plan"}


# --- truth is in the text -------------------------------------------------------------------


def test_truth_values_are_written_in_the_document(corpus) -> None:
    checked = 0
    for doc, _ in corpus:
        text = doc.text()
        for fact in doc.facts:
            assert fact.evidence in text, (doc.name, fact.evidence)
            assert fact.value_text in fact.evidence, (doc.name, fact)
            assert _read_value(fact.value_text) == pytest.approx(fact.value), (doc.name, fact)
            checked += 1
    assert checked > CORPUS_SIZE * 8


def test_number_formats_and_qualifiers_are_varied(corpus) -> None:
    facts = [f for doc, _ in corpus for f in doc.facts]
    texts = [f.value_text for f in facts]
    assert any(re.fullmatch(r"\d{1,3}(\.\d{3})+", t) for t in texts), "thousands with dots"
    assert any(re.fullmatch(r"0\d", t) for t in texts), "leading zeros"
    assert any(re.fullmatch(r"\d+,\d+ ?%", t) for t in texts), "decimal comma percent"
    assert any(t.endswith(("triệu đồng", "tỷ đồng")) for t in texts), "money in words"
    assert {"eq", "gt", "gte", "approx"} <= {f.qualifier for f in facts}
    assert {"actual", "target"} == {f.kind for f in facts}


def test_ratios_give_part_and_whole(corpus) -> None:
    for doc, _ in corpus:
        for fact in doc.facts:
            if fact.metric == "computers.antivirus" and "/" in fact.evidence:
                whole = next(f for f in doc.facts if f.metric == "computers.total")
                assert f"{fact.value_text}/{whole.value_text}" in fact.evidence
                return
    pytest.fail("no ratio written in the corpus")


def test_qualifier_words_sit_before_qualified_values(corpus) -> None:
    words = {"gt": ("hơn", "trên"), "approx": ("khoảng", "gần", "ước khoảng")}
    for doc, _ in corpus:
        for fact in doc.facts:
            if fact.qualifier in words:
                before = fact.evidence[: fact.evidence.index(fact.value_text)].rstrip().lower()
                assert before.endswith(words[fact.qualifier]), (fact.qualifier, fact.evidence)


def test_distractors_are_present_but_never_facts(corpus) -> None:
    for doc, _ in corpus:
        text = doc.text()
        assert re.search(r"\b\d{2}/\d{1,2}/2025\b", text), doc.name  # dates
        assert re.search(r"Số: \d+/(BC|KH)-UBND", text), doc.name  # document number
        for fact in doc.facts:
            assert not re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", fact.value_text)


def test_doc_meta_matches_the_gold_format(gold_file: Path, corpus) -> None:
    seed_meta = json.loads(gold_file.read_text("utf-8").splitlines()[0])["doc_meta"]
    seed_fact = next(json.loads(line) for line in gold_file.read_text("utf-8").splitlines()
                     if "doc_meta" not in line)
    provinces = {c.province for c in gen.communes()}
    assert "Thành phố Hải Phòng" in provinces and "Quảng Trị" in provinces
    for doc, _ in corpus:
        records = doc.gold_records()
        meta = records[0]["doc_meta"]
        assert set(seed_meta) <= set(meta)
        assert meta["province"] in provinces
        assert not meta["commune"].lower().startswith(("xã ", "phường "))
        assert meta["commune"] in doc.text() and meta["province"].removeprefix("Thành phố ") in doc.text()
        if meta["doc_type"] == "plan":
            assert meta["period_start"] is None and "KẾ HOẠCH" in doc.text()
        if meta["signer"]:
            assert doc.text().rstrip().endswith(meta["signer"])
        for record in records[1:]:
            assert set(seed_fact) | {"qualifier"} == set(record)


# --- consistency ----------------------------------------------------------------------------


def test_rule_names_exist_in_the_project_checks() -> None:
    import yaml

    from commune_metrics.core.config import RULES_DIR

    checks = {c["name"]: c for c in yaml.safe_load((RULES_DIR / "checks.yaml").read_text("utf-8"))["checks"]}
    for name, (total, parts) in SUM_RULES.items():
        assert checks[name]["total"] == total and checks[name]["parts"] == list(parts)
    for name, (part, whole) in PART_RULES.items():
        assert (checks[name]["part"], checks[name]["whole"]) == (part, whole)


def test_inconsistent_documents_are_flagged_exactly() -> None:
    """The project's own validator must find exactly the sums the gold says are wrong."""
    from commune_metrics.checks import check
    from commune_metrics.core.model import DocMeta, Extraction, Fact

    docs = gen.compose_corpus(150, seed=3, phrases="dev", formats=("txt",))
    marked = 0
    for doc, _ in docs:
        facts = [Fact(f.metric, f.kind, f.value, METRIC_UNITS[f.metric], f.qualifier, 0, 1, f.evidence,
                      "gold", 1.0) for f in doc.facts]
        errors = {flag.rule for flag in check(Extraction(DocMeta(), facts)) if flag.severity == "error"}
        assert errors == set(doc.meta.get("inconsistent", [])), doc.name
        marked += bool(errors)
    assert 0.04 <= marked / len(docs) <= 0.2


# --- phrase sets ----------------------------------------------------------------------------


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", PLACEHOLDER.sub(" ", text).lower()))


def test_heldout_and_dev_share_no_sentence_template() -> None:
    dev, held = load_phrase_set("dev"), load_phrase_set("heldout")
    dev_skeletons = {t.skeleton() for t in dev.templates}
    assert not dev_skeletons & {t.skeleton() for t in held.templates}
    for h in held.templates:
        for d in dev.templates:
            a, b = _words(h.text), _words(d.text)
            assert len(a & b) / len(a | b) < 0.75, (h.id, d.id)
    assert not set(dev.table_labels.values()) & set(held.table_labels.values())


def test_both_phrase_sets_cover_the_catalog() -> None:
    for name in PHRASE_SETS:
        covered = {m for t in load_phrase_set(name).templates for m in t.metrics()}
        assert covered == set(METRIC_UNITS), (name, set(METRIC_UNITS) - covered)


# --- determinism and files ------------------------------------------------------------------


def test_generation_is_deterministic(tmp_path: Path) -> None:
    a = gen.generate_corpus(tmp_path / "a", 6, seed=5, formats=("txt",))
    b = gen.generate_corpus(tmp_path / "b", 6, seed=5, formats=("txt",))
    c = gen.generate_corpus(tmp_path / "c", 6, seed=6, formats=("txt",))
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()
    for path in sorted((tmp_path / "a").glob("*.txt")):
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes()


def test_files_open_in_every_format(tmp_path: Path) -> None:
    import docx
    import pypdfium2

    gold = gen.generate_corpus(tmp_path, 4, seed=8, formats=gen.FORMATS, pages=(2, 3), scan_dpi=60)
    records = [json.loads(line) for line in gold.read_text("utf-8").splitlines()]
    names = [r["doc_meta"]["doc"] for r in records if "doc_meta" in r]
    assert sorted(names) == sorted(p.name for p in tmp_path.iterdir() if p.name != "gold.jsonl")
    for name in names:
        path = tmp_path / name
        if path.suffix == ".pdf":
            pdf = pypdfium2.PdfDocument(path)
            assert len(pdf) >= 2
            text = pdf[0].get_textpage().get_text_range()
            scanned = not text.strip()
            assert scanned == (name.startswith("0003")), name  # the fourth format is the scan
        elif path.suffix == ".docx":
            paragraphs = [p.text for p in docx.Document(str(path)).paragraphs]
            assert any("BÁO CÁO" in p or "KẾ HOẠCH" in p for p in paragraphs)
        else:
            assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in path.read_text("utf-8")


def test_padding_reaches_the_requested_page_count() -> None:
    doc, _ = gen.compose_corpus(1, seed=2, formats=("pdf",), pages=(7, 7))[0]
    assert 6 <= len(gen.paginate(doc.blocks)) <= 9


# --- the committed sample inbox -------------------------------------------------------------


def test_committed_inbox_matches_its_gold() -> None:
    records = [json.loads(line) for line in INBOX_GOLD.read_text("utf-8").splitlines()]
    metas = [r["doc_meta"] for r in records if "doc_meta" in r]
    assert sorted(m["doc"] for m in metas) == sorted(p.name for p in INBOX_DIR.iterdir())
    assert {r["doc"] for r in records if "doc_meta" not in r} <= {m["doc"] for m in metas}
    assert len({m["ward_code"] for m in metas}) >= 4 and len({m["province"] for m in metas}) >= 2
    assert any(m["doc_type"] == "plan" for m in metas)
    by_commune = Counter(m["ward_code"] for m in metas if m["doc_type"] == "report")
    twice = [code for code, n in by_commune.items() if n >= 2]
    assert any(len({m["period_start"] for m in metas if m["ward_code"] == c}) >= 2 for c in twice)
    assert sum(p.stat().st_size for p in INBOX_DIR.iterdir()) < 400_000


def test_committed_inbox_gold_is_reproducible() -> None:
    committed = [json.loads(line) for line in INBOX_GOLD.read_text("utf-8").splitlines()]
    rebuilt = [record for doc, _ in compose_inbox() for record in doc.gold_records()]
    assert committed == json.loads(json.dumps(rebuilt, ensure_ascii=False))
    assert {item.fmt for item in ITEMS} == set(gen.FORMATS)
