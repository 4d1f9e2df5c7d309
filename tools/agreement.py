"""How far two labellers agree on the same documents: the ceiling of what any extractor can be
measured to reach against one labeller's gold.

Labeller B's facts are scored as if an extractor had output them, against labeller A's gold, by
`eval`'s own rules (commune_metrics.evaluate.score): a B fact that matches an optional A fact is
neither right nor wrong, an A required fact that B lacks is missed. Two readings of B are given:
its required facts only, and all its facts (an extractor may output what B marked optional). The
"đúng hạn N" two-reading policy of NOTES.md is applied to both files first, as it is to the corpus.
With `--docs`, the extractor is scored against each labeller on the same documents too.

    python -m tools.agreement A.jsonl B.jsonl [--docs DIR]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from commune_metrics.evaluate import Gold, Prediction, gold_from_rows, load_gold, predict, score
from tools.real_corpus import ROOT, read_rows

_ON, _IN = "dossiers.resolved_on_time", "dossiers.resolved_in_time"
TWIN = {_ON: _IN, _IN: _ON}  # the two readings of "đúng hạn N" alone
_EARLY = re.compile(r"trước hạn|sớm hạn|trước thời hạn")


def _sentence(text: str, evidence: str) -> str:
    at = text.find(evidence)
    start = max(text.rfind(".", 0, at), text.rfind("\n", 0, at)) + 1
    ends = [e for e in (text.find(".", at + len(evidence)), text.find("\n", at + len(evidence))) if e != -1]
    return text[start: min(ends or [len(text)])].lower()


def on_time_alone(row: dict, docs: Path) -> bool:
    """Whether a gold row is a "đúng hạn N" with no early figure in its sentence: a figure with
    two readings (NOTES.md, "đúng hạn N alone has two readings")."""
    if row.get("metric") not in TWIN:
        return False
    s = _sentence((docs / row["doc"]).read_text(encoding="utf-8"), row["evidence"])
    return "đúng hạn" in s and not _EARLY.search(s)


def with_reading_twins(rows: list[dict], docs: Path) -> list[dict]:
    """The rows plus, for each "đúng hạn N" alone, the other reading as an optional twin."""
    out: list[dict] = []
    for r in rows:
        out.append(r)
        if not on_time_alone(r, docs):
            continue
        twin = TWIN[r["metric"]]
        if not any(x.get("doc") == r["doc"] and x.get("metric") == twin and x.get("kind") == r["kind"]
                   and abs(x["value"] - r["value"]) <= 0.01 for x in rows + out):
            out.append({**r, "metric": twin, "optional": True})
    return out


def _load(path: Path, docs: Path, keep: set[str] | None = None) -> Gold:
    rows = with_reading_twins(read_rows(path), docs)
    if keep is not None:
        rows = [r for r in rows if (r["doc_meta"]["doc"] if "doc_meta" in r else r["doc"]) in keep]
    return gold_from_rows([(str(path), r) for r in rows])


def as_predictions(gold: Gold, required_only: bool) -> dict[str, list[Prediction]]:
    """A labeller's facts as an extractor's output."""
    out: dict[str, list[Prediction]] = {d: [] for d in gold.docs}
    for g in gold.facts:
        if required_only and g.optional:
            continue
        out[g.doc].append(Prediction(g.doc, g.metric, g.kind, g.value, g.evidence, "labeller"))
    return out


def _line(name: str, report: dict) -> str:
    o = report["overall"]
    return (f"{name:44} P {o['precision']:.3f} R {o['recall']:.3f} F1 {o['f1']:.3f} "
            f"(tp {o['tp']}, fp {o['fp']}, fn {o['fn']})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--docs", type=Path, default=ROOT / "docs")
    parser.add_argument("--extractor", action="store_true", help="score the extractor against each too")
    args = parser.parse_args()
    shared = set(load_gold(args.a).docs) & set(load_gold(args.b).docs)
    a, b = _load(args.a, args.docs, shared), _load(args.b, args.docs, shared)
    print(f"{len(shared)} documents; A: {sum(not g.optional for g in a.facts)} required facts, "
          f"B: {sum(not g.optional for g in b.facts)}")
    for name, gold, other in (("B against A", a, b), ("A against B", b, a)):
        print(_line(f"{name}, required facts as output", score(gold, as_predictions(other, True), {})))
        print(_line(f"{name}, all facts as output", score(gold, as_predictions(other, False), {})))
    if args.extractor:
        for name, gold in (("extractor against A", a), ("extractor against B", b)):
            predictions, _meta, _rows = predict(gold, args.docs)
            print(_line(name, score(gold, predictions, {})))


if __name__ == "__main__":
    main()
