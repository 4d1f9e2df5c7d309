"""Spreadsheet annexes (.xlsx, .xls, .ods) through python-calamine: every sheet, row by row.

Rows come out as the other readers give table rows, cells joined by " | ", so the table path
of extraction (extract/tables.py: a header row labels the figures below it) reads an annex
like a table in a PDF or DOCX report. Each sheet starts with its name on a line of its own.
Whole-number floats are written without ".0" (Excel stores every number as a float) and
dates as the report would print them (dd/mm/yyyy). Zip-based files (.xlsx, .ods) are vetted
by zip_guard before calamine opens them.
"""

from __future__ import annotations

import io
from datetime import date, datetime, time
from pathlib import Path

from commune_metrics.core.config import Limits
from commune_metrics.core.document import RawDocument, RawPage
from commune_metrics.core.errors import CorruptFileError, EmptyFileError, EncryptedFileError
from commune_metrics.readers.common import sha256_bytes
from commune_metrics.readers.zip_guard import check_zip

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_CELLS = 2_000_000  # a sheet larger than this is not an annex to a commune report


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "x" if value else ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:g}"
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return " ".join(str(value).split())


def read_sheet(path: Path, data: bytes, limits: Limits) -> RawDocument:
    from python_calamine import CalamineWorkbook  # imported here: only annexes need it

    name = path.name
    if data.startswith(b"PK"):
        archive = check_zip(data, name, limits)
        if "EncryptionInfo" in archive.namelist():
            raise EncryptedFileError(f"{name} is a password-protected workbook")
    elif data.startswith(_OLE_MAGIC):
        if "EncryptionInfo".encode("utf-16-le") in data:
            raise EncryptedFileError(f"{name} is a password-protected workbook")
    else:
        raise CorruptFileError(f"{name} is not a spreadsheet (neither a zip nor an OLE file)")
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own error types for damaged files
        raise CorruptFileError(
            f"{name} cannot be opened as a spreadsheet ({type(exc).__name__}: {exc})") from exc
    pages: list[RawPage] = []
    cells = 0
    for sheet_name in workbook.sheet_names:
        rows = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=True)
        lines = [sheet_name]
        for row in rows:
            cells += len(row)
            if cells > MAX_CELLS:
                raise CorruptFileError(f"{name} holds over {MAX_CELLS:,} cells; not a report annex")
            texts = [_cell(v) for v in row]
            while texts and not texts[-1]:
                texts.pop()
            if any(texts):
                lines.append(" | ".join(texts))
        if len(lines) > 1:
            pages.append(RawPage(text="\n".join(lines)))
    if not pages:
        raise EmptyFileError(f"{name} has no cells with text or numbers")
    return RawDocument(source_name=name, sha256=sha256_bytes(data), file_type=path.suffix.lower().lstrip("."),
                       pages=pages, paginated=False)
