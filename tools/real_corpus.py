"""Assemble the real-text corpus (tests/corpus/real/) from the labellers' files and split it.

Each labeller wrote docs/<x>-*.txt, sources_<x>.jsonl, gold_<x>.jsonl and NOTES_<x>.md. This
merges them into sources.jsonl (with the split of each document), gold_dev.jsonl, gold_test.jsonl
and NOTES.md. The split is by document, about one third to `test`, taken per labeller (their
searches differ in level and kind) by the order of sha256(name): deterministic, and blind to
content. Run once; later documents are appended with an explicit split.

    python -m tools.real_corpus                    # the first assembly (labellers a-d)
    python -m tools.real_corpus --append e f       # later labellers: every document to `dev`
    python -m tools.real_corpus --append-test m n  # fresh labellers scored once, kept as `test`
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "tests" / "corpus" / "real"
LABELLERS = ("a", "b", "c", "d")


def read_rows(path: Path) -> list[dict]:
    """The rows of a JSON-lines file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def append(labellers: list[str], split: str = "dev") -> None:
    """Add later labellers' documents, all to one split (`test` stays as first scored)."""
    with (ROOT / "sources.jsonl").open("a", encoding="utf-8") as out:
        for who in labellers:
            for r in read_rows(ROOT / f"sources_{who}.jsonl"):
                out.write(json.dumps({**r, "labeller": who, "split": split}, ensure_ascii=False) + "\n")
    gold_path = ROOT / f"gold_{split}.jsonl"
    rows = read_rows(gold_path)
    notes = (ROOT / "NOTES.md").read_text(encoding="utf-8")
    for who in labellers:
        rows += read_rows(ROOT / f"gold_{who}.jsonl")
        notes += f"\n## Labeller {who} (added to `{split}` after the first scoring)\n\n" + (
            ROOT / f"NOTES_{who}.md").read_text(encoding="utf-8")
    rows.sort(key=lambda g: "doc_meta" not in g)
    with gold_path.open("w", encoding="utf-8") as fh:
        for g in rows:
            fh.write(json.dumps(g, ensure_ascii=False) + "\n")
    (ROOT / "NOTES.md").write_text(notes, encoding="utf-8")
    for who in labellers:
        for stem in ("sources", "gold"):
            (ROOT / f"{stem}_{who}.jsonl").unlink()
        (ROOT / f"NOTES_{who}.md").unlink()


def main() -> None:
    import sys

    if sys.argv[1:2] == ["--append"]:
        append(sys.argv[2:])
        return
    if sys.argv[1:2] == ["--append-test"]:
        append(sys.argv[2:], split="test")
        return
    sources: list[dict] = []
    gold = {"dev": [], "test": []}
    notes = ["# Judgement calls of the real-text corpus\n",
             "Four labellers who never saw the rules labelled with ../shared/spec/labelling.md; "
             "their calls beyond the guide follow, one section each.\n"]
    for who in LABELLERS:
        rows = read_rows(ROOT / f"sources_{who}.jsonl")
        ordered = sorted(rows, key=lambda r: hashlib.sha256(r["doc"].encode()).hexdigest())
        split = {r["doc"]: ("test" if i % 3 == 2 else "dev") for i, r in enumerate(ordered)}
        for r in rows:
            sources.append({**r, "labeller": who, "split": split[r["doc"]]})
        for g in read_rows(ROOT / f"gold_{who}.jsonl"):
            doc = g["doc_meta"]["doc"] if "doc_meta" in g else g["doc"]
            gold[split[doc]].append(g)
        notes.append(f"\n## Labeller {who}\n\n" + (ROOT / f"NOTES_{who}.md").read_text(encoding="utf-8"))
    with (ROOT / "sources.jsonl").open("w", encoding="utf-8") as fh:
        for r in sources:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    for name, rows in gold.items():
        # doc_meta lines first, as in ../shared/gold/seeds.jsonl
        rows.sort(key=lambda g: "doc_meta" not in g)
        with (ROOT / f"gold_{name}.jsonl").open("w", encoding="utf-8") as fh:
            for g in rows:
                fh.write(json.dumps(g, ensure_ascii=False) + "\n")
    (ROOT / "NOTES.md").write_text("".join(notes), encoding="utf-8")
    for who in LABELLERS:
        for stem in ("sources", "gold"):
            (ROOT / f"{stem}_{who}.jsonl").unlink()
        (ROOT / f"NOTES_{who}.md").unlink()


if __name__ == "__main__":
    main()
