"""Entry point of extraction: Document -> Extraction (metadata + facts).

Placeholder until the rule engine lands: metadata only, no facts.
"""

from __future__ import annotations

from extractors.metadata import extract_meta
from extractors.model import Extraction
from pipeline.document import Document


def extract(doc: Document) -> Extraction:
    return Extraction(meta=extract_meta(doc), facts=[])
