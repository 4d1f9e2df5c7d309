"""A hostile inbox loses nothing and breaks nothing.

The big test runs `python -m tools.fuzz` on ~200 files (good reports mixed with bombs,
broken, encrypted and lying PDFs, active content, odd names, symlinks) in a subprocess, so
its peak RSS is the ingest's own and a hang is caught by a timeout. The small tests pin each
bug the fuzzer found, and check that the verifier itself notices a lost file.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from commune_metrics.core.config import Limits
from commune_metrics.core.errors import (
    EmptyFileError,
    EncryptedFileError,
    OcrError,
    ReaderError,
    ZipBombError,
)
from commune_metrics.readers import read_file
from tools.fuzz import (
    build_inbox,
    encrypted_pdf,
    flate_bomb_pdf,
    giant_page_pdf,
    verify,
    zero_page_pdf,
)

REPO = Path(__file__).resolve().parent.parent
FUZZ_FILES = int(os.environ.get("CM_FUZZ_FILES", "200"))
MAX_RSS_MB = 1500  # the models take ~300 MB; a bomb that got through would take gigabytes
MAX_FILE_SECONDS = 30  # OCR of a scanned page included


@pytest.mark.slow
def test_hostile_inbox_every_file_in_exactly_one_place(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "tools.fuzz", "--files", str(FUZZ_FILES), "--json", "--seed", "7",
           "--max-rss-mb", str(MAX_RSS_MB), "--max-file-seconds", str(MAX_FILE_SECONDS),
           "--workdir", str(tmp_path / "fuzz")]
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=REPO, check=False)
    report = json.loads(proc.stdout)
    print(json.dumps({k: v for k, v in report.items() if k != "kinds"}, ensure_ascii=False))
    assert report["problems"] == [], "\n".join(report["problems"][:30])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert report["files"] >= FUZZ_FILES
    # every planted file ends loaded, unchanged or quarantined; the five symlinks out of the inbox
    # get one skipped line each
    assert sum(report["counts"].values()) == report["files"] + 5
    assert report["counts"].get("skipped", 0) == 5
    # Every hostile kind was planted and refused for its own reason.
    kinds = report["kinds"]
    for kind in ("zero_byte", "truncated_pdf", "encrypted_pdf", "zero_page_pdf", "claims_100000_pages",
                 "docx_not_zip", "zip_bomb_size", "zip_bomb_ratio", "pdf_flate_bomb", "pdf_giant_page",
                 "binary_as_report"):
        assert set(kinds[kind]) == {"quarantined"}, (kind, kinds[kind])
    assert kinds["duplicate_bytes"].get("unchanged", 0) >= 1
    assert kinds["docx_external_links"].get("loaded", 0) >= 1  # read, links never followed
    assert "internal_error" not in report["codes"]
    assert report["connections"] == 0
    assert max(report["peak_rss_mb"], report["peak_child_rss_mb"]) < MAX_RSS_MB
    assert report["max_file_seconds"] < MAX_FILE_SECONDS
    print(f"fuzz of {report['files']} files: {time.monotonic() - started:.0f} s")


def test_verifier_notices_a_lost_file(tmp_path: Path) -> None:
    """The fuzz verdict is only as good as the verifier: a lost, a doubly archived and an
    unaccounted file must each be reported."""
    from commune_metrics.ingest.inbox import ingest

    inbox = build_inbox(tmp_path / "inbox", files=30, seed=1, outside=tmp_path / "outside", scans=0)
    warehouse, archive = tmp_path / "wh.duckdb", tmp_path / "archive"
    summary = ingest([inbox.root], warehouse=warehouse, archive_root=archive, settle_seconds=0,
                     inbox=inbox.root)
    assert verify(inbox, summary, warehouse, archive) == []

    lost = next(o for o in summary.outcomes if o.outcome == "quarantined")
    Path(lost.archived_to).unlink()
    extra = archive / "processed" / "stray.txt"
    extra.write_text("not planted", encoding="utf-8")
    summary.outcomes.append(next(o for o in summary.outcomes if o.outcome != "skipped"))
    problems = verify(inbox, summary, warehouse, archive)
    assert any("not archived" in p for p in problems)
    assert any("2 outcomes" in p for p in problems)
    assert any("unexpected file in the archive" in p and "stray.txt" in p for p in problems)


def test_the_fuzzer_runs_the_products_process_pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One executor: the fuzzer's ingest goes through `make_processor`, the pool that
    `commune-metrics ingest --workers N` uses, and every file is still accounted for."""
    import pickle

    import commune_metrics.ingest.inbox as inbox_module
    import commune_metrics.ingest.parallel as parallel
    from tools.fuzz import ingest_child

    built: list = []
    real = parallel.make_processor

    def spy(workers=None, limits=None):
        built.append(real(workers, limits))
        return built[-1]

    monkeypatch.setattr(parallel, "make_processor", spy)
    assert not hasattr(inbox_module, "PoolProcessor"), "the fuzzer-only pool is back"
    inbox = build_inbox(tmp_path / "inbox", files=20, seed=2, outside=tmp_path / "outside", scans=0)
    ingest_child(tmp_path, 2)
    assert len(built) == 1 and isinstance(built[0], parallel.ParallelProcessor) and built[0].workers == 2
    assert built[0]._pool is None  # closed after the run: no worker left
    summary = pickle.loads((tmp_path / "summary.pickle").read_bytes())["summary"]
    assert verify(inbox, summary, tmp_path / "warehouse.duckdb", tmp_path / "archive") == []


