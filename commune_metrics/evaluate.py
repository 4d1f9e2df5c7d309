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
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append((f"{path}:{n}", json.loads(line)))
        except json.JSONDecodeError as exc:
            raise GoldError(f"{path}:{n}: not JSON ({exc})") from exc
    return gold_from_rows(rows)


def gold_from_rows(rows: list[tuple[str, dict]]) -> Gold:
    """Gold from parsed lines, each with where it comes from (for the error message)."""
    gold = Gold()
    for where, row in rows:
        if "doc_meta" in row:
            meta = row["doc_meta"]
            gold.meta[meta["doc"]] = meta
            continue
        try:
            gold.facts.append(GoldFact(row["doc"], row["metric"], row["kind"], float(row["value"]),
                                       bool(row.get("optional", False)), row.get("evidence", "")))
        except (KeyError, TypeError, ValueError) as exc:
            raise GoldError(f"{where}: not a gold fact ({exc})") from exc
    return gold


@dataclass
class Prediction:
    doc: str
    metric: str
    kind: str
    value: float
    evidence: str
    extractor: str
    confidence: float = 1.0


# Confidence bins of the reliability table: a calibrated 0.9 must be right 9 times in 10.
BINS = (0.0, 0.5, 0.7, 0.8, 0.9, 1.0001)


def reliability(gold: Gold, predictions: dict[str, list[Prediction]]) -> list[dict[str, Any]]:
    """Per confidence bin: how many predicted facts, and the share that are right (a gold
    fact of the document, required or optional)."""
    rows = []
    for lo, hi in zip(BINS, BINS[1:], strict=False):
        n = right = 0
        for doc, preds in predictions.items():
            golds = [g for g in gold.facts if g.doc == doc]
            for p in _unique_preds(preds):
                if lo <= p.confidence < hi:
                    n += 1
                    right += any(_key_match(p, g) for g in golds)
        rows.append({"bin": f"{lo:.1f}-{min(hi, 1.0):.1f}", "facts": n,
                     "right": round(right / n, 4) if n else None})
    return rows


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
            Prediction(name, f.metric, f.kind, f.value, f.evidence, f.extractor, f.confidence)
            for f in extraction.facts if f.accepted and f.scope == "self"
        ]
        metas[name] = {k: getattr(extraction.meta, k, None) for k in META_FIELDS}
    return predictions, metas, errors


def predict_from_warehouse(gold: Gold, warehouse: Path) -> tuple[dict[str, list[Prediction]], dict[str, dict],
                                                                  list[dict]]:
    """What analysts see: the `facts` view (verified, scope self) and the `documents` view of a
    warehouse, for every gold document loaded there (matched by file name)."""
    from commune_metrics.warehouse import connect_readonly

    con = connect_readonly(warehouse)
    try:
        rows = con.execute("SELECT source_file, metric, kind, value, evidence, extractor, confidence "
                           "FROM facts WHERE scope = 'self'").fetchall()
        docs = con.execute(f"SELECT source_file, status, {', '.join(META_FIELDS)} FROM documents").fetchall()
    finally:
        con.close()
    predictions: dict[str, list[Prediction]] = {}
    metas: dict[str, dict] = {}
    errors: list[dict] = []
    wanted = set(gold.docs)
    for name, status, *meta in docs:
        if name in wanted and status == "loaded":
            metas[name] = dict(zip(META_FIELDS, meta, strict=True))
            predictions.setdefault(name, [])
    for name, metric, kind, value, evidence, extractor, confidence in rows:
        if name in wanted:
            predictions.setdefault(name, []).append(
                Prediction(name, metric, kind, float(value), evidence, extractor, float(confidence)))
    errors += [{"doc": n, "error": f"not a current document of {warehouse}"}
               for n in gold.docs if n not in metas]
    return predictions, metas, errors


def ingest_copy(docs_dir: Path, workdir: Path) -> Path:
    """Ingest a copy of every file of docs_dir into a new warehouse under workdir (the originals
    are never touched); return the warehouse."""
    import shutil

    from commune_metrics.ingest.inbox import ingest

    inbox = workdir / "inbox"
    shutil.copytree(docs_dir, inbox)
    warehouse = workdir / "warehouse.duckdb"
    ingest([inbox], warehouse=warehouse, archive_root=workdir / "archive", settle_seconds=0)
    return warehouse


def evaluate(gold_path: Path, docs_dir: Path | None = None, warehouse: Path | None = None) -> dict[str, Any]:
    """Score the extractor in memory (docs_dir), or the views of a warehouse (warehouse)."""
    gold = load_gold(gold_path)
    if warehouse is not None:
        predictions, metas, errors = predict_from_warehouse(gold, warehouse)
    else:
        assert docs_dir is not None
        predictions, metas, errors = predict(gold, docs_dir)
    report = score(gold, predictions, metas)
    report["reliability"] = reliability(gold, predictions)
    report["errors"] = errors
    report["source"] = f"warehouse {warehouse}" if warehouse is not None else f"extractor on {docs_dir}"
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
    rel = Table(title="Reliability (confidence of the facts scored; share that are right)")
    for col in ("confidence", "facts", "right"):
        rel.add_column(col, justify="right")
    for row in report.get("reliability", []):
        rel.add_row(row["bin"], str(row["facts"]), "-" if row["right"] is None else f"{row['right']:.2f}")
    console.print(rel)
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


def run_eval(gold: Path, docs: Path | None, as_json: bool = False, warehouse: Path | None = None,
             through_warehouse: bool = False) -> int:
    """Print the evaluation report (rich, or JSON with as_json); return the exit code.
    With `warehouse`, score that warehouse's views; with `through_warehouse`, ingest a copy of
    `docs` into a temporary warehouse first and score its views (what analysts see)."""
    import tempfile

    gold = Path(gold)
    if not gold.is_file():
        print(f"gold file not found: {gold}")
        return 2
    if docs is None and warehouse is None:
        print("give --docs DIR, or --warehouse FILE")
        return 2
    if docs is not None and not Path(docs).is_dir():
        print(f"documents folder not found: {docs}")
        return 2
    if warehouse is not None and not Path(warehouse).is_file():
        print(f"warehouse not found: {warehouse}")
        return 2
    try:
        if through_warehouse and docs is not None:
            with tempfile.TemporaryDirectory(prefix="cm-eval-") as tmp:
                report = evaluate(gold, warehouse=ingest_copy(Path(docs), Path(tmp)))
                report["source"] = f"ingest of a copy of {docs}, then the views"
        else:
            report = evaluate(gold, None if docs is None else Path(docs), warehouse)
    except GoldError as exc:
        print(f"bad gold file: {exc}")
        return 2
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    else:
        _print_report(report)
    return 0
