"""Score extraction against a gold file: `commune-metrics eval --gold FILE.jsonl --docs DIR [--json]`.

Gold format (../shared/gold/seeds.jsonl): one JSON object per line, either
  {"doc_meta": {"doc": NAME, "doc_type": ..., "commune": ..., "province": ..., "ward_code": ...,
                "period_start": ..., "period_end": ..., "signer": ...}}
or a fact {"doc": NAME, "metric": CODE, "kind": ..., "value": ..., "optional": bool, "evidence": ...}.

A fact matches on (document, metric, kind, value) with values equal within 0.01; the qualifier
is not part of the key. Optional gold facts are neither required nor penalized. Predictions
and gold are compared as sets of keys per document (the same figure written twice is one fact).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOLERANCE = 0.01
META_FIELDS = ("doc_type", "commune", "province", "ward_code", "period_start", "period_end", "signer")


class GoldError(ValueError):
    pass


@dataclass
class GoldFact:
    doc: str
    metric: str
    kind: str
    value: float
    optional: bool
    evidence: str = ""


@dataclass
class Gold:
    facts: list[GoldFact] = field(default_factory=list)
    meta: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def docs(self) -> list[str]:
        names = dict.fromkeys(list(self.meta) + [f.doc for f in self.facts])
        return list(names)


def load_gold(path: Path) -> Gold:
    gold = Gold()
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise GoldError(f"{path}:{n}: not JSON ({exc})") from exc
        if "doc_meta" in row:
            meta = row["doc_meta"]
            gold.meta[meta["doc"]] = meta
            continue
        try:
            gold.facts.append(GoldFact(row["doc"], row["metric"], row["kind"], float(row["value"]),
                                       bool(row.get("optional", False)), row.get("evidence", "")))
        except (KeyError, TypeError, ValueError) as exc:
            raise GoldError(f"{path}:{n}: not a gold fact ({exc})") from exc
    return gold


@dataclass
class Prediction:
    doc: str
    metric: str
    kind: str
    value: float
    evidence: str
    extractor: str


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= TOLERANCE


def _key_match(p: Prediction, g: GoldFact) -> bool:
    return p.metric == g.metric and p.kind == g.kind and _same(p.value, g.value)


def _unique_preds(preds: list[Prediction]) -> list[Prediction]:
    seen: list[Prediction] = []
    for p in preds:
        if not any(q.metric == p.metric and q.kind == p.kind and _same(q.value, p.value) for q in seen):
            seen.append(p)
    return seen


def _unique_gold(facts: list[GoldFact]) -> list[GoldFact]:
    out: list[GoldFact] = []
    for g in facts:
        twin = next((h for h in out if h.metric == g.metric and h.kind == g.kind and _same(h.value, g.value)),
                    None)
        if twin is None:
            out.append(g)
        elif twin.optional and not g.optional:
            out[out.index(twin)] = g  # required wins over optional
    return out


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else (1.0 if not fn else 0.0)
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "tp": tp, "fp": fp, "fn": fn}


def score(gold: Gold, predictions: dict[str, list[Prediction]],
          predicted_meta: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Pure scoring: gold + predictions per document -> the report (also the --json output)."""
    per_metric: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    misses: list[dict] = []
    false_hits: list[dict] = []
    tp = fp = fn = 0
    by_doc: dict[str, list[GoldFact]] = defaultdict(list)
    for g in gold.facts:
        by_doc[g.doc].append(g)
    for doc in gold.docs:
        golds = _unique_gold(by_doc.get(doc, []))
        preds = _unique_preds(predictions.get(doc, []))
        for g in golds:
            if g.optional:
                continue
            if any(_key_match(p, g) for p in preds):
                tp += 1
                per_metric[g.metric][0] += 1
            else:
                fn += 1
                per_metric[g.metric][2] += 1
                misses.append({"doc": doc, "metric": g.metric, "kind": g.kind, "value": g.value,
                               "evidence": g.evidence})
        for p in preds:
            if any(_key_match(p, g) for g in golds):
                continue
            fp += 1
            per_metric[p.metric][1] += 1
            false_hits.append({"doc": doc, "metric": p.metric, "kind": p.kind, "value": p.value,
                               "evidence": p.evidence, "extractor": p.extractor})
    meta_scores: dict[str, dict[str, Any]] = {}
    for name in META_FIELDS:
        total = correct = 0
        wrong: list[dict] = []
        for doc, meta in gold.meta.items():
            if name not in meta:
                continue
            total += 1
            want = meta[name]
            got = predicted_meta.get(doc, {}).get(name)
            if _meta_equal(want, got):
                correct += 1
            else:
                wrong.append({"doc": doc, "gold": want, "predicted": got})
        meta_scores[name] = {"accuracy": round(correct / total, 4) if total else None,
                             "correct": correct, "total": total, "wrong": wrong}
    return {
        "documents": len(gold.docs),
        "overall": _prf(tp, fp, fn),
        "per_metric": {m: _prf(*c) for m, c in sorted(per_metric.items())},
        "metadata": meta_scores,
        "misses": misses,
        "false_hits": false_hits,
    }


