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
from commune_metrics.extract.rules import Grammar
from commune_metrics.extract.sentences import Sentence

SEP = " | "



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


def cell_sentences(block: list[Sentence], g: Grammar) -> list[CellSentence]:
    """`g`: the compiled grammar (its table-header words come from rules/grammar.yaml)."""
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
            row_number_column = g.row_number_header.match(head) or (len(cells) > 2 and not header)
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
            if "%" not in cell and (g.percent_header.search(head) or g.percent_header.search(label)):
                value = cell + "%"
            named = "" if g.generic_header.fullmatch(head) else head
            text = " ".join(p for p in (label, named) if p) + " là " + value + "."
            kind = None
            if g.target_header.search(head):
                kind = "target"
            elif g.actual_header.search(head):
                kind = "actual"
            synthetic = Sentence(0, len(text), text, row.heading, row.top_heading)
            out.append(CellSentence(synthetic, row, kind))
    return out
