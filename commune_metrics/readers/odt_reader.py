"""OpenDocument text (.odt): paragraphs, headings, list items and tables from content.xml.

Read with the standard library (zip + ElementTree) rather than odfpy: only the text is needed.
The zip is vetted first (zip_guard); a content.xml with a DOCTYPE (the way to smuggle entity
expansion or external entities into XML) is refused before parsing. Tables come out as the
other readers give them: one row per line, cells joined by " | ".
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from commune_metrics.core.config import Limits
from commune_metrics.core.document import RawDocument, RawPage
from commune_metrics.core.errors import CorruptFileError, EmptyFileError, EncryptedFileError
from commune_metrics.readers.common import sha256_bytes
from commune_metrics.readers.zip_guard import check_zip

_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_P, _H = f"{{{_TEXT}}}p", f"{{{_TEXT}}}h"
_S, _TAB, _BREAK = f"{{{_TEXT}}}s", f"{{{_TEXT}}}tab", f"{{{_TEXT}}}line-break"
_NOTE = f"{{{_TEXT}}}note"
_TBL, _ROW, _CELL = f"{{{_TABLE}}}table", f"{{{_TABLE}}}table-row", f"{{{_TABLE}}}table-cell"


def _inline(element: ET.Element) -> str:
    """The text of a paragraph: spans flattened, <text:s c="3"/> as spaces, notes left out."""
    parts = [element.text or ""]
    for child in element:
        if child.tag == _S:
            parts.append(" " * int(child.get(f"{{{_TEXT}}}c", "1")))
        elif child.tag in (_TAB, _BREAK):
            parts.append(" ")
        elif child.tag != _NOTE:
            parts.append(_inline(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _blocks(element: ET.Element) -> Iterator[str]:
    for child in element:
        if child.tag in (_P, _H):
            yield _inline(child)
        elif child.tag == _TBL:
            for row in child.iter(_ROW):
                cells = [" ".join(" ".join(_inline(p) for p in cell.iter(_P)).split())
                         for cell in row.findall(_CELL)]
                if any(cells):
                    yield " | ".join(cells)
        else:
            yield from _blocks(child)  # sections, lists, list items, frames


def read_odt(path: Path, data: bytes, limits: Limits) -> RawDocument:
    name = path.name
    if not data.startswith(b"PK"):
        raise CorruptFileError(f"{name} is not an OpenDocument file (not a zip archive)")
    archive = check_zip(data, name, limits)
    names = archive.namelist()
    if "content.xml" not in names:
        raise CorruptFileError(f"{name} is a zip archive but not an OpenDocument text (no content.xml)")
    manifest = archive.read("META-INF/manifest.xml") if "META-INF/manifest.xml" in names else b""
    if b"encryption-data" in manifest:
        raise EncryptedFileError(f"{name} is a password-protected document")
    content = archive.read("content.xml")
    if b"<!DOCTYPE" in content[:4096] or b"<!ENTITY" in content:
        raise CorruptFileError(f"{name}: content.xml declares a DOCTYPE or entities; refused")
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        raise CorruptFileError(f"{name}: content.xml is not valid XML ({exc})") from exc
    body = root.find(f"{{{_OFFICE}}}body")
    text = "\n".join(_blocks(body if body is not None else root))
    if not text.strip():
        raise EmptyFileError(f"{name} has no text in its body")
    return RawDocument(source_name=name, sha256=sha256_bytes(data), file_type="odt",
                       pages=[RawPage(text=text)], paginated=False)
