"""The extraction corpus: language phenomena the fact extractor must handle, as data.

Modelled on Duckling's Corpus.hs with its negativeCorpus. Every file in tests/corpus/extraction/
(one per family of phenomena) is a YAML list of entries:

    - id: ratio-label-part-met          # unique across all files
      doc_type: report                  # optional: report (default), plan, other
      note: what the entry pins down    # required
      texts: ["...", "..."]             # paraphrases; each is checked on its own
      expect: [{metric: criteria.met, value: 9, kind: actual}]   # each must be produced
      reject: [{metric: criteria.total, value: 9}]               # none may be produced
      exact: false                      # optional; true: every produced fact is in `expect`
      normalized_lines: 2               # optional; the normalized text has this many lines

In `expect` an item needs `metric` and `value`; in `reject` an item needs `metric` or `value`.
A field left out matches anything: `{metric: m}` is any value and kind of m, `{value: 6}` is
any metric with the value 6, and no `kind` is any kind. Values compare rounded to 2 decimals.
An entry must check something: `expect`, `reject`, `exact` or `normalized_lines`.

Every (entry, text) is its own test, with the id `<file>:<id>:<n>` (n counts the texts from 0).
The text goes through `normalize_text`, then `extract_facts(Document(...), doc_type)`.
`test_every_metric_has_positive_and_negative_cases` prints the per-metric coverage (run with -s).

Every case is our own wording, never copied from a seed document or a generated phrase set.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from commune_metrics.core.document import Document
from commune_metrics.core.model import DOC_TYPES, KINDS
from commune_metrics.extract.extractor import extract_facts
from commune_metrics.extract.metadata import extract_meta
from commune_metrics.extract.rules import load_catalog
from commune_metrics.readers.normalize import normalize_text

CORPUS_DIR = Path(__file__).resolve().parent / "corpus" / "extraction"
CATALOG = frozenset(m.code for m in load_catalog())

ENTRY_KEYS = {"id", "doc_type", "note", "texts", "expect", "reject", "exact", "normalized_lines"}
REQUIRED_KEYS = {"id", "note", "texts"}
ITEM_KEYS = {"metric", "value", "kind", "scope", "status"}
SCOPES = ("self", "sub_unit", "other_unit", "higher_level", "earlier_period", "unknown")
STATUSES = ("accepted", "review")
ID_RX = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

# (metric, kind, value, scope, status)
FactKey = tuple[str, str, float, str, str]


@dataclass(frozen=True)
class Item:
    """A fact pattern: a field that is None matches anything (scope and status too, so a case
    that names neither is about the candidate, whatever its scope or verification)."""

    metric: str | None
    value: float | None
    kind: str | None
    scope: str | None = None
    status: str | None = None

    def matches(self, fact: FactKey) -> bool:
        metric, kind, value, scope, status = fact
        return (
            (self.metric is None or self.metric == metric)
            and (self.value is None or self.value == value)
            and (self.kind is None or self.kind == kind)
            and (self.scope is None or self.scope == scope)
            and (self.status is None or self.status == status)
        )

    def __str__(self) -> str:
        parts = [
            f"metric={self.metric}" if self.metric else "any metric",
            f"value={self.value:g}" if self.value is not None else "any value",
            f"kind={self.kind}" if self.kind else "any kind",
            *([f"scope={self.scope}"] if self.scope else []),
            *([f"status={self.status}"] if self.status else []),
        ]
        return ", ".join(parts)


@dataclass(frozen=True)
class Entry:
    file: str  # stem of the YAML file
    id: str
    doc_type: str
    note: str
    texts: tuple[str, ...]
    expect: tuple[Item, ...]
    reject: tuple[Item, ...]
    exact: bool
    normalized_lines: int | None


def _item(raw: Any, where: str, section: str, problems: list[str]) -> Item | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: each {section} item must be a mapping, got {raw!r}")
        return None
    unknown = set(raw) - ITEM_KEYS
    if unknown:
        problems.append(f"{where}: unknown key(s) {sorted(unknown)} in {section} item {raw!r}")
    metric, value, kind = raw.get("metric"), raw.get("value"), raw.get("kind")
    if section == "expect" and (metric is None or value is None):
        problems.append(f"{where}: an expect item needs metric and value, got {raw!r}")
    if section == "reject" and metric is None and value is None:
        problems.append(f"{where}: a reject item needs metric or value, got {raw!r}")
    if metric is not None and metric not in CATALOG:
        problems.append(f"{where}: unknown metric code {metric!r} in {section} (not in rules/metrics.yaml)")
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
        problems.append(f"{where}: value must be a number, got {value!r} in {section}")
        value = None
    if kind is not None and kind not in KINDS:
        problems.append(f"{where}: unknown kind {kind!r} in {section} (one of {', '.join(KINDS)})")
    scope, status = raw.get("scope"), raw.get("status")
    if scope is not None and scope not in SCOPES:
        problems.append(f"{where}: unknown scope {scope!r} in {section} (one of {', '.join(SCOPES)})")
    if status is not None and status not in STATUSES:
        problems.append(f"{where}: unknown status {status!r} in {section} (one of {', '.join(STATUSES)})")
    return Item(metric, None if value is None else round(float(value), 2), kind, scope, status)


def _entry(raw: Any, file: str, n: int, problems: list[str]) -> Entry | None:
    if not isinstance(raw, dict):
        problems.append(f"{file}.yaml: entry #{n} must be a mapping, got {type(raw).__name__}")
        return None
    where = f"{file}.yaml: {raw.get('id', f'entry #{n} (no id)')}"
    before = len(problems)
    unknown = set(raw) - ENTRY_KEYS
    if unknown:
        problems.append(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(ENTRY_KEYS)}")
    missing = REQUIRED_KEYS - set(raw)
    if missing:
        problems.append(f"{where}: missing field(s) {sorted(missing)}")
    if "id" in raw and not (isinstance(raw["id"], str) and ID_RX.fullmatch(raw["id"])):
        problems.append(f"{where}: id must be lower-case words joined by '-', got {raw['id']!r}")
    if not isinstance(raw.get("note", ""), str) or not str(raw.get("note", "x")).strip():
        problems.append(f"{where}: note must be a non-empty string")
    doc_type = raw.get("doc_type", "report")
    if doc_type not in DOC_TYPES:
        problems.append(f"{where}: unknown doc_type {doc_type!r} (one of {', '.join(DOC_TYPES)})")
    texts = raw.get("texts", [])
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) and t.strip() for t in texts):
        problems.append(f"{where}: texts must be a non-empty list of non-empty strings")
        texts = []
    elif len(set(texts)) != len(texts):
        problems.append(f"{where}: a text is listed twice")
    items: dict[str, list[Item]] = {}
    for section in ("expect", "reject"):
        listed = raw.get(section, [])
        if not isinstance(listed, list):
            problems.append(f"{where}: {section} must be a list")
            listed = []
        items[section] = [i for r in listed if (i := _item(r, where, section, problems)) is not None]
    exact = raw.get("exact", False)
    if not isinstance(exact, bool):
        problems.append(f"{where}: exact must be true or false, got {exact!r}")
    lines = raw.get("normalized_lines")
    if lines is not None and (isinstance(lines, bool) or not isinstance(lines, int) or lines < 1):
        problems.append(f"{where}: normalized_lines must be a positive integer, got {lines!r}")
    if not (items["expect"] or items["reject"] or exact is True or lines is not None):
        problems.append(f"{where}: checks nothing (give expect, reject, exact or normalized_lines)")
    for e in items["expect"]:
        for r in items["reject"]:
            if r.metric in (None, e.metric) and r.value in (None, e.value) and r.kind in (None, e.kind) \
                    and r.scope in (None, e.scope) and r.status in (None, e.status):
                problems.append(f"{where}: expect item ({e}) is always rejected by ({r})")
    if len(problems) > before:
        return None
    return Entry(file, raw["id"], doc_type, raw["note"].strip(), tuple(texts),
                 tuple(items["expect"]), tuple(items["reject"]), exact, lines)


def load_corpus(directory: Path = CORPUS_DIR) -> tuple[list[Entry], list[str]]:
    """Every entry of every file, and every problem found (an entry with a problem is left out)."""
    entries: list[Entry] = []
    problems: list[str] = []
    seen: dict[str, str] = {}  # id -> file that first used it
    files = sorted(directory.glob("*.yaml"))
    if not files:
        problems.append(f"no corpus files (*.yaml) in {directory}")
    for path in files:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            problems.append(f"{path.name}: not valid YAML: {exc}")
            continue
        if not isinstance(data, list) or not data:
            problems.append(f"{path.name}: must be a non-empty list of entries")
            continue
        for n, raw in enumerate(data):
            entry_id = raw.get("id") if isinstance(raw, dict) else None
            if isinstance(entry_id, str) and entry_id in seen:
                problems.append(f"{path.name}: {entry_id}: id already used in {seen[entry_id]}")
            elif isinstance(entry_id, str):
                seen[entry_id] = path.name
            entry = _entry(raw, path.stem, n, problems)
            if entry is not None:
                entries.append(entry)
    return entries, problems


ENTRIES, PROBLEMS = load_corpus()
CASES = [
    pytest.param(entry, n, id=f"{entry.file}:{entry.id}:{n}")
    for entry in ENTRIES
    for n in range(len(entry.texts))
]


def _facts(text: str, doc_type: str) -> set[FactKey]:
    text = normalize_text(text)
    doc = Document("t.txt", "0", "txt", text, text, paginated=False)
    # the reporting unit and the year its period ends in, as `extract` reads them, so another
    # commune's figure or an earlier year's is told apart
    meta = extract_meta(doc)
    year = meta.period_end.year if meta.period_end else None
    return {(f.metric, f.kind, round(f.value, 2), f.scope, f.status)
            for f in extract_facts(doc, doc_type, own_name=meta.commune, year=year)}


def _show(facts: set[FactKey]) -> str:
    if not facts:
        return "    (nothing)"
    return "\n".join(f"    metric={m}, value={v:g}, kind={k}, scope={sc}, status={st}"
                     for m, k, v, sc, st in sorted(facts))


def test_corpus_is_well_formed() -> None:
    assert not PROBLEMS, "extraction corpus problems:\n" + "\n".join(f"  {p}" for p in PROBLEMS)


@pytest.mark.parametrize(("entry", "n"), CASES)
def test_corpus_case(entry: Entry, n: int) -> None:
    text = entry.texts[n]
    failures: list[str] = []
    if entry.normalized_lines is not None:
        lines = normalize_text(text).count("\n") + 1
        if lines != entry.normalized_lines:
            failures.append(f"normalized text has {lines} line(s), expected {entry.normalized_lines}")
    facts = _facts(text, entry.doc_type)
    failures += [f"missing: {item}" for item in entry.expect if not any(item.matches(f) for f in facts)]
    failures += [
        f"rejected but produced: {item}  <- {f[0]} = {f[2]:g} ({f[1]}, {f[3]}, {f[4]})"
        for item in entry.reject
        for f in sorted(facts)
        if item.matches(f)
    ]
    if entry.exact:
        extra = sorted(f for f in facts if not any(item.matches(f) for item in entry.expect))
        failures += [f"not expected (exact): metric={m}, value={v:g}, kind={k}" for m, k, v, *_ in extra]
    if failures:
        expected = "\n".join(f"    {item}" for item in entry.expect) or "    (nothing)"
        rejected = "\n".join(f"    {item}" for item in entry.reject) or "    (nothing)"
        pytest.fail(
            f"{entry.file}.yaml: {entry.id} (text {n}, doc_type {entry.doc_type}): {entry.note}\n"
            f"  text: {text!r}\n"
            + "\n".join(f"  {f}" for f in failures)
            + f"\n  expected{' exactly' if entry.exact else ''}:\n{expected}\n  rejected:\n{rejected}"
            f"\n  produced:\n{_show(facts)}",
            pytrace=False,
        )


def coverage(entries: list[Entry]) -> dict[str, tuple[int, int]]:
    """metric code -> (entries expecting it, entries rejecting it by name)."""
    expect: Counter[str] = Counter()
    reject: Counter[str] = Counter()
    for entry in entries:
        expect.update({i.metric for i in entry.expect if i.metric})
        reject.update({i.metric for i in entry.reject if i.metric})
    return {code: (expect[code], reject[code]) for code in sorted(CATALOG)}


def test_every_metric_has_positive_and_negative_cases() -> None:
    table = coverage(ENTRIES)
    width = max(map(len, table))
    print(f"\nextraction corpus: {len(ENTRIES)} entries, {len(CASES)} texts")
    print(f"{'metric':<{width}}  expect  reject")
    for code, (n_expect, n_reject) in table.items():
        print(f"{code:<{width}}  {n_expect:>6}  {n_reject:>6}")
    least_expect = min(e for e, _ in table.values())
    least_reject = min(r for _, r in table.values())
    print(f"{'minimum':<{width}}  {least_expect:>6}  {least_reject:>6}")
    uncovered = [
        f"{code} ({' and '.join(w for w, n in (('no expect', e), ('no reject', r)) if not n)})"
        for code, (e, r) in table.items()
        if not e or not r
    ]
    assert not uncovered, "metrics without a positive or a negative case:\n  " + "\n  ".join(uncovered)