def _meta_equal(want: Any, got: Any) -> bool:
    if want is None or got is None:
        return want is None and got is None
    if hasattr(got, "isoformat"):
        got = got.isoformat()
    if isinstance(want, (int, float)) and not isinstance(want, bool):
        try:
            return float(want) == float(got)
        except (TypeError, ValueError):
            return False
    return " ".join(str(want).split()).casefold() == " ".join(str(got).split()).casefold()


def predict(gold: Gold, docs_dir: Path) -> tuple[dict[str, list[Prediction]], dict[str, dict], list[dict]]:
    """Extract every gold document found in docs_dir."""
    from commune_metrics.core.errors import ReaderError
    from commune_metrics.extract.extractor import extract
    from commune_metrics.readers import load_document

    predictions: dict[str, list[Prediction]] = {}
    metas: dict[str, dict] = {}
    errors: list[dict] = []
    for name in gold.docs:
        path = Path(docs_dir) / name
        if not path.is_file():
            errors.append({"doc": name, "error": f"not found in {docs_dir}"})
            continue
        try:
            extraction = extract(load_document(path))
        except ReaderError as exc:
            errors.append({"doc": name, "error": str(exc)})
            continue
        # what analysts compare: the verified figures of the reporting unit itself (contract v2)
        predictions[name] = [
            Prediction(name, f.metric, f.kind, f.value, f.evidence, f.extractor)
            for f in extraction.facts if f.accepted and f.scope == "self"
        ]
        metas[name] = {k: getattr(extraction.meta, k, None) for k in META_FIELDS}
    return predictions, metas, errors


def evaluate(gold_path: Path, docs_dir: Path) -> dict[str, Any]:
    gold = load_gold(gold_path)
    predictions, metas, errors = predict(gold, docs_dir)
    report = score(gold, predictions, metas)
    report["errors"] = errors
    return report


def _print_report(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    o = report["overall"]
    console.print(
        f"[bold]{report['documents']} documents[/bold]  precision {o['precision']:.3f}  "
        f"recall {o['recall']:.3f}  F1 {o['f1']:.3f}  (tp {o['tp']}, fp {o['fp']}, fn {o['fn']})"
    )
    table = Table(title="Per metric")
    for col in ("metric", "P", "R", "F1", "tp", "fp", "fn"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for m, s in report["per_metric"].items():
        table.add_row(m, f"{s['precision']:.2f}", f"{s['recall']:.2f}", f"{s['f1']:.2f}",
                      str(s["tp"]), str(s["fp"]), str(s["fn"]))
    console.print(table)
    meta = Table(title="Metadata accuracy")
    for col in ("field", "accuracy", "correct/total"):
        meta.add_column(col)
    for name, s in report["metadata"].items():
        acc = "-" if s["accuracy"] is None else f"{s['accuracy']:.2f}"
        meta.add_row(name, acc, f"{s['correct']}/{s['total']}")
    console.print(meta)
    for title, rows in (("Misses", report["misses"]), ("False hits", report["false_hits"])):
        if not rows:
            continue
        console.print(f"[bold]{title}[/bold] ({len(rows)})")
        for r in rows[:200]:
            console.print(f"  {r['doc']}  {r['metric']} {r['kind']} {r['value']:g}  | {r['evidence'][:160]}",
                          markup=False, highlight=False)
    for name, s in report["metadata"].items():
        for w in s["wrong"][:50]:
            console.print(f"  meta {name}: {w['doc']} gold={w['gold']!r} predicted={w['predicted']!r}",
                          markup=False, highlight=False)
    for e in report.get("errors", []):
        console.print(f"  [red]error[/red] {e['doc']}: {e['error']}")


def run_eval(gold: Path, docs: Path, as_json: bool = False) -> int:
    """Print the evaluation report (rich, or JSON with as_json); return the exit code."""
    gold, docs = Path(gold), Path(docs)
    if not gold.is_file():
        print(f"gold file not found: {gold}")
        return 2
    if not docs.is_dir():
        print(f"documents folder not found: {docs}")
        return 2
    try:
        report = evaluate(gold, docs)
    except GoldError as exc:
        print(f"bad gold file: {exc}")
        return 2
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    else:
        _print_report(report)
    return 0
