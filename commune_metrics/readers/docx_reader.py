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
from docx.text.hyperlink import Hyperlink
from docx.text.paragraph import Paragraph

from commune_metrics.core.config import Limits
from commune_metrics.core.document import RawDocument, RawPage
from commune_metrics.core.errors import CorruptFileError, EmptyFileError, EncryptedFileError
from commune_metrics.readers.common import sha256_bytes
from commune_metrics.readers.legacy_text import convert_font_run
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


class _Fonts:
    """Converts runs typed in legacy Vietnamese fonts (.VnTime: TCVN3, VNI-Times: VNI) as the
    text is read; the font is the run's own, else its paragraph style's, else the default."""

    def __init__(self, document, legacy: bool) -> None:
        self.legacy = legacy
        self.encoding: str | None = None
        self.default = self._default_font(document) if legacy else None

    @staticmethod
    def _default_font(document) -> str | None:
        fonts = document.styles.element.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}/"
                                             f"{qn('w:rFonts')}")
        return fonts.get(qn("w:ascii")) if fonts is not None else None

    @staticmethod
    def _style_font(style) -> str | None:
        while style is not None:
            if style.font.name:
                return style.font.name
            style = style.base_style
        return None

    def paragraph(self, paragraph: Paragraph) -> str:
        if not self.legacy:
            return paragraph.text
        style_font = self._style_font(paragraph.style) or self.default
        parts = []
        for item in paragraph.iter_inner_content():
            for run in item.runs if isinstance(item, Hyperlink) else [item]:
                font = run.font.name or self._style_font(run.style) or style_font
                text, encoding = convert_font_run(run.text, font)
                self.encoding = self.encoding or encoding
                parts.append(text)
        return "".join(parts)

    def cell(self, cell) -> str:
        return " ".join("\n".join(self.paragraph(p) for p in cell.paragraphs).split())


def _table_rows(table: Table, fonts: _Fonts) -> Iterator[str]:
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if cell._tc is previous:  # a horizontally merged cell repeats; keep it once
                continue
            previous = cell._tc
            cells.append(fonts.cell(cell))
        if any(cells):
            yield " | ".join(cells)


def _blocks(parent, container, fonts: _Fonts) -> Iterator[str]:
    """Paragraph texts and table rows in document order, descending into content controls."""
    for child in container.iterchildren():
        if child.tag == qn("w:p"):
            yield fonts.paragraph(Paragraph(child, parent))
        elif child.tag == qn("w:tbl"):
            yield from _table_rows(Table(child, parent), fonts)
        elif child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _blocks(parent, content, fonts)


# Font names of the legacy encodings as they appear in document.xml / styles.xml.
_LEGACY_FONT_MARKS = (b'".Vn', b'"Vn', b'"VNI', b'"Vni')


def _uses_legacy_fonts(archive) -> bool:
    for part in ("word/document.xml", "word/styles.xml"):
        if part in archive.namelist() and any(m in archive.read(part) for m in _LEGACY_FONT_MARKS):
            return True
    return False


def read_docx(path: Path, data: bytes, limits: Limits) -> RawDocument:
    name = path.name
    _check_container(data, name)
    archive = check_zip(data, name, limits)
    if "word/document.xml" not in archive.namelist():
        raise CorruptFileError(f"{name} is a zip archive but not a Word document (no word/document.xml)")
    document = open_word(io.BytesIO(data))
    body = document.element.body
    fonts = _Fonts(document, _uses_legacy_fonts(archive))
    text = "\n".join(_blocks(document._body, body, fonts))
    if not text.strip():
        raise EmptyFileError(f"{name} has no text in its body")
    return RawDocument(
        source_name=name,
        sha256=sha256_bytes(data),
        file_type="docx",
        pages=[RawPage(text=text)],
        paginated=False,
        encoding_fixed=fonts.encoding,
    )
