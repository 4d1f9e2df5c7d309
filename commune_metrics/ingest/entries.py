"""What a folder holds, entry by entry, so every entry gets exactly one answer.

    entries = scan([Path("data/raw/inbox")], inbox=DEFAULT_INBOX)

An entry is either read (any regular file: a type the readers do not know is quarantined by
them as `unsupported`, with the list of supported types) or skipped with a reason an analyst
can act on: a symlink leading out of the folder, a hidden or Office lock file, a download
that is not finished, a folder that cannot be listed. Nothing is left out without a line.

Names are given in NFC (macOS sends NFD: "Báo cáo" typed there would not match the same name
typed on Windows); the name's bytes as found on disk are kept beside it for audit.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

REASON_SUFFIX = ".reason.txt"
# Browsers and mail clients write these while a download runs, then rename the file.
_PARTIAL_SUFFIXES = (".part", ".crdownload", ".partial", ".download", ".tmp")


@dataclass(frozen=True)
class Entry:
    path: Path  # what to read (for a member of a .zip: its unpacked copy)
    name: str  # NFC name shown and stored ("bundle.zip/bc.pdf" for a member)
    raw_name: bytes  # the name's bytes as found (on disk, or in the zip's directory)
    skip: str | None = None  # why it is not read; None = read it
    drain: bool = False  # move it out after its load commits (it lies in the inbox, or --move)
    container: str | None = None  # the .zip it came from


def display_name(raw: str) -> str:
    """NFC, with bytes that are not UTF-8 (surrogate escapes) shown as U+FFFD."""
    text = raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return unicodedata.normalize("NFC", text)


def name_bytes(raw: str) -> bytes:
    return os.fsencode(raw)


def inside(path: Path, root: Path) -> bool:
    """True when `path`, symlinks resolved, lies under `root` (already resolved)."""
    try:
        path.resolve().relative_to(root)
        return True
    except (ValueError, OSError, RuntimeError):
        return False


def _skip_reason(path: Path, name: str, root: Path, where: str) -> str | None:
    """Why a directory entry that is not a folder is not read, or None to read it."""
    if name.lower().endswith(REASON_SUFFIX):
        return "a quarantine note (<file>.reason.txt), not a report"
    if name.startswith("~$") or name.startswith(".~lock."):
        return "an Office lock file (the document is open in Word/LibreOffice); close it and drop the file"
    if name.startswith("."):
        return "a hidden file (name starts with '.'), not read"
    if name.lower().endswith(_PARTIAL_SUFFIXES):
        return "an unfinished download; left for the next run"
    if path.is_symlink():
        try:
            target = Path(os.readlink(path))
        except OSError as exc:
            return f"a symlink that cannot be read ({exc.strerror or exc})"
        if not path.exists():
            return f"a broken symlink (to {target})"
        if not inside(path, root):
            return f"a symlink to {target}, outside the {where}; not followed"
        if path.is_dir():
            return "a symlinked folder; not followed"
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if not stat.S_ISREG(mode):
        return "not a regular file (a device, pipe or socket)"
    return None


def _walk(folder: Path, root: Path, where: str, drain: bool,
          list_dir: Callable[[Path], list[os.DirEntry]]) -> Iterator[Entry]:
    try:
        children = sorted(list_dir(folder), key=lambda e: e.name)
    except OSError as exc:
        yield Entry(folder, display_name(folder.name), name_bytes(folder.name),
                    skip=f"a folder that cannot be listed ({exc.strerror or exc}); its files were not read")
        return
    for child in children:
        path = Path(child.path)
        name = child.name
        if child.is_dir(follow_symlinks=False):
            if name.startswith("."):
                yield Entry(path, display_name(name) + "/", name_bytes(name),
                            skip="a hidden folder (name starts with '.'), not read")
            else:
                yield from _walk(path, root, where, drain, list_dir)
            continue
        reason = _skip_reason(path, name, root, where)
        yield Entry(path.absolute(), display_name(name), name_bytes(name), skip=reason, drain=drain)


def _scandir(folder: Path) -> list[os.DirEntry]:
    with os.scandir(folder) as it:
        return list(it)


def scan(paths: Iterable[Path], inbox: Path | None = None, move: bool = False,
         list_dir: Callable[[Path], list[os.DirEntry]] = _scandir) -> list[Entry]:
    """Every entry under `paths` (files or folders), in name order, each path once.

    Files inside `inbox` (or all of them, with `move`) are marked to be drained. A file named
    explicitly is read whatever its name; a symlink named explicitly is followed (the user
    chose it), but one met while walking a folder only when it stays inside that folder.
    """
    inbox_root = inbox.resolve() if inbox is not None else None
    seen: set[Path] = set()
    out: list[Entry] = []
    for given in paths:
        given = Path(given)
        if given.is_dir():
            root = given.resolve()
            drain = move or (inbox_root is not None and inside(given, inbox_root))
            where = "inbox" if inbox_root is not None and root == inbox_root else "folder"
            entries: Iterable[Entry] = _walk(given, root, where, drain, list_dir)
        else:
            drain = move or (inbox_root is not None and inside(given.parent, inbox_root))
            name = given.name
            skip = None if given.is_file() else "not a regular file"
            entries = [Entry(given.absolute(), display_name(name), name_bytes(name), skip=skip, drain=drain)]
        for entry in entries:
            key = entry.path.absolute()
            if key in seen:
                continue
            seen.add(key)
            out.append(entry)
    return out
