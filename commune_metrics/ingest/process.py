"""One file in, one ProcessResult out: read -> normalize -> extract -> validate.

`process_file` is pure with respect to the warehouse and the inbox: it touches neither, so
the in-process CLI, worker processes and Prefect tasks all call the same function. It never
raises for a bad file: a ReaderError (or a crash inside extraction) becomes a quarantine
reason. Only trouble reaching the file itself (it vanished, permissions) is reported as a
transient "error", so the caller can leave the file in the inbox for the next run.

Heavy models are lazy singletons upstream; importing them here once per process keeps them
loaded across files.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from commune_metrics.core.config import Limits
from commune_metrics.core.errors import ReaderError
from commune_metrics.core.model import (
    ERROR,
    INTERNAL_ERROR_CODE,
    OK,
    QUARANTINED,
    ProcessResult,
)
from commune_metrics.core.similarity import text_signature

_HASH_CHUNK = 1 << 20
CHANGED = "changed"  # code of a file whose bytes are not those the caller hashed


class PipelineSetupError(Exception):
    """Extraction cannot run at all (broken rules file, missing model): not any file's fault."""


def preflight() -> None:
    """Run read-free extraction once on a tiny built-in document, so a broken installation
    or rules file stops the run with one clear error instead of quarantining every file.
    Also warms the lazy model singletons of this process."""
    from commune_metrics.checks import check
    from commune_metrics.core.document import RawDocument, RawPage
    from commune_metrics.extract.extractor import extract
    from commune_metrics.readers.normalize import normalize

    raw = RawDocument("preflight.txt", "0" * 64, "txt",
                      [RawPage("BÁO CÁO\nBộ phận Một cửa tiếp nhận 10 hồ sơ.\n")], paginated=False)
    try:
        check(extract(normalize(raw)))
    except Exception as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise PipelineSetupError(
            f"extraction cannot run, no file was touched ({type(exc).__name__}: {first_line})"
        ) from exc


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


CHANGED_WHILE_READ = "changed while being read (not the bytes listed); left for the next run"


def process_file(path: Path, limits: Limits | None = None, sha256: str | None = None) -> ProcessResult:
    """Extract one file. Its bytes are read once: hashed, then extracted from that same buffer,
    so the result's sha256 is always the hash of the bytes its facts came from.

    `sha256`: the hash the caller saw when it listed the file. Bytes that hash differently
    changed in between (a file still being written, a re-send over the old one): the result is
    then a transient error, and the file is left for the next run."""
    path = Path(path)
    limits = limits or Limits.from_env()
    started = time.perf_counter()
    result = ProcessResult(source_file=path.name, path=str(path), sha256=sha256, size_bytes=None, status=OK)
    # Imported here, not at module level, so a worker pays model loading only when it
    # first processes a file, and importing this module stays cheap for the CLI.
    from commune_metrics.checks import check
    from commune_metrics.extract.extractor import extract
    from commune_metrics.readers import load_document, read_capped

    try:
        data = read_capped(path, limits)
    except ReaderError as exc:  # empty or over the size limit, known before reading
        return _refused_unread(result, path, started, exc)
    except OSError as exc:
        return _finish(result, started, ERROR, "unreachable", f"{type(exc).__name__}: {exc.strerror or exc}")
    result.size_bytes = len(data)
    read_sha = hashlib.sha256(data).hexdigest()
    if sha256 is not None and read_sha != sha256:
        return _finish(result, started, ERROR, CHANGED, CHANGED_WHILE_READ)
    result.sha256 = read_sha

    try:
        doc = load_document(path, limits, data=data)
        del data  # the text is what extraction needs; the bytes can go
        extraction = extract(doc)
        flags = check(extraction)
    except ReaderError as exc:
        return _finish(result, started, QUARANTINED, exc.code, exc.reason)
    except (FileNotFoundError, PermissionError) as exc:
        return _finish(result, started, ERROR, "unreachable", f"{type(exc).__name__}: {exc.strerror or exc}")
    except Exception as exc:  # a bug on one odd file must not stop the batch
        return _finish(result, started, QUARANTINED, INTERNAL_ERROR_CODE, f"{type(exc).__name__}: {exc}")

    result.file_type = doc.file_type
    result.meta = extraction.meta
    result.facts = list(extraction.facts)
    result.flags = list(flags)
    result.pages = doc.page_count if doc.paginated else None
    result.ocr_pages = doc.ocr_pages
    result.encoding_fixed = doc.encoding_fixed
    # What identifies the text whatever the bytes: same text under another name is unchanged,
    # and a document without number or subject is matched to its versions by its text.
    result.text_sha256 = hashlib.sha256(doc.text.encode("utf-8")).hexdigest()
    result.text_signature = text_signature(doc.text)
    result.text = doc.text
    result.page_starts = [p.start for p in doc.pages] if doc.paginated else None
    return _finish(result, started, OK, None, None)


def _refused_unread(result: ProcessResult, path: Path, started: float, exc: ReaderError) -> ProcessResult:
    """A file refused from its size alone: quarantined under the hash the caller listed, or,
    called without one, the hash of the file as it is (streamed: it may be huge)."""
    try:
        result.size_bytes = path.stat().st_size
        if result.sha256 is None:
            result.sha256 = sha256_file(path)
    except OSError as err:
        return _finish(result, started, ERROR, "unreachable", f"{type(err).__name__}: {err.strerror or err}")
    return _finish(result, started, QUARANTINED, exc.code, exc.reason)


def _finish(result: ProcessResult, started: float, status: str, code: str | None,
            reason: str | None) -> ProcessResult:
    result.status = status
    result.code = code
    result.reason = reason
    result.seconds = round(time.perf_counter() - started, 4)
    return result
