"""`commune-metrics export-labels`: the facts analysts reviewed, as gold JSONL in the format of
../shared/gold/seeds.jsonl (spec/labelling.md), to train and check the verifier.

For each document with at least one reviewed fact: a `doc_meta` line, then one line per
confirmed or corrected fact with the values in force (a corrected metric, kind or value
replaces what was read). A fact whose scope the analyst set to anything but `self` is
`"optional": true`, as the labelling guide asks for figures about another unit. Rejected facts
are not gold; `--negatives FILE` writes them separately (same fields plus `why`). doc_meta
also says how many of the document's facts were reviewed: only a fully reviewed document is a
complete gold document (`"complete": true`).

With `docs`, each document's normalized text (as the warehouse stored it when it was loaded) is
written there as `<stem>-<sha256[:8]>.txt`, and that file name is the `doc` of its lines: the
folder is then a batch `make train` can learn from (tools/train_verifier.py, `tests/corpus/reviewed/`).
A document loaded before texts were stored has no text to write: its lines keep the source name
and doc_meta says `"text": false`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb


@dataclass
class ExportSummary:
    documents: int
    facts: int
    negatives: int
    texts: int = 0  # documents whose text was written (with `docs`)


def _plain(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else float(value)


def _date(d) -> str | None:
    return d.isoformat() if d is not None else None


def export_labels(con: duckdb.DuckDBPyConnection, out: Path, negatives: Path | None = None,
                  docs: Path | None = None) -> ExportSummary:
    rows = con.execute("""
        SELECT d.sha256, d.source_file, d.commune, d.province, d.ward_code, d.doc_type, d.period_start,
               d.period_end, d.signer, count(*) AS facts, count(*) FILTER (WHERE f.reviewed) AS reviewed
        FROM document_versions d
        JOIN facts_corrected f ON f.doc_sha256 = d.sha256
        WHERE d.is_current
        GROUP BY ALL
        HAVING count(*) FILTER (WHERE f.reviewed) > 0
        ORDER BY d.source_file""").fetchall()
    lines: list[dict] = []
    negative_lines: list[dict] = []
    texts: list[tuple[Path, str]] = []
    n_facts = 0
    for sha, source, commune, province, ward, doc_type, start, end, signer, total, reviewed in rows:
        name = source
        meta = {"commune": commune, "province": province, "ward_code": ward, "doc_type": doc_type,
                "period_start": _date(start), "period_end": _date(end), "signer": signer,
                "reviewed_facts": reviewed, "facts": total, "complete": reviewed == total, "doc_sha256": sha}
        if docs is not None:
            stored = con.execute("SELECT text FROM document_texts WHERE sha256 = ?", [sha]).fetchone()
            meta["text"] = stored is not None
            if stored is not None:
                name = f"{Path(source).stem}-{sha[:8]}.txt"
                texts.append((Path(docs) / name, stored[0]))
        lines.append({"doc_meta": {"doc": name, **meta}})
        reviewed_facts = con.execute(
            """SELECT metric, kind, value, original_value, unit, qualifier, evidence, scope, rejected,
                      corrected_why, corrected_by
               FROM facts_corrected WHERE doc_sha256 = ? AND reviewed
               ORDER BY char_start, metric""", [sha]).fetchall()
        for (metric, kind, value, original, unit, qualifier, evidence, scope, rejected, why,
             who) in reviewed_facts:
            record = {"doc": name, "metric": metric, "kind": kind, "value": _plain(value), "unit": unit,
                      "qualifier": qualifier, "optional": scope not in (None, "self"), "evidence": evidence}
            if rejected:
                negative_lines.append({**record, "value": _plain(original), "why": why, "who": who})
            else:
                lines.append(record)
                n_facts += 1
    for path, text in texts:
        _write_text(path, text)
    _write(out, lines)
    if negatives is not None:
        _write(negatives, negative_lines)
    return ExportSummary(len(rows), n_facts, len(negative_lines), len(texts))


def _write(path: Path, lines: list[dict]) -> None:
    _write_text(path, "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))


def _write_text(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
