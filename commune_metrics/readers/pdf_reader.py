"""PDF reports: text pages through pdfplumber (tables as " | " rows) or the pypdfium2 fast path,
scanned pages through tesseract.

Two engines give the same normalized text (tests/test_fast_path.py checks it):
- "plumber": pdfplumber on every page;
- "fast": pypdfium2's text (about 60x cheaper) and pdfplumber only on pages whose drawing
  objects could be a ruled table.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import pdfplumber
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from commune_metrics.core.config import Limits
from commune_metrics.core.document import RawDocument, RawPage
from commune_metrics.core.errors import (
    CorruptFileError,
    EmptyFileError,
    EncryptedFileError,
    TooManyPagesError,
)
from commune_metrics.readers.common import sha256_bytes
from commune_metrics.readers.ocr import ocr_pdfium_page
from commune_metrics.readers.pdf_guard import check_pdf_streams
from commune_metrics.readers.pdfium_tables import table_page_text

# pdfminer logs a warning per damaged object; the reader reports one typed error per file instead.
logging.getLogger("pdfminer").setLevel(logging.ERROR)

Engine = Literal["fast", "plumber"]
ENGINES: tuple[str, ...] = ("fast", "plumber")

_MIN_TEXT_CHARS = 10  # fewer letters/digits than this on a page with an image: treat as scanned
_TABLE_PATHS = 4  # a ruled table needs at least this many drawn lines or rectangles
# More drawings than this is a map or a hostile page, not a table: table finding (pdfplumber
# parses every path in Python, the PDFium grid groups cells pairwise) would take minutes.
_MAX_TABLE_PATHS = 1000


def _check_envelope(data: bytes, name: str) -> None:
    if b"%PDF-" not in data[:1024]:
        raise CorruptFileError(f"{name} is not a PDF (no %PDF header)")
    if b"%%EOF" not in data[-2048:]:
        raise CorruptFileError(f"{name} is truncated (no %%EOF marker at the end)")


def _open_pdfium(data: bytes, name: str) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        # PDFium's last-error code outlives the call that set it: after an encrypted file, a
        # damaged one also reads "password"; only a file with an /Encrypt entry is encrypted.
        if "password" in str(exc).lower() and b"/Encrypt" in data:
            raise EncryptedFileError(f"{name} is password-protected") from exc
        if _has_no_pages(data):  # PDFium refuses a document with an empty page tree
            raise EmptyFileError(f"{name} has no pages") from exc
        raise CorruptFileError(f"{name} is damaged: {exc}") from exc


def _has_no_pages(data: bytes) -> bool:
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            return len(pdf.pages) == 0
    except Exception:
        return False


def _open_plumber(data: bytes, name: str) -> pdfplumber.PDF:
    try:
        return pdfplumber.open(io.BytesIO(data))
    except Exception as exc:
        if "password" in repr(exc).lower():
            raise EncryptedFileError(f"{name} is password-protected") from exc
        raise CorruptFileError(f"{name} is damaged: {type(exc).__name__}") from exc


# --- pdfplumber: text outside tables + tables as rows, in reading order ------------------------


def _cell(text: str | None) -> str:
    return " ".join(text.split()) if text else ""


def _table_lines(table) -> list[str]:
    lines = []
    for row in table.extract():
        cells = [_cell(c) for c in row if c is not None]  # None = covered by a merged cell
        if any(cells):
            lines.append(" | ".join(cells))
    return lines


def plumber_page_text(page) -> str:
    tables = page.find_tables()
    boxes = [t.bbox for t in tables]

    def outside_tables(obj: dict) -> bool:
        if obj.get("object_type") != "char":
            return True
        cx, cy = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
        return not any(x0 <= cx <= x1 and top <= cy <= bottom for x0, top, x1, bottom in boxes)

    body = page.filter(outside_tables) if boxes else page
    items: list[tuple[float, int, str]] = [
        (line["top"], 0, line["text"]) for line in body.extract_text_lines(return_chars=False)
    ]
    for table in tables:
        items.append((table.bbox[1], 1, "\n".join(_table_lines(table))))
    items.sort(key=lambda item: (item[0], item[1]))
    return "\n".join(text for _, _, text in items if text)


# --- pypdfium2 helpers --------------------------------------------------------------------------


def _count_objects(page: pdfium.PdfPage, kind: int, enough: int) -> int:
    count = 0
    for _ in page.get_objects(filter=[kind], max_depth=2):
        count += 1
        if count >= enough:
            break
    return count


def _may_hold_table(page: pdfium.PdfPage) -> bool:
    return _TABLE_PATHS <= _count_objects(page, pdfium_c.FPDF_PAGEOBJ_PATH, _MAX_TABLE_PATHS + 1) \
        <= _MAX_TABLE_PATHS


def _has_image(page: pdfium.PdfPage) -> bool:
    return _count_objects(page, pdfium_c.FPDF_PAGEOBJ_IMAGE, 1) > 0


# PDFium reports a hyphen that ends a line as U+FFFE (older builds: U+0002) and swallows the line
# break after it; give both back so the normalizer treats it like pdfplumber's "KH-" + "UBND".
_PDFIUM_LINE_HYPHEN = str.maketrans({"\ufffe": "-\n", "\x02": "-\n"})


def pdfium_page_text(page: pdfium.PdfPage) -> str:
    textpage = page.get_textpage()
    try:
        return textpage.get_text_range().translate(_PDFIUM_LINE_HYPHEN)
    finally:
        textpage.close()


def pdfium_table_text(page: pdfium.PdfPage) -> str | None:
    """pdfplumber's text of a page whose tables are simple cell grids, or None (pdfium_tables)."""
    textpage = page.get_textpage()
    try:
        text = table_page_text(page, textpage)
        return None if text is None else text.translate(_PDFIUM_LINE_HYPHEN)
    finally:
        textpage.close()


