"""Document metadata (type, commune, province, ward code, period, issue date, signer).

Placeholder until the metadata extractor lands: only the document type.
"""

from __future__ import annotations

import re

from extractors.model import DocMeta
from pipeline.document import Document


def extract_meta(doc: Document) -> DocMeta:
    head = doc.text[:600].upper()
    if re.search(r"\bKẾ HOẠCH\b", head) and not re.search(r"\bBÁO CÁO\b", head[:200]):
        return DocMeta(doc_type="plan")
    if re.search(r"\bBÁO CÁO\b", head):
        return DocMeta(doc_type="report")
    return DocMeta(doc_type="other")
