"""Which loaded documents are versions of the same report.

A re-sent report with corrections (new bytes) replaces the current version of the report
with the same key; the old version stays in document_versions as history.

Key = document type | place | period, where
  place  = ward code, else province + commune name (case-folded), and
  period = period start..end, else the as-of date.
When the place or the period is unknown the key also carries the file name (case-folded,
without extension), so two different reports with missing metadata never replace each
other, while the same file re-sent under its name with corrections still does.

A re-sent file whose period can now be read (a better scan, a fixed typo) also replaces the
version of the same file, type and place whose period could not be read: see superseded_keys.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from pathlib import PurePath

from commune_metrics.core.model import DocMeta


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def document_key(meta: DocMeta | None, source_file: str) -> str:
    meta = meta or DocMeta()
    place: str | None = None
    if meta.ward_code is not None:
        place = f"ward:{meta.ward_code}"
    elif meta.commune:
        place = f"commune:{_fold(meta.province or '')}/{_fold(meta.commune)}"

    period: str | None = None
    if meta.period_start or meta.period_end:
        period = f"{meta.period_start or ''}..{meta.period_end or ''}"
    elif meta.as_of:
        period = f"asof:{meta.as_of}"

    parts = [meta.doc_type or "other", place or "place:?", period or "period:?"]
    if place is None or period is None:
        parts.append("file:" + _fold(PurePath(source_file).stem))
    return "|".join(parts)


def superseded_keys(meta: DocMeta | None, source_file: str) -> list[str]:
    """Keys whose current version a new document replaces: its own key, and the key the same
    file (same type and place) had when its period was unreadable."""
    key = document_key(meta, source_file)
    undated = document_key(replace(meta or DocMeta(), period_start=None, period_end=None, as_of=None),
                           source_file)
    return [key] if undated == key else [key, undated]