# --- regressions found by the fuzzer ----------------------------------------------------------


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_flate_bomb_pdf_is_refused_before_parsing(tmp_path: Path) -> None:
    # 400 MB of drawing operators in a ~0.8 MB file: PDFium needed >18 GB and never finished.
    path = tmp_path / "bomb.pdf"
    path.write_bytes(flate_bomb_pdf(400))
    before = _peak_rss_mb()
    started = time.monotonic()
    with pytest.raises(ZipBombError) as info:
        read_file(path, Limits())
    assert time.monotonic() - started < 5
    assert _peak_rss_mb() - before < 100
    assert "16 MB" in info.value.reason


def test_pdf_stream_limit_is_configurable(tmp_path: Path) -> None:
    path = tmp_path / "heavy.pdf"
    path.write_bytes(flate_bomb_pdf(3))
    with pytest.raises(ZipBombError):
        read_file(path, Limits(max_pdf_stream_mb=2))
    try:  # under the limit it is an ordinary (drawing-only) page
        read_file(path, Limits(max_pdf_stream_mb=4))
    except ReaderError as exc:
        assert not isinstance(exc, ZipBombError)


def test_many_drawings_skip_table_finding(tmp_path: Path) -> None:
    # 3 MB of path operators is ~220,000 drawings: pdfplumber's table finder took minutes.
    path = tmp_path / "drawings.pdf"
    path.write_bytes(flate_bomb_pdf(3))
    started = time.monotonic()
    try:
        read_file(path, Limits())
    except ReaderError:
        pass
    assert time.monotonic() - started < 10


def test_giant_page_is_not_rendered_for_ocr(tmp_path: Path) -> None:
    # A 709-byte PDF with a 200 x 200 inch "scanned" page: 3.5 GB of bitmap at 300 dpi.
    path = tmp_path / "giant.pdf"
    path.write_bytes(giant_page_pdf())
    before = _peak_rss_mb()
    with pytest.raises(OcrError) as info:
        read_file(path, Limits())
    assert _peak_rss_mb() - before < 200
    assert "too large" in info.value.reason


def test_encrypted_then_empty_pdf_keep_their_own_reasons(tmp_path: Path) -> None:
    # PDFium's last error outlived the encrypted file and relabelled the next failure.
    locked, empty = tmp_path / "locked.pdf", tmp_path / "empty.pdf"
    locked.write_bytes(encrypted_pdf("Tổng số 10 hồ sơ."))
    empty.write_bytes(zero_page_pdf())
    with pytest.raises(EncryptedFileError):
        read_file(locked, Limits())
    with pytest.raises(EmptyFileError):
        read_file(empty, Limits())


def test_non_utf8_and_overlong_names_are_archived_with_reasons(tmp_path: Path) -> None:
    from commune_metrics.ingest.inbox import ingest

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    bad_name = os.fsencode(inbox) + b"/b\xe1o c\xe1o.txt"  # Windows-1258 bytes in the name
    with open(bad_name, "wb") as fh:
        fh.write("Báo cáo".encode("cp1258"))
    long_name = inbox / ("Báo cáo tháng bảy của xã " * 10)[:78].replace("/", "_")
    long_name = long_name.with_name(long_name.name[: 240 // 3] + ".pdf")
    while len(os.fsencode(long_name.name)) < 250:
        long_name = long_name.with_name("x" + long_name.name)
    long_name.write_bytes(b"")
    summary = ingest([inbox], warehouse=tmp_path / "wh.duckdb", archive_root=tmp_path / "archive",
                     settle_seconds=0, inbox=inbox)
    # the Windows-1258 text is read since issue 13; the empty file with the long name is quarantined
    assert summary.counts == {"loaded": 1, "quarantined": 1}
    for outcome in summary.outcomes:
        target = Path(outcome.archived_to)
        assert target.is_file()
        assert Path(str(target) + ".reason.txt").is_file() == (outcome.outcome == "quarantined")
        assert len(os.fsencode(target.name + ".reason.txt")) <= 255
    assert not any(inbox.iterdir())
    shutil.rmtree(inbox)
