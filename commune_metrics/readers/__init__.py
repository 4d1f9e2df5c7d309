"""Readers: a file on disk -> RawDocument (text per page), or straight to a normalized Document.

Every refusal is a typed ReaderError with a reason an analyst can read; anything unexpected
inside a reader becomes CorruptFileError so one bad file never stops a batch.
"""

from __future__ import annotations

from pathlib import Path

from commune_metrics.core.config import ARCHIVE_SUFFIXES, SPREADSHEET_SUFFIXES, SUPPORTED_SUFFIXES, Limits
from commune_metrics.core.document import Document, RawDocument, RawPage
from commune_metrics.core.errors import CorruptFileError, ReaderError, UnsupportedFormatError
from commune_metrics.readers.common import check_length, check_text, read_capped
from commune_metrics.readers.doc_reader import read_doc
from commune_metrics.readers.docx_reader import read_docx
from commune_metrics.readers.legacy_text import fix_pages
from commune_metrics.readers.normalize import normalize
from commune_metrics.readers.odt_reader import read_odt
from commune_metrics.readers.pdf_reader import ENGINES, Engine, read_pdf
from commune_metrics.readers.sheet_reader import read_sheet
from commune_metrics.readers.txt_reader import read_txt

__all__ = ["ENGINES", "Engine", "SUPPORTED", "load_document", "read_capped", "read_file"]

SUPPORTED = SUPPORTED_SUFFIXES
_SUPPORTED_LIST = ", ".join(SUPPORTED_SUFFIXES)
DEFAULT_ENGINE: Engine = "fast"


def read_file(path: Path, limits: Limits | None = None, engine: Engine = DEFAULT_ENGINE,
              data: bytes | None = None) -> RawDocument:
    """Read one file. Raises a ReaderError subclass (never anything else) for a file it refuses.

    `data`: the file's bytes, when the caller has read (and hashed) them already; the file is
    then not opened again, so what is extracted is exactly what was hashed."""
    path = Path(path)
    limits = limits or Limits.from_env()
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED or suffix in ARCHIVE_SUFFIXES:  # ingest unpacks archives itself
        raise UnsupportedFormatError(
            f"{path.name}: '{suffix or 'no extension'}' files are not supported; "
            f"supported types: {_SUPPORTED_LIST}"
        )
    if data is None:
        try:
            data = read_capped(path, limits)
        except OSError as exc:
            raise ReaderError(f"cannot open {path.name}: {exc.strerror or exc}") from exc
    else:
        check_length(len(data), path.name, limits)
    try:
        raw = _read(path, suffix, data, limits, engine)
        # before the text is converted and normalized (the costly part)
        check_text(sum(len(page.text) for page in raw.pages), path.name, limits)
        return _legacy_to_unicode(raw)
    except ReaderError:
        raise
    except MemoryError as exc:
        raise CorruptFileError(f"{path.name}: ran out of memory while reading") from exc
    except RecursionError as exc:
        raise CorruptFileError(f"{path.name}: structure nested too deeply") from exc
    except Exception as exc:  # a batch must survive any file
        raise CorruptFileError(f"{path.name}: unreadable ({type(exc).__name__}: {exc})") from exc


def _read(path: Path, suffix: str, data: bytes, limits: Limits, engine: Engine) -> RawDocument:
    if suffix == ".txt":
        return read_txt(path, data)
    if suffix == ".docx":
        return read_docx(path, data, limits)
    if suffix == ".doc":
        return read_doc(path, data)
    if suffix == ".odt":
        return read_odt(path, data, limits)
    if suffix in SPREADSHEET_SUFFIXES:
        return read_sheet(path, data, limits)
    return read_pdf(path, data, limits, engine)


def _legacy_to_unicode(raw: RawDocument) -> RawDocument:
    """Text typed in TCVN3/VNI fonts (or Windows-1258) comes out of any format as Latin
    letters and symbols ("B¸o c¸o"): convert it before normalizing, which would drop some of
    those characters (TCVN3's ư is the soft-hyphen byte)."""
    texts, encoding = fix_pages([p.text for p in raw.pages], raw.source_name)
    if encoding is not None:
        raw.pages = [RawPage(text, page.ocr) for text, page in zip(texts, raw.pages, strict=True)]
        raw.encoding_fixed = raw.encoding_fixed or encoding
    return raw


def load_document(path: Path, limits: Limits | None = None, engine: Engine = DEFAULT_ENGINE,
                  data: bytes | None = None) -> Document:
    """Read and normalize one file (from `data` when its bytes were read already)."""
    return normalize(read_file(path, limits, engine, data))
