"""Checks shared by every reader: size before reading, hashing, wrapping surprises."""

from __future__ import annotations

import hashlib
from pathlib import Path

from commune_metrics.core.config import Limits
from commune_metrics.core.errors import EmptyFileError, FileTooLargeError, ReaderError


def check_size(path: Path, limits: Limits) -> int:
    """Refuse empty or oversized files from their size alone, before reading a byte."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ReaderError(f"cannot open {path.name}: {exc.strerror or exc}") from exc
    return check_length(size, path.name, limits)


def check_length(size: int, name: str, limits: Limits) -> int:
    if size == 0:
        raise EmptyFileError(f"{name} is empty (0 bytes)")
    suffix = Path(name).suffix
    limit = limits.max_bytes(suffix)
    if size > limit:
        what = "text limit" if limit < int(limits.max_file_mb * 1024 * 1024) else "limit"
        raise FileTooLargeError(
            f"{name} is {size / 1024 / 1024:.1f} MB, over the {limit / 1024 / 1024:g} MB {what}"
        )
    return size


def check_text(chars: int, name: str, limits: Limits) -> None:
    """Refuse extracted text over the text limit, before it is normalized (the costly part)."""
    if chars > limits.max_text_mb * 1_000_000:
        raise FileTooLargeError(
            f"{name} holds {chars / 1_000_000:.1f} million characters of text, over the "
            f"{limits.max_text_mb:g} MB text limit"
        )


def read_capped(path: Path, limits: Limits) -> bytes:
    """The file's bytes, read once. Its size is checked before it is opened, and no more than
    the limit is ever read: a file that grows meanwhile cannot take more memory than one at
    the limit. Raises OSError when the file cannot be reached."""
    check_length(path.stat().st_size, path.name, limits)
    limit = limits.max_bytes(path.suffix)
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise FileTooLargeError(
            f"{path.name} grew past the {limit / 1024 / 1024:g} MB limit while being read")
    return data


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
