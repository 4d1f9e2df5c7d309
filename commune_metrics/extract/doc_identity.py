"""What names a document: its own number ("Số: 87/BC-UBND") and its subject (trích yếu).

With the reporting unit, the type and the period they tell whether a new file is a version of
a loaded document (warehouse/identity.py). Both come from the head of the document only:
- the number is the one after a capitalised "Số" with a colon (or "Số" opening a line), never
  a reference inside a sentence ("Kế hoạch số 02-KH/BCĐTW"); a blank number ("Số:   /BC-UBND",
  left for the clerk to fill in by hand) is no number;
- the subject is the text under the document's title line (BÁO CÁO, KẾ HOẠCH, ...) up to the
  first line of the body, or a "V/v ..." line (công văn).
"""

from __future__ import annotations

import re

from commune_metrics.extract.metadata import title_line_index

_HEAD_CHARS = 2500
_CODE = r"((?:\d{4}\s*/\s*)?[A-ZĐ][A-ZĐa-zđ0-9]*(?:\s*[-/]\s*[A-ZĐa-zđ0-9]+)*)"
_NUMBER = re.compile(
    rf"(?:(?<=\s)|^)Số\s*:\s*(\d{{1,6}}[A-Za-z]?)\s*/\s*{_CODE}|^Số\s+(\d{{1,6}}[A-Za-z]?)\s*/\s*{_CODE}",
    re.MULTILINE,
)
# A line that opens the body, not the subject: an addressee, a legal basis, a heading.
_BODY_START = re.compile(
    r"(?:Kính\s+gửi|Căn\s+cứ|Thực\s+hiện|Theo|Thi\s+hành|Nhằm|Để|Trên\s+cơ\s+sở|Qua|Trong|Ủy\s+ban|UBND|Uỷ\s+ban"
    r"|[IVX]{1,4}\.|\d{1,2}\.|[a-zđ]\)|-|\+|•)(?:\s|$)",
)
_HEADING_OR_ADDRESS = re.compile(r"(?:Kính\s+gửi|[IVX]{1,4}\.|\d{1,2}\.)(?:\s|$)")
# Capitalised openers of the body glued to the subject ("... tháng 11 năm 2025 Kính gửi: ...").
_INLINE_BODY = re.compile(r"\s(?:Kính\s+gửi|Căn\s+cứ|Thực\s+hiện|Thi\s+hành|Nhằm|Trên\s+cơ\s+sở)\b")
_VV_PREFIX = re.compile(r"^(?:V/v|V/V|Về\s+việc)[:.]?\s*")
_VV = re.compile(r"^(?:V/v|V/V|Về\s+việc)[:.]?\s*(.+)$", re.MULTILINE)
_MAX_SUBJECT = 400
_MAX_LINES = 4


def detect_doc_number(text: str) -> str | None:
    """'87/BC-UBND' from 'Số: 87/BC-UBND' in the head; None when absent or left blank."""
    m = _NUMBER.search(text[:_HEAD_CHARS])
    if not m:
        return None
    number, code = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    code = re.sub(r"\s+", "", code).upper()
    return f"{number}/{code}"


def detect_subject(text: str) -> str | None:
    """The trích yếu: lines under the title line until the body starts (at most 4 lines)."""
    head = text[:_HEAD_CHARS]
    lines = head.splitlines()
    start = title_line_index(lines)
    subject: list[str] = []
    if start is not None:
        for i, line in enumerate(lines[start + 1:start + 1 + _MAX_LINES]):
            line = line.strip()
            # the first line under the title is the subject ("Thực hiện chuyển đổi số năm 2025" too)
            # unless it is an addressee, a heading or a table; later lines must not open the body
            opens_body = _BODY_START.match(line) if i else _HEADING_OR_ADDRESS.match(line)
            if not line or opens_body or " | " in line:
                break
            subject.append(line)
            if line.endswith((".", ":")) or sum(map(len, subject)) > _MAX_SUBJECT:
                break
    if not subject:
        vv = _VV.search(head)
        if vv:
            subject = [vv.group(1).strip()]
    joined = _VV_PREFIX.sub("", " ".join(subject))
    # the normalizer may have joined the subject with the addressee or the opening sentence
    cut = _INLINE_BODY.search(joined)
    joined = (joined[:cut.start()] if cut else joined).strip(" .:;,")
    return joined[:_MAX_SUBJECT] or None