def _is_scanned(text: str, page: pdfium.PdfPage) -> bool:
    letters = sum(ch.isalnum() for ch in text)
    return letters < _MIN_TEXT_CHARS and _has_image(page)


# --- the reader ---------------------------------------------------------------------------------


def read_pdf(path: Path, data: bytes, limits: Limits, engine: Engine = "fast") -> RawDocument:
    name = path.name
    _check_envelope(data, name)
    check_pdf_streams(data, name, limits)
    doc = _open_pdfium(data, name)
    plumber: pdfplumber.PDF | None = None
    try:
        count = len(doc)
        if count == 0:
            raise EmptyFileError(f"{name} has no pages")
        if count > limits.max_pages:
            raise TooManyPagesError(f"{name} declares {count} pages, over the limit of {limits.max_pages}")

        def plumber_page(index: int):
            nonlocal plumber
            if plumber is None:
                plumber = _open_plumber(data, name)
                if len(plumber.pages) != count:
                    raise CorruptFileError(
                        f"{name}: page tree is inconsistent ({count} vs {len(plumber.pages)} pages)"
                    )
            return plumber.pages[index]

        pages = [_read_page(doc, index, engine, plumber_page, limits) for index in range(count)]
    finally:
        if plumber is not None:
            plumber.close()
        doc.close()
    return RawDocument(source_name=name, sha256=sha256_bytes(data), file_type="pdf", pages=pages)


def _read_page(
    doc: pdfium.PdfDocument, index: int, engine: Engine, plumber_page: Callable, limits: Limits
) -> RawPage:
    page = doc[index]
    try:
        text = None
        if engine == "plumber" or _may_hold_table(page):
            if engine == "fast":  # a grid of cell rectangles reads ~50x cheaper through PDFium
                text = pdfium_table_text(page)
            if text is None:
                ppage = plumber_page(index)
                text = plumber_page_text(ppage)
                ppage.close()
        else:
            text = pdfium_page_text(page)
        if _is_scanned(text, page):
            return RawPage(text=ocr_pdfium_page(page, limits.ocr_seconds_per_page,
                                                 max_megapixels=limits.max_ocr_megapixels), ocr=True)
        return RawPage(text=text)
    finally:
        page.close()
