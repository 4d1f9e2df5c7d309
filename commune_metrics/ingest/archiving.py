"""Where a file goes once its load has committed: processed/YYYY-MM-DD/ or quarantine/ (with
`<name>.reason.txt` beside it). Files of the inbox are moved there; files read in place
(given from elsewhere) are copied, and the original is never touched. Names never overwrite.

Two more promises:
- **Exactly the bytes that were loaded.** The file is hashed as it is moved or copied and
  must match the hash its facts came from; a file that changed after it was read stays in
  the inbox (FileChangedAfterRead) and the next run loads its new bytes.
- **No partial file under a real name.** Copies (keep_inbox, or another file system) and
  reason files are written under a temporary name in `<archive>/.partial/` and renamed
  only once complete, so a full disk or a kill leaves at most a temporary file, which the
  next run sweeps. A move on the same file system is a rename: the whole file, atomically.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import uuid
from datetime import date
from pathlib import Path

from commune_metrics.core.lifecycle import pid_alive
from commune_metrics.ingest.entries import REASON_SUFFIX
from commune_metrics.warehouse import QUARANTINED, SKIPPED, UNCHANGED, LoadOutcome

PARTIAL_DIR = ".partial"
_NAME_MAX = 255  # bytes per file name on Linux file systems
_COPY_CHUNK = 1 << 20


class FileChangedAfterRead(Exception):
    """The file's bytes are no longer those that were loaded: it stays in the inbox."""


def _fits(stem: str, suffix: str) -> str:
    """`stem` cut so that stem + `__NNNN` + suffix + REASON_SUFFIX stays under _NAME_MAX bytes
    (a 250-byte name was archived, then its reason file could not be created)."""
    room = _NAME_MAX - len(os.fsencode(suffix + REASON_SUFFIX)) - len("__9999")
    while stem and len(os.fsencode(stem)) > room:
        stem = stem[:-1]
    return stem


def _free_name(folder: Path, name: str) -> Path:
    """`name` in `folder`, or `stem__2.ext`, `stem__3.ext`... : never overwrite."""
    stem, suffix = Path(name).stem, Path(name).suffix
    if len(os.fsencode(name + REASON_SUFFIX)) > _NAME_MAX:
        stem = _fits(stem, suffix)
        name = stem + suffix
    candidate = folder / name
    n = 1
    while candidate.exists() or candidate.is_symlink() or Path(str(candidate) + REASON_SUFFIX).exists():
        n += 1
        candidate = folder / f"{stem}__{n}{suffix}"
    return candidate


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_COPY_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _partial(archive_root: Path) -> Path:
    folder = archive_root / PARTIAL_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"


def _publish(tmp: Path, target: Path, durable: bool) -> None:
    """Rename a complete temporary file to its real name. `durable`: flush it to disk first,
    because the only other copy is about to be deleted."""
    if durable:
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    os.rename(tmp, target)


def _write_reason(archive_root: Path, reason_file: Path, text: str) -> None:
    tmp = _partial(archive_root)
    try:
        # errors="replace": a name that is not UTF-8 (surrogate escapes)
        tmp.write_bytes(text.encode("utf-8", errors="replace"))
        _publish(tmp, reason_file, durable=False)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _copy_verified(source: Path, target: Path, sha256: str | None, archive_root: Path, durable: bool) -> None:
    """Copy under a temporary name while hashing what is written; rename only when complete
    and equal to `sha256`."""
    tmp = _partial(archive_root)
    digest = hashlib.sha256()
    try:
        with source.open("rb") as src, tmp.open("wb") as dst:
            while chunk := src.read(_COPY_CHUNK):
                digest.update(chunk)
                dst.write(chunk)
        if sha256 is not None and digest.hexdigest() != sha256:
            raise FileChangedAfterRead(source.name)
        shutil.copystat(source, tmp)
        _publish(tmp, target, durable)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _move_verified(source: Path, target: Path, sha256: str | None, archive_root: Path) -> None:
    if sha256 is not None and _hash_file(source) != sha256:
        raise FileChangedAfterRead(source.name)
    try:
        os.rename(source, target)  # same file system: the whole file under its new name at once
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    _copy_verified(source, target, sha256, archive_root, durable=True)
    source.unlink()


def _expected(sha256: str | None) -> str | None:
    """The hash to verify against: only a real sha256 (a refused .zip member carries a made-up
    key, not the hash of any bytes)."""
    if sha256 is not None and len(sha256) == 64 and all(c in "0123456789abcdef" for c in sha256):
        return sha256
    return None


def archive(outcome: LoadOutcome, archive_root: Path, keep_inbox: bool = False,
            today: date | None = None) -> Path | None:
    """Move (or copy, with keep_inbox: the file is read in place) a file whose load has
    committed. Skipped files stay. A copy is made once: not for an unchanged file, nor for
    bytes quarantined before (their copy is there already). Of a .zip's members only the
    quarantined ones are copied (with their reason); the .zip itself holds the rest.
    Raises FileChangedAfterRead (the file stays) or OSError (e.g. a full disk: the file stays,
    and no partial file is left under a real name)."""
    if outcome.outcome == SKIPPED:
        return None
    if keep_inbox and (outcome.outcome == UNCHANGED or outcome.repeat):
        return None
    if outcome.container is not None and (outcome.outcome != QUARANTINED or outcome.repeat):
        return None
    source = Path(outcome.path)
    if not source.exists():
        return None
    if outcome.outcome == QUARANTINED:
        folder = archive_root / "quarantine"
    else:
        folder = archive_root / "processed" / (today or date.today()).isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    target = _free_name(folder, source.name)
    expected = _expected(outcome.sha256)
    reason_file = None
    if outcome.outcome == QUARANTINED:
        # Reason first: a run killed between the two steps leaves a reason without a file (the
        # file is still in the inbox and is quarantined again), never a file without its reason.
        reason_file = Path(str(target) + REASON_SUFFIX)
        _write_reason(archive_root, reason_file,
                      f"{source.name}{f' (from {outcome.container})' if outcome.container else ''}\n"
                      f"sha256: {outcome.sha256}\nreason: {outcome.reason}\n")
    try:
        if keep_inbox:
            _copy_verified(source, target, expected, archive_root, durable=False)
        else:
            _move_verified(source, target, expected, archive_root)
    except BaseException:
        if reason_file is not None:
            reason_file.unlink(missing_ok=True)
        raise
    return target


def sweep_partials(archive_root: Path) -> int:
    """Delete temporary files left by runs that died mid-copy (their pid is gone). Returns how
    many. Files of a live run (a concurrent ingest) are left alone."""
    folder = archive_root / PARTIAL_DIR
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        pid = entry.name.split("-", 1)[0]
        if pid.isdigit() and pid_alive(int(pid)):
            continue
        try:
            os.unlink(entry.path)
            removed += 1
        except OSError:
            pass
    return removed


def archive_error_text(exc: OSError) -> str:
    """One line for a file that could not be archived (it stays in the inbox)."""
    why = "no space left on device in the archive" if exc.errno == errno.ENOSPC else exc.strerror or str(exc)
    return f"not archived: {why}; left in the inbox, archived by the next run"
