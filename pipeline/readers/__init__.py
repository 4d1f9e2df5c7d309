"""Readers: a file on disk -> RawDocument (text per page), or straight to a normalized Document.

Every refusal is a typed ReaderError with a reason an analyst can read; anything unexpected
inside a reader becomes CorruptFileError so one bad file never stops a batch.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.config import Limits
from pipeline.document import Document, RawDocument
from pipeline.errors import CorruptFileError, ReaderError, UnsupportedFormatError
from pipeline.normalize import normalize
from pipeline.readers.common import check_size
from pipeline.readers.txt_reader import read_txt

__all__ = ["read_file", "load_document"]


def read_file(path: Path, limits: Limits | None = None) -> RawDocument:
    path = Path(path)
    limits = limits or Limits.from_env()
    suffix = path.suffix.lower()
    if suffix not in (".txt", ".pdf", ".docx"):
        raise UnsupportedFormatError(
            f"{path.name}: '{suffix or 'no extension'}' is not supported (only .pdf, .docx, .txt)"
        )
    check_size(path, limits)
    try:
        if suffix == ".txt":
            return read_txt(path, path.read_bytes())
        raise UnsupportedFormatError(f"{path.name}: reader for {suffix} not available yet")
    except ReaderError:
        raise
    except MemoryError as exc:
        raise CorruptFileError(f"{path.name}: ran out of memory while reading") from exc
    except Exception as exc:  # noqa: BLE001 - a batch must survive any file
        raise CorruptFileError(f"{path.name}: unreadable ({type(exc).__name__}: {exc})") from exc


def load_document(path: Path, limits: Limits | None = None) -> Document:
    return normalize(read_file(path, limits))
