"""Ruled tables read with PDFium alone, for the fast path.

pdfplumber's `find_tables` costs ~60-90 ms a page (pdfminer parses every glyph in Python),
against ~1 ms for PDFium. Most tables in these reports are a grid of one rectangle per cell
(fpdf2, LibreOffice and Word exports draw them so). For such a page this module gives the
same text as `pdf_reader.plumber_page_text` -- text above, between and below the tables,
each table as " | "-joined rows in reading order -- and None for anything else (ruling
lines instead of cell rectangles, a cell spanning rows, text beside a table), which then
goes to pdfplumber as before. tests/test_fast_path.py holds both paths to the same text.
"""

from __future__ import annotations

from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

_TOL = 1.5  # points: stroke width and rounding between neighbouring cell borders
_MIN_SIDE = 3.0  # a cell is at least this wide and tall; thinner paths are rules, not cells


@dataclass(frozen=True)
class _Box:
    left: float
    bottom: float
    right: float
    top: float

    def touches(self, other: _Box) -> bool:
        return (self.left <= other.right + _TOL and other.left <= self.right + _TOL
                and self.bottom <= other.top + _TOL and other.bottom <= self.top + _TOL)


def _cells(page: pdfium.PdfPage) -> list[_Box] | None:
    cells = []
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=2):
        if obj.level > 0:  # inside a form XObject: its bounds are in the form's own space
            return None
        if pdfium_c.FPDFPath_CountSegments(obj.raw) not in (4, 5):  # move + 3 or 4 lines (+ close)
            return None
        left, bottom, right, top = obj.get_bounds()
        if right - left < _MIN_SIDE or top - bottom < _MIN_SIDE:
            return None
        cells.append(_Box(left, bottom, right, top))
    return cells


def _tables(cells: list[_Box]) -> list[list[_Box]]:
    """Cells grouped into tables (connected by touching borders), top table first."""
    groups: list[list[_Box]] = []
    for cell in sorted(cells, key=lambda c: (-c.top, c.left)):
        joined = [g for g in groups if any(cell.touches(c) for c in g)]
        merged = [cell] + [c for g in joined for c in g]
        groups = [g for g in groups if g not in joined] + [merged]
    return sorted(groups, key=lambda g: -max(c.top for c in g))


def _rows(cells: list[_Box]) -> list[list[_Box]] | None:
    """Cells in rows (top row first, cells left to right); None unless every cell of a row
    has the row's top and bottom (no cell spanning rows) and cells do not overlap."""
    rows: list[list[_Box]] = []
    for cell in sorted(cells, key=lambda c: (-c.top, c.left)):
        if rows and abs(rows[-1][0].top - cell.top) <= _TOL:
            if abs(rows[-1][0].bottom - cell.bottom) > _TOL or cell.left < rows[-1][-1].right - 2 * _TOL:
                return None
            rows[-1].append(cell)
        else:
            if rows and cell.top > rows[-1][0].bottom + _TOL:  # overlaps the row above
                return None
            rows.append([cell])
    return rows


def _text(textpage: pdfium.PdfTextPage, left: float, bottom: float, right: float, top: float) -> str:
    if right <= left or top <= bottom:
        return ""
    return textpage.get_text_bounded(left=left, bottom=bottom, right=right, top=top)


def table_page_text(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage) -> str | None:
    """The page's text with its cell-rectangle tables as rows, or None when the page is not
    that simple (see module docstring)."""
    cells = _cells(page)
    if not cells:
        return None
    width, height = page.get_size()
    parts: list[str] = []
    above = height + 1.0
    for table in _tables(cells):
        if len(table) < 2:
            return None
        rows = _rows(table)
        if rows is None:
            return None
        left = min(c.left for c in table)
        right = max(c.right for c in table)
        top = max(c.top for c in table)
        bottom = min(c.bottom for c in table)
        if top > above:  # tables side by side
            return None
        # Text beside a table would interleave with its rows in pdfplumber's reading order.
        beside = _text(textpage, 0, bottom, left, top) + _text(textpage, right, bottom, width, top)
        if beside.strip():
            return None
        parts.append(_text(textpage, 0, top, width, above))
        lines = []
        for row in rows:
            cells_text = [" ".join(_text(textpage, c.left, c.bottom, c.right, c.top).split()) for c in row]
            if any(cells_text):
                lines.append(" | ".join(cells_text))
        parts.append("\n".join(lines))
        above = bottom
    parts.append(_text(textpage, 0, -1.0, width, above))
    return "\n".join(p.strip("\r\n") for p in parts if p.strip())
