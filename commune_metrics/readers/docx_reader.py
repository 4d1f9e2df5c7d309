"""Word reports (.docx): body paragraphs and tables in document order, tables as " | " rows.

The zip is vetted before python-docx sees it (zip_guard). python-docx parses parts with entity
resolution off and never follows relationships marked External (linked images, templates), so
reading a file never touches the network.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

from docx import Document as open_word
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from commune_metrics.core.config import Limits
from commune_metrics.core.document import RawDocument, RawPage
from commune_metrics.core.errors import CorruptFileError, EmptyFileError, EncryptedFileError
from commune_metrics.readers.common import sha256_bytes
from commune_metrics.readers.zip_guard import check_zip

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")


def _check_container(data: bytes, name: str) -> None:
    if data.startswith(_OLE_MAGIC):
        if _ENCRYPTION_INFO in data:
            raise EncryptedFileError(f"{name} is a password-protected Word document")
        raise CorruptFileError(f"{name} is an old binary Word file (.doc) renamed to .docx; save it as .docx")
    if not data.startswith(b"PK"):
        raise CorruptFileError(f"{name} is not a DOCX (not a zip archive)")


def _cell_text(cell) -> str:
    return " ".join(cell.text.split())


def _table_rows(table: Table) -> Iterator[str]:
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if cell._tc is previous:  # a horizontally merged cell repeats; keep it once
                continue
            previous = cell._tc
            cells.append(_cell_text(cell))
        if any(cells):
            yield " | ".join(cells)


def _blocks(parent, container) -> Iterator[str]:
    """Paragraph texts and table rows in document order, descending into content controls."""
    for child in container.iterchildren():
        if child.tag == qn("w:p"):
            yield Paragraph(child, parent).text
        elif child.tag == qn("w:tbl"):
            yield from _table_rows(Table(child, parent))
        elif child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _blocks(parent, content)


def read_docx(path: Path, data: bytes, limits: Limits) -> RawDocument:
    name = path.name
    _check_container(data, name)
    archive = check_zip(data, name, limits)
    if "word/document.xml" not in archive.namelist():
        raise CorruptFileError(f"{name} is a zip archive but not a Word document (no word/document.xml)")
    document = open_word(io.BytesIO(data))
    body = document.element.body
    text = "\n".join(_blocks(document._body, body))
    if not text.strip():
        raise EmptyFileError(f"{name} has no text in its body")
    return RawDocument(
        source_name=name,
        sha256=sha256_bytes(data),
        file_type="docx",
        pages=[RawPage(text=text)],
        paginated=False,
    )
