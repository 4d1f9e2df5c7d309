"""Refuse hostile zip containers (DOCX is a zip) from their central directory, without inflating."""

from __future__ import annotations

import io
import zipfile

from commune_metrics.core.config import Limits
from commune_metrics.core.errors import CorruptFileError, ZipBombError

MAX_ENTRIES = 10_000


def check_zip(data: bytes, name: str, limits: Limits) -> zipfile.ZipFile:
    """Open the archive and check its declared sizes; returns it for further inspection.

    Declared sizes are what zipfile trusts too: it stops inflating an entry at its declared size
    and fails the CRC check, so an entry cannot inflate beyond what we checked here.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise CorruptFileError(f"{name} is damaged: not a valid zip archive ({exc})") from exc
    if len(infos) > MAX_ENTRIES:
        raise ZipBombError(f"{name} holds {len(infos)} zip entries (limit {MAX_ENTRIES})")
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    limit = limits.max_decompressed_mb * 1024 * 1024
    if total > limit:
        raise ZipBombError(
            f"{name} would expand to {total / 1024 / 1024:.0f} MB, "
            f"over the {limits.max_decompressed_mb:g} MB limit"
        )
    ratio = total / max(packed, 1)
    if ratio > limits.max_zip_ratio:
        raise ZipBombError(
            f"{name} has a compression ratio of {ratio:.0f}:1, over the limit of {limits.max_zip_ratio:g}:1"
        )
    return archive
