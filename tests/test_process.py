"""process_file (never raises for a bad file) and the inbox: listing, settling, archiving."""

from __future__ import annotations

import hashlib
import os
import pickle
import threading
import time
from datetime import date
from pathlib import Path

import pytest

from commune_metrics.ingest import inbox
from commune_metrics.ingest.inbox import REASON_SUFFIX, archive, list_files, settled
from commune_metrics.ingest.process import ERROR, OK, QUARANTINED, process_file
from commune_metrics.warehouse import LoadOutcome

REPORT = (
    "ỦY BAN NHÂN DÂN XÃ TÂN THÀNH\n"
    "BÁO CÁO\n"
    "Kết quả thực hiện chuyển đổi số tháng 7 năm 2025\n"
    "Trong tháng, Bộ phận Một cửa tiếp nhận 120 hồ sơ, trong đó 84 hồ sơ trực tuyến.\n"
)


def write(path: Path, text: str = REPORT) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_good_file_gives_metadata_and_its_hash(tmp_path: Path) -> None:
    path = write(tmp_path / "bc.txt")
    result = process_file(path)
    assert result.status == OK and result.ok
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.size_bytes == path.stat().st_size
    assert result.meta is not None and result.meta.doc_type == "report"
    assert result.file_type == "txt" and result.source_file == "bc.txt"
    for f in result.facts:  # evidence spans point into the document (once facts are extracted)
        assert f.evidence and 0 <= f.char_start < f.char_end
    assert pickle.loads(pickle.dumps(result)) == result  # crosses process and task boundaries


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("empty.txt", b"", "empty"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj <<", "corrupt"),
        ("slides.pptx", b"PK\x03\x04", "unsupported"),
    ],
)
def test_bad_files_become_quarantine_reasons(tmp_path: Path, name: str, content: bytes, code: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = process_file(path)
    assert result.status == QUARANTINED
    assert result.code == code and result.reason
    assert result.sha256 == hashlib.sha256(content).hexdigest()


def test_missing_file_is_a_transient_error_not_a_quarantine(tmp_path: Path) -> None:
    result = process_file(tmp_path / "gone.txt")
    assert result.status == ERROR and result.code == "unreachable" and result.sha256 is None


def test_a_crash_inside_extraction_is_contained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import commune_metrics.extract.extractor

    def boom(doc):
        raise IndexError("list index out of range")

    monkeypatch.setattr(commune_metrics.extract.extractor, "extract", boom)
    result = process_file(write(tmp_path / "odd.txt"))
    assert result.status == QUARANTINED
    assert result.code == "internal_error" and "IndexError" in result.reason


# -- inbox -----------------------------------------------------------------------------


def test_list_files_takes_supported_files_and_no_symlink_escapes(tmp_path: Path) -> None:
    box = tmp_path / "inbox"
    a = write(box / "a.txt")
    b = write(box / "sub" / "b.TXT")
    write(box / "notes.md")
    write(box / ".hidden.txt")
    write(box / ("old.pdf" + REASON_SUFFIX))
    secret = write(tmp_path / "outside" / "secret.txt")
    (box / "escape.txt").symlink_to(secret)
    (box / "escape_dir").symlink_to(secret.parent, target_is_directory=True)
    (box / "inside.txt").symlink_to(a)
    found = list_files([box])
    # notes.md is read (and quarantined as unsupported); hidden files, quarantine notes and
    # symlinks out of the folder are skipped with a reason (see test_entries.py)
    assert sorted(p.name for p in found) == ["a.txt", "b.TXT", "inside.txt", "notes.md"]
    assert b.absolute() in found
    # A file named explicitly is always taken (the reader then judges its type).
    assert list_files([box / "notes.md", a, a]) == [(box / "notes.md").absolute(), a.absolute()]


def test_settled_leaves_files_that_are_still_growing(tmp_path: Path) -> None:
    old = write(tmp_path / "old.txt")
    past = time.time() - 60
    os.utime(old, (past, past))
    growing = write(tmp_path / "growing.txt")
    stop = threading.Event()

    def append() -> None:
        with open(growing, "a", encoding="utf-8") as fh:
            while not stop.is_set():
                fh.write("x")
                fh.flush()
                time.sleep(0.02)

    writer = threading.Thread(target=append)
    writer.start()
    try:
        ready, busy = settled([old, growing], interval=0.3)
    finally:
        stop.set()
        writer.join()
    assert ready == [old] and busy == [growing]


def test_settled_does_not_wait_for_old_files(tmp_path: Path) -> None:
    old = write(tmp_path / "old.txt")
    past = time.time() - 60
    os.utime(old, (past, past))
    started = time.perf_counter()
    assert settled([old], interval=5) == ([old], [])
    assert time.perf_counter() - started < 1


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_archive_never_overwrites_and_writes_a_reason_file(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    day = date(2025, 11, 24)
    for i in range(3):
        src = write(tmp_path / "inbox" / "bc.txt", f"version {i}")
        target = archive(LoadOutcome("bc.txt", str(src), _sha(src), "loaded"), root, today=day)
        assert not src.exists()
        assert target.read_text(encoding="utf-8") == f"version {i}"
    assert sorted(p.name for p in (root / "processed" / "2025-11-24").iterdir()) == [
        "bc.txt",
        "bc__2.txt",
        "bc__3.txt",
    ]

    src = write(tmp_path / "inbox" / "bad.pdf", "garbage")
    target = archive(
        LoadOutcome("bad.pdf", str(src), _sha(src), "quarantined", reason="corrupt: truncated"), root
    )
    assert target == root / "quarantine" / "bad.pdf"
    reason = Path(str(target) + REASON_SUFFIX).read_text(encoding="utf-8")
    assert "corrupt: truncated" in reason and _sha(target) in reason


def test_archive_keep_inbox_copies_and_skipped_files_stay(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    src = write(tmp_path / "inbox" / "a.txt")
    sha = _sha(src)
    copy = archive(LoadOutcome("a.txt", str(src), sha, "loaded"), root, keep_inbox=True)
    assert copy.exists() and _sha(copy) == sha
    assert src.exists()
    assert archive(LoadOutcome("a.txt", str(src), sha, "unchanged"), root, keep_inbox=True) is None
    assert archive(LoadOutcome("a.txt", str(src), sha, "skipped"), root) is None
    assert src.exists()
    assert list((root / ".partial").iterdir()) == []  # the temporary copy was renamed


@pytest.mark.parametrize("keep_inbox", [False, True])
def test_a_file_changed_after_it_was_read_is_not_archived(tmp_path: Path, keep_inbox: bool) -> None:
    """The archive holds exactly the bytes that were loaded: a file whose bytes changed since
    stays in the inbox (moved or copied, on this or another file system)."""
    from commune_metrics.ingest.archiving import FileChangedAfterRead

    root = tmp_path / "raw"
    src = write(tmp_path / "inbox" / "a.txt")
    loaded_sha = _sha(src)
    with src.open("a", encoding="utf-8") as fh:
        fh.write("Tiếp nhận thêm 5 hồ sơ.\n")
    with pytest.raises(FileChangedAfterRead):
        archive(LoadOutcome("a.txt", str(src), loaded_sha, "loaded"), root, keep_inbox=keep_inbox)
    assert src.exists()
    assert [p for p in root.rglob("*") if p.is_file()] == []


def test_ingest_accounts_for_every_file(tmp_path: Path) -> None:
    box = tmp_path / "inbox"
    write(box / "a.txt")
    write(box / "b.txt", REPORT.replace("120", "121"))
    (box / "empty.txt").write_bytes(b"")
    (box / "copy_of_a.txt").write_bytes((box / "a.txt").read_bytes())
    summary = inbox.ingest(
        [box], warehouse=tmp_path / "w.duckdb", archive_root=tmp_path / "raw", settle_seconds=0, chunk_size=2,
        inbox=box,
    )
    outcomes = {o.source_file: o.outcome for o in summary.outcomes}
    assert outcomes == {
        "a.txt": "loaded",
        "b.txt": "loaded",
        "empty.txt": "quarantined",
        "copy_of_a.txt": "unchanged",
    }
    assert list(box.iterdir()) == []
    archived = [
        p for p in (tmp_path / "raw").rglob("*") if p.is_file() and not p.name.endswith(REASON_SUFFIX)
    ]
    assert len(archived) == 4
    assert summary.error is None and summary.run_id == 1


def test_a_broken_setup_stops_the_run_before_any_file_moves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import commune_metrics.extract.extractor
    from commune_metrics.ingest.process import PipelineSetupError

    def broken(doc):
        raise ValueError("rules/metrics.yaml: not valid YAML\n  line 100")

    monkeypatch.setattr(commune_metrics.extract.extractor, "extract", broken)
    src = write(tmp_path / "inbox" / "a.txt")
    with pytest.raises(PipelineSetupError, match=r"no file was touched .*not valid YAML\)$"):
        inbox.ingest(
            [src.parent], warehouse=tmp_path / "w.duckdb", archive_root=tmp_path / "raw", settle_seconds=0
        )
    assert src.exists() and not (tmp_path / "raw").exists() and not (tmp_path / "w.duckdb").exists()


GROWTH = "Bộ phận Một cửa đã giải quyết 777 hồ sơ.\n"


class _Grows:
    """A ProcessMany that appends to `path` before (a file still being written when a worker
    reads it) or after (changed once read, before the move) extracting."""

    def __init__(self, path: Path, before: bool) -> None:
        self.path, self.before = path, before

    def _grow(self) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(GROWTH)

    def __call__(self, items):
        from commune_metrics.ingest.parallel import SequentialProcessor

        if self.before:
            self._grow()
        results = SequentialProcessor()(items)
        if not self.before:
            self._grow()
        return results


def _loaded_versions(warehouse: Path) -> list[tuple[str, bool]]:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(
            """SELECT d.sha256, bool_or(f.value = 777) FROM document_versions d
               LEFT JOIN fact_rows f USING (doc_id) GROUP BY d.sha256, d.doc_id ORDER BY d.doc_id"""
        ).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("grows", ["before reading", "after reading"])
def test_a_file_grown_mid_run_is_skipped_or_loaded_with_the_hash_of_the_bytes_extracted(
    tmp_path: Path, grows: str
) -> None:
    box, warehouse, raw = tmp_path / "inbox", tmp_path / "w.duckdb", tmp_path / "raw"
    src = write(box / "bc.txt")
    original = _sha(src)
    summary = inbox.ingest([box], inbox=box, warehouse=warehouse, archive_root=raw, settle_seconds=0,
                           process_many=_Grows(src, before=grows == "before reading"))
    (outcome,) = summary.outcomes
    grown = _sha(src)
    assert grown != original and src.exists()  # left in the inbox either way
    if grows == "before reading":
        assert outcome.outcome == "skipped" and "changed while being read" in outcome.reason
        assert _loaded_versions(warehouse) == []
    else:
        assert outcome.outcome == "loaded" and "changed after it was read" in outcome.reason
        assert _loaded_versions(warehouse) == [(original, False)]  # the bytes it extracted
    assert [p for p in raw.rglob("*") if p.is_file()] == []

    again = inbox.ingest([box], inbox=box, warehouse=warehouse, archive_root=raw, settle_seconds=0)
    assert [o.outcome for o in again.outcomes] == ["loaded"]
    versions = _loaded_versions(warehouse)
    assert versions[-1] == (grown, True)  # the grown bytes, their hash and their figure
    assert all(sha == (grown if has_777 else original) for sha, has_777 in versions)
    (archived,) = [p for p in raw.rglob("*") if p.is_file()]
    assert _sha(archived) == grown and not src.exists()


def test_an_unreadable_folder_gets_one_line_and_one_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """Every entry is accounted for: a folder that cannot be listed is reported (its files are
    not lost, they wait), not skipped without a word."""
    import duckdb

    from commune_metrics.cli import main

    box = tmp_path / "inbox"
    write(box / "a.txt")
    write(box / "locked" / "inside.txt", REPORT.replace("120", "130"))
    locked = box / "locked"
    real_scandir = os.scandir

    def scandir(path=".", *args):
        # as a user without the right to list it sees it (a file descriptor: shutil's clean-up)
        if not isinstance(path, int) and os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path, *args)

    if os.geteuid() == 0:  # root lists any folder: simulate the permission error
        monkeypatch.setattr(os, "scandir", scandir)
    else:
        locked.chmod(0)
    try:
        with pytest.raises(SystemExit) as exited:
            main(["ingest", str(box), "--warehouse", str(tmp_path / "w.duckdb"),
                  "--archive", str(tmp_path / "raw")])
    finally:
        locked.chmod(0o755)
    out = capsys.readouterr().out
    assert exited.value.code in (0, None)
    lines = [line for line in out.splitlines() if "locked" in line]
    assert len(lines) == 1 and lines[0].startswith("skipped") and "Permission denied" in lines[0], out
    assert "2 files" in out and "1 loaded" in out and "1 skipped" in out, out
    assert (locked / "inside.txt").exists()  # untouched, for the next run
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT source_file, outcome, reason FROM run_files "
                           "ORDER BY source_file").fetchall()
    finally:
        con.close()
    assert [(r[0], r[1]) for r in rows] == [("a.txt", "loaded"), ("locked", "skipped")]
    assert "a folder that cannot be listed (Permission denied)" in rows[1][2]


ORIGINAL = (
    "ỦY BAN NHÂN DÂN XÃ TÂN THÀNH\nSố: 87/BC-UBND\nTân Thành, ngày 5 tháng 7 năm 2025\nBÁO CÁO\n"
    "Kết quả thực hiện chuyển đổi số tháng 6 năm 2025\n"
    "Trong tháng, Bộ phận Một cửa tiếp nhận 120 hồ sơ, trong đó 84 hồ sơ trực tuyến.\n"
)
CORRECTION = ORIGINAL.replace("ngày 5 tháng 7", "ngày 12 tháng 7").replace("120 hồ sơ", "125 hồ sơ")


@pytest.mark.parametrize("names", [("a_dieu_chinh.txt", "b_bao_cao.txt"),
                                   ("b_dieu_chinh.txt", "a_bao_cao.txt")])
def test_an_original_and_its_correction_in_one_batch_the_later_issue_is_current(
    tmp_path: Path, names: tuple[str, str]
) -> None:
    """Sort order never decides the current version: dropped together, whatever their names,
    the correction (issued later) is current and the original is history."""
    import duckdb

    correction_name, original_name = names
    box = tmp_path / "inbox"
    write(box / correction_name, CORRECTION)
    write(box / original_name, ORIGINAL)
    summary = inbox.ingest([box], inbox=box, warehouse=tmp_path / "w.duckdb", archive_root=tmp_path / "raw",
                           settle_seconds=0)
    assert sorted(o.outcome for o in summary.outcomes) == ["loaded", "loaded"]
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    try:
        current = con.execute("SELECT source_file, issued_on FROM document_versions "
                              "WHERE is_current").fetchall()
        history = con.execute("SELECT source_file, superseded_by IS NOT NULL FROM document_versions "
                              "WHERE NOT is_current").fetchall()
        received = con.execute("SELECT value FROM facts WHERE metric = 'dossiers.received'").fetchall()
    finally:
        con.close()
    assert [c[0] for c in current] == [correction_name] and str(current[0][1]) == "2025-07-12"
    assert history == [(original_name, True)]
    assert received == [(125.0,)]
