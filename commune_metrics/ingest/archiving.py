"""Where a file goes once its load has committed: processed/YYYY-MM-DD/ or quarantine/ (with
`<name>.reason.txt` beside it). Files of the inbox are moved there; files read in place
(given from elsewhere) are copied, and the original is never touched. Names never overwrite.
"""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

from commune_metrics.ingest.entries import REASON_SUFFIX
from commune_metrics.warehouse import QUARANTINED, SKIPPED, UNCHANGED, LoadOutcome

_NAME_MAX = 255  # bytes per file name on Linux file systems


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


def archive(outcome: LoadOutcome, archive_root: Path, keep_inbox: bool = False,
            today: date | None = None) -> Path | None:
    """Move (or copy, with keep_inbox: the file is read in place) a file whose load has
    committed. Skipped files stay. A copy is made once: not for an unchanged file, nor for
    bytes quarantined before (their copy is there already). Of a .zip's members only the
    quarantined ones are copied (with their reason); the .zip itself holds the rest."""
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
    reason_file = None
    if outcome.outcome == QUARANTINED:
        # Reason first: a run killed between the two steps leaves a reason without a file (the
        # file is still in the inbox and is quarantined again), never a file without its reason.
        reason_file = Path(str(target) + REASON_SUFFIX)
        reason_file.write_text(
            f"{source.name}{f' (from {outcome.container})' if outcome.container else ''}\n"
            f"sha256: {outcome.sha256}\nreason: {outcome.reason}\n", encoding="utf-8",
            errors="replace",  # a name that is not UTF-8 (surrogate escapes)
        )
    try:
        if keep_inbox:
            shutil.copy2(source, target)
        else:
            shutil.move(str(source), str(target))
    except BaseException:
        if reason_file is not None:
            reason_file.unlink(missing_ok=True)
        raise
    return target
