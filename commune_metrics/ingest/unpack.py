"""A .zip of reports: every member is handled as if it had been dropped on its own.

The archive is vetted from its central directory first (readers.zip_guard: entry count,
total size, compression ratio), then each member is checked before a byte of it is written:
a path that climbs out ("../", "/etc/x", "C:\\x"), a symlink, an encrypted member, a .zip
inside the .zip and a member over the file-size limit are refused with their own line and
never extracted. Accepted members are written to a private temporary folder, one folder
per member so two "bc.pdf" in different folders of the zip never collide.
"""

from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from commune_metrics.core.config import ARCHIVE_SUFFIXES, Limits
from commune_metrics.core.errors import (
    CorruptFileError,
    EncryptedFileError,
    FileTooLargeError,
    ReaderError,
    UnsafePathError,
    UnsupportedFormatError,
)
from commune_metrics.ingest.entries import Entry, display_name
from commune_metrics.readers.zip_guard import check_zip

_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1


@dataclass
class Member:
    entry: Entry
    refusal: ReaderError | None = None  # set: not extracted, quarantined with this reason
    skip: str | None = None  # set: not a report at all (macOS resource fork, folder note)


def member_name(info: zipfile.ZipInfo) -> tuple[str, bytes]:
    """The member's path as its writer meant it, and its raw bytes.

    Without the UTF-8 flag, zipfile decodes names as cp437; Windows' own zip writes the ANSI
    code page (cp1258 on Vietnamese systems) and many tools write UTF-8 without setting the
    flag, so the raw bytes are tried as UTF-8, then cp1258, before cp437 is believed."""
    if info.flag_bits & _UTF8_FLAG:
        return info.filename, info.filename.encode("utf-8")
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename, info.filename.encode("utf-8", "replace")
    for encoding in ("utf-8", "cp1258"):
        try:
            return raw.decode(encoding), raw
        except UnicodeDecodeError:
            continue
    return info.filename, raw


def _unsafe(path: str) -> bool:
    posix = path.replace("\\", "/")
    parts = PurePosixPath(posix).parts
    return posix.startswith("/") or (len(posix) > 1 and posix[1] == ":") or ".." in parts


def _refusal(info: zipfile.ZipInfo, inner: str, limits: Limits) -> ReaderError | None:
    if _unsafe(inner):
        return UnsafePathError(
            f"member path {inner!r} would land outside the archive's folder; not extracted")
    if stat.S_ISLNK(info.external_attr >> 16):
        return UnsafePathError(f"member {inner!r} is a symlink; not extracted")
    if info.flag_bits & _ENCRYPTED_FLAG:
        return EncryptedFileError(f"member {inner!r} is password-protected")
    if PurePosixPath(inner).suffix.lower() in ARCHIVE_SUFFIXES:
        return UnsupportedFormatError(
            f"{inner!r} is an archive inside the archive; it is not opened: send its reports in one .zip")
    if info.file_size > limits.max_file_mb * 1024 * 1024:
        return FileTooLargeError(
            f"member {inner!r} is {info.file_size / 1024 / 1024:.1f} MB, "
            f"over the {limits.max_file_mb:g} MB limit")
    return None


def _skip(inner: str) -> str | None:
    parts = PurePosixPath(inner.replace("\\", "/")).parts
    if parts and parts[0] == "__MACOSX":
        return "macOS resource data stored in the archive, not a report"
    name = parts[-1] if parts else inner
    if name.startswith("."):
        return "a hidden file in the archive, not read"
    return None


def unpack(zip_entry: Entry, data: bytes, folder: Path, limits: Limits) -> list[Member]:
    """Members of the archive `data` (bytes of `zip_entry`), extracted under `folder`.

    Raises ZipBombError / CorruptFileError for an archive refused as a whole."""
    archive = check_zip(data, zip_entry.name, limits)
    members: list[Member] = []
    for index, info in enumerate(archive.infolist()):
        if info.is_dir():
            continue
        inner, raw = member_name(info)
        shown = f"{zip_entry.name}/{display_name(inner)}"
        base = PurePosixPath(inner.replace("\\", "/")).name or f"member{index}"
        target = folder / f"{index:05d}" / base
        entry = Entry(target, shown, zip_entry.raw_name + b"/" + raw, container=zip_entry.name)
        skip = _skip(inner)
        if skip:
            members.append(Member(Entry(target, shown, entry.raw_name, skip=skip, container=zip_entry.name),
                                  skip=skip))
            continue
        refusal = _refusal(info, inner, limits)
        if refusal is None:
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                # zipfile stops at the declared size (checked above) and verifies the CRC.
                target.write_bytes(archive.read(info))
            except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as exc:
                refusal = CorruptFileError(
                    f"member {inner!r} cannot be extracted ({type(exc).__name__}: {exc})")
        members.append(Member(entry, refusal=refusal))
    return members
