"""Plain-text reports: UTF-8 (with or without BOM), UTF-16/32 with a BOM, else a legacy
Vietnamese encoding (Windows-1258, TCVN3, VNI) decided by content (legacy_text)."""

from __future__ import annotations

import codecs
from pathlib import Path

from commune_metrics.core.document import RawDocument, RawPage
from commune_metrics.core.errors import EmptyFileError, EncodingError
from commune_metrics.readers.common import sha256_bytes
from commune_metrics.readers.legacy_text import decode_legacy_bytes

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_text(data: bytes, name: str) -> str:
    return decode_text_and_encoding(data, name)[0]


def decode_text_and_encoding(data: bytes, name: str) -> tuple[str, str | None]:
    """(text, legacy encoding it was converted from, or None for Unicode)."""
    for bom, encoding in _BOMS:  # UTF-32 LE before UTF-16 LE: its BOM starts with the same bytes
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding), None
            except UnicodeDecodeError as exc:
                raise EncodingError(
                    f"{name} starts with a {encoding} byte-order mark but is not valid {encoding} "
                    f"(bad bytes at offset {exc.start + len(bom)})"
                ) from exc
    if b"\x00" in data:
        raise EncodingError(
            f"{name} contains NUL bytes: UTF-16 without a byte-order mark, or not a text file; "
            "save it as UTF-8"
        )
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return decode_legacy_bytes(data, name)


def read_txt(path: Path, data: bytes) -> RawDocument:
    text, encoding = decode_text_and_encoding(data, path.name)
    if not text.strip():
        raise EmptyFileError(f"{path.name} contains only whitespace")
    # Text saved from a PDF (pdftotext) separates pages with form feeds; keeping them apart lets
    # the normalizer find running headers. Page numbers stay meaningless for TXT (paginated=False).
    pages = [RawPage(text=page) for page in text.split("\f")]
    while len(pages) > 1 and not pages[-1].text.strip():
        pages.pop()
    return RawDocument(
        source_name=path.name,
        sha256=sha256_bytes(data),
        file_type="txt",
        pages=pages,
        paginated=False,
        encoding_fixed=encoding,
    )
