"""Tables in the normalized text ("cell | cell | cell" lines, header first).

Two layouts occur: a label column ("1 | Hồ sơ tiếp nhận trực tuyến | 261") and a header row
naming each value column ("Tổng số hồ sơ | Trực tuyến | Trực tiếp" over "688 | 609 | 79").
Each value cell becomes a small sentence "<row label> <column header> là <value>" that the
ordinary fact finder reads; its evidence is the table row.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

from commune_metrics.extract.numbers import find_numbers
from commune_metrics.extract.sentences import Sentence

SEP = " | "
_ROW_NUMBER_HEADER = regex.compile(r"^\s*(?:stt|tt|số\s+tt|số\s+thứ\s+tự|thứ\s+tự)\s*$", regex.IGNORECASE)
# Column headers that say nothing about the metric (only, at most, about the kind).
_GENERIC_HEADER = regex.compile(
    r"\s*(?:kết\s+quả(?:\s+thực\s+hiện|\s+đạt\s+được)?|số\s+lượng|số\s+liệu|giá\s+trị|thực\s+hiện|thực\s+tế|"
    r"nội\s+dung|ghi\s+chú|đơn\s+vị(?:\s+tính)?|tổng|tổng\s+số|số|năm\s+\d{4}|kỳ\s+báo\s+cáo|"
    r"kế\s+hoạch(?:\s+năm\s+\d{4})?|chỉ\s+tiêu|mục\s+tiêu)\s*(?:\(.*\))?\s*",
    regex.IGNORECASE,
)
_PERCENT_HEADER = regex.compile(r"%|(?<![\p{L}])t[ỷỉ]\s+lệ(?![\p{L}])", regex.IGNORECASE)
_TARGET_HEADER = regex.compile(
    r"(?<![\p{L}])(?:kế\s+hoạch|chỉ\s+tiêu|mục\s+tiêu)(?![\p{L}])", regex.IGNORECASE
)
_ACTUAL_HEADER = regex.compile(
    r"(?<![\p{L}])(?:thực\s+hiện|kết\s+quả|thực\s+tế|đạt\s+được|hiện\s+có)(?![\p{L}])", regex.IGNORECASE
)


@dataclass(frozen=True)
class CellSentence:
    sentence: Sentence  # synthetic text
    row: Sentence  # the table row it came from
    kind: str | None  # from the column header, when it says


def _cells(text: str) -> list[str]:
    return [c.strip() for c in text.split("|")]


def _is_value(cell: str) -> bool:
    if not cell:
        return False
    found = find_numbers(cell)
    return len(found) == 1 and not regex.sub(r"[\s%]", "", cell[: found[0].start] + cell[found[0].end :])


def table_blocks(sentences: list[Sentence]) -> list[list[Sentence]]:
    blocks: list[list[Sentence]] = []
    for s in sentences:
        if SEP not in s.text:
            continue
        if blocks and blocks[-1][-1].end + 1 >= s.start - 1 and s.start - blocks[-1][-1].end <= 2:
            blocks[-1].append(s)
        else:
            blocks.append([s])
    return blocks


def cell_sentences(block: list[Sentence]) -> list[CellSentence]:
    header: list[str] = []
    out: list[CellSentence] = []
    for row in block:
        cells = _cells(row.text)
        if not any(_is_value(c) for c in cells):
            header = cells  # a header row (a table may follow another without a blank line)
            continue
        labels: list[str] = []
        values: list[tuple[int, str]] = []
        for i, cell in enumerate(cells):
            head = header[i] if i < len(header) else ""
            row_number_column = _ROW_NUMBER_HEADER.match(head) or (len(cells) > 2 and not header)
            if i == 0 and _is_value(cell) and row_number_column:
                if len(cells) > 2 and any(not _is_value(c) for c in cells[1:]):
                    continue  # the row number
            if _is_value(cell):
                values.append((i, cell))
            elif cell:
                labels.append(cell)
        label = " ".join(labels)
        for i, cell in values:
            head = header[i] if i < len(header) else ""
            value = cell
            if "%" not in cell and (_PERCENT_HEADER.search(head) or _PERCENT_HEADER.search(label)):
                value = cell + "%"
            named = "" if _GENERIC_HEADER.fullmatch(head) else head
            text = " ".join(p for p in (label, named) if p) + " là " + value + "."
            kind = None
            if _TARGET_HEADER.search(head):
                kind = "target"
            elif _ACTUAL_HEADER.search(head):
                kind = "actual"
            synthetic = Sentence(0, len(text), text, row.heading, row.top_heading)
            out.append(CellSentence(synthetic, row, kind))
    return out
