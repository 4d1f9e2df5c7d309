"""The two objects readers and the normalizer hand downstream.

A reader yields a RawDocument (one string per page, as extracted). The normalizer turns it
into a Document whose text is normalized and whose page map is expressed in offsets of
that normalized text, so evidence spans point at the text analysts see.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RawPage:
    text: str
    ocr: bool = False


@dataclass
class RawDocument:
    source_name: str
    sha256: str
    file_type: str  # "pdf" | "docx" | "txt"
    pages: list[RawPage]
    paginated: bool = True  # False for TXT/DOCX: page numbers are not meaningful
    encoding_fixed: str | None = None  # tcvn3 / vni / cp1258: legacy text converted to Unicode


@dataclass(frozen=True)
class PageSpan:
    number: int  # 1-based
    start: int  # offset in Document.text, inclusive
    end: int  # exclusive
    ocr: bool = False


@dataclass
class Document:
    source_name: str
    sha256: str
    file_type: str
    text: str  # normalized text
    raw_text: str  # as extracted, kept for audit
    pages: list[PageSpan] = field(default_factory=list)
    paginated: bool = True
    encoding_fixed: str | None = None

    @property
    def ocr_pages(self) -> list[int]:
        return [p.number for p in self.pages if p.ocr]

    @property
    def page_count(self) -> int:
        return len(self.pages)

    def page_at(self, offset: int) -> int | None:
        """1-based page holding this character offset; None when the source has no pages."""
        if not self.paginated or not self.pages:
            return None
        starts = [p.start for p in self.pages]
        i = bisect.bisect_right(starts, offset) - 1
        return self.pages[max(i, 0)].number
