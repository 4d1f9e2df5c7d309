"""Which loaded documents are versions of the same report.

A document is its reporting unit + document type + period + its own number ("Số: 87/BC-UBND")
when it has one, otherwise its subject (trích yếu). A new file is a version of a loaded
document only when it is the same document:
- the unit and the type are equal, and the periods are equal or one of them is unknown
  (a better scan of the same report may now show the period the first one hid);
- and then, in this order: both carry a number -> the numbers decide (equal or not);
  both carry a subject -> the subjects must be at least SUBJECT_THRESHOLD similar;
  otherwise the texts must be at least BODY_THRESHOLD similar (MinHash of word 5-grams);
  with no number, subject or text on either side (hand-made results in tests) the slot alone
  decides, as before.
Two different reports of one commune and month (a report on Plan 02 and one on Resolution 57)
therefore both stay current. The file name plays no part: the same plan under 50 names is
one document, and a different report under the old name is not a version of it.

Versions are ordered by issue date, then by arrival (the run, then the file's modification
time within a run), never by file name: an original and its correction dropped together end
in the right order whatever their names. The latest is current; the others stay as history.
The thresholds are measured in docs/identity.md (tools/identity_threshold.py).
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from commune_metrics.core.model import DocMeta
from commune_metrics.core.similarity import (
    BODY_THRESHOLD,
    SUBJECT_THRESHOLD,
    body_similarity,
    fold,
    subject_similarity,
)


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def place_of(meta: DocMeta | None) -> str:
    meta = meta or DocMeta()
    if meta.ward_code is not None:
        return f"ward:{meta.ward_code}"
    if meta.commune:
        return f"commune:{_fold(meta.province or '')}/{_fold(meta.commune)}"
    return "place:?"


def period_of(meta: DocMeta | None) -> str | None:
    meta = meta or DocMeta()
    if meta.period_start or meta.period_end:
        return f"{meta.period_start or ''}..{meta.period_end or ''}"
    if meta.as_of:
        return f"asof:{meta.as_of}"
    return None


def slot_of(meta: DocMeta | None) -> str:
    """Type | place: the part of the identity that must be equal."""
    return f"{(meta or DocMeta()).doc_type or 'other'}|{place_of(meta)}"


def document_key(meta: DocMeta | None, source_file: str | None = None, text_sha256: str | None = None) -> str:
    """A readable id for a new document: slot | period | number, else subject, else text hash.
    A later version inherits the key of the document it joins (see match_version), so the key
    names the first version's identity. `source_file` is not used: names do not identify."""
    meta = meta or DocMeta()
    what = (f"no:{meta.doc_number}" if meta.doc_number
            else f"subject:{fold(meta.subject)[:80]}" if meta.subject
            else f"text:{text_sha256[:16]}" if text_sha256 else "unnamed")
    return f"{slot_of(meta)}|{period_of(meta) or 'period:?'}|{what}"


@dataclass(frozen=True)
class Version:
    """A loaded version, as the matcher and the ordering see it."""

    doc_id: int
    doc_key: str
    source_file: str
    period: str | None
    doc_number: str | None
    subject: str | None
    signature: list[int] | None
    issued_on: date | None
    run_id: int | None
    arrived_at: datetime | None
    is_current: bool = True


@dataclass(frozen=True)
class Match:
    version: Version
    why: str  # "same số 87/BC-UBND", "same subject (0.93 similar)"...
    score: float


def match_version(meta: DocMeta | None, signature: list[int] | None,
                  candidates: list[Version]) -> Match | None:
    """The loaded document (one of `candidates`: current versions of the same slot) that the new
    file is a version of, or None: it is a document of its own."""
    meta = meta or DocMeta()
    period = period_of(meta)
    best: Match | None = None
    for c in candidates:
        if period is not None and c.period is not None and period != c.period:
            continue
        match = _same_document(meta, signature, c)
        if match is not None and (best is None or match.score > best.score):
            best = match
    return best


def _same_document(meta: DocMeta, signature: list[int] | None, c: Version) -> Match | None:
    if meta.doc_number and c.doc_number:
        if meta.doc_number.upper() == c.doc_number.upper():
            return Match(c, f"same số {meta.doc_number}", 2.0)  # a number beats any similarity
        return None
    subject = subject_similarity(meta.subject, c.subject)
    if subject is not None:
        return Match(c, f"same subject ({subject:.2f} similar)", 1.0 + subject) \
            if subject >= SUBJECT_THRESHOLD else None
    body = body_similarity(signature, c.signature)
    if body is not None:
        return Match(c, f"same text ({body:.2f} similar)", body) if body >= BODY_THRESHOLD else None
    return Match(c, "same unit, type and period", 0.0)


def _later(a: Version, b: Version) -> bool:
    """True when `a` is a later version than `b`: issue date first, then arrival."""
    if a.issued_on and b.issued_on and a.issued_on != b.issued_on:
        return a.issued_on > b.issued_on
    run_a, run_b = a.run_id or 0, b.run_id or 0
    if run_a != run_b:
        return run_a > run_b
    if a.arrived_at and b.arrived_at and a.arrived_at != b.arrived_at:
        return a.arrived_at > b.arrived_at
    return a.doc_id > b.doc_id  # the order they were loaded in


def in_version_order(versions: list[Version]) -> list[Version]:
    """Oldest first; the last one is the current version."""
    def compare(a: Version, b: Version) -> int:
        return 0 if a.doc_id == b.doc_id else (1 if _later(a, b) else -1)

    return sorted(versions, key=functools.cmp_to_key(compare))
