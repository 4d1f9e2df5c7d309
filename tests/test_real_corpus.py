"""The real-text corpus (tests/corpus/real) is whole: every source has its text and one split,
every gold line belongs to a document of its own split, evidence is quoted from the text, and no
text or URL is there twice (a document in both splits would let `dev` tuning leak into `test`)."""

from __future__ import annotations

from collections import Counter

from commune_metrics.evaluate import load_gold
from tools.agreement import TWIN, on_time_alone
from tools.real_corpus import ROOT as REAL
from tools.real_corpus import read_rows as _rows


def test_every_source_has_its_text_and_one_split() -> None:
    sources = _rows(REAL / "sources.jsonl")
    names = Counter(s["doc"] for s in sources)
    urls = Counter(s["url"].rstrip("/") for s in sources)
    assert [n for n, k in names.items() if k > 1] == []
    assert [u for u, k in urls.items() if k > 1] == [], "the same page twice"
    assert {s["split"] for s in sources} == {"dev", "test"}
    on_disk = {p.name for p in (REAL / "docs").glob("*.txt")}
    assert on_disk == set(names), "docs/ and sources.jsonl differ"
    texts = Counter((REAL / "docs" / n).read_text(encoding="utf-8").strip() for n in names)
    assert max(texts.values()) == 1, "the same text under two names"


def test_gold_lines_belong_to_their_split_and_quote_their_text() -> None:
    split = {s["doc"]: s["split"] for s in _rows(REAL / "sources.jsonl")}
    for name in ("dev", "test"):
        gold = load_gold(REAL / f"gold_{name}.jsonl")
        assert set(gold.docs) == {d for d, s in split.items() if s == name}
        for fact in gold.facts:
            assert fact.doc in gold.docs
        for row in _rows(REAL / f"gold_{name}.jsonl"):
            if "doc_meta" in row:
                continue
            text = (REAL / "docs" / row["doc"]).read_text(encoding="utf-8")
            assert row["evidence"] in text, f"{row['doc']}: evidence not in the text: {row['evidence']!r}"


def test_on_time_alone_has_both_readings() -> None:
    """"đúng hạn N" with no early figure in its sentence reads as on the deadline or as on time or
    early (NOTES.md): whichever the labeller chose, the other reading is in gold, optional."""
    for name in ("dev", "test"):
        rows = [r for r in _rows(REAL / f"gold_{name}.jsonl") if "doc_meta" not in r]
        keys = {(r["doc"], r["metric"], r["kind"], r["value"]) for r in rows}
        alone = [r for r in rows if on_time_alone(r, REAL / "docs")]
        assert alone, "the corpus has such figures"
        for r in alone:
            assert (r["doc"], TWIN[r["metric"]], r["kind"], r["value"]) in keys, r


def test_second_labelling_is_of_dev_documents_and_quotes_them() -> None:
    """tests/corpus/real/agreement/: a second, independent labelling of 60 `dev` documents (the
    labellers' agreement, README). It never touches `test`, and it quotes its documents."""
    path = REAL / "agreement" / "gold_dev60_second.jsonl"
    rows = _rows(path)
    split = {r["doc"]: r["split"] for r in _rows(REAL / "sources.jsonl")}
    docs = {r["doc_meta"]["doc"] for r in rows if "doc_meta" in r}
    assert len(docs) == 60 and all(split[d] == "dev" for d in docs)
    for r in rows:
        if "doc_meta" not in r:
            assert r["doc"] in docs
            assert r["evidence"] in (REAL / "docs" / r["doc"]).read_text(encoding="utf-8"), r
