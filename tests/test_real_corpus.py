"""The real-text corpus (tests/corpus/real) is whole: every source has its text and one split,
every gold line belongs to a document of its own split, evidence is quoted from the text, and no
text or URL is there twice (a document in both splits would let `dev` tuning leak into `test`)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from commune_metrics.evaluate import load_gold

REAL = Path(__file__).resolve().parent / "corpus" / "real"


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


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
