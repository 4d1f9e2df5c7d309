"""One answer for every entry of a folder, and only the inbox is drained (issue 13)."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import duckdb
import pytest

from commune_metrics.ingest.entries import scan
from commune_metrics.ingest.inbox import ingest
from tests.test_process import write as _write


def _run(paths: list[Path], tmp_path: Path, **kw) -> tuple:
    summary = ingest(
        paths, warehouse=tmp_path / "w.duckdb", archive_root=tmp_path / "raw", settle_seconds=0, **kw
    )
    return summary, {o.source_file: o for o in summary.outcomes}


def test_every_entry_gets_one_line_and_one_row(tmp_path: Path) -> None:
    box = tmp_path / "inbox"
    _write(box / "bc.txt")
    _write(box / "notes.xyz", "not a report")
    _write(box / ".DS_Store", "junk")
    _write(box / "~$bc.docx", "lock")
    _write(box / "bc2.pdf.crdownload", "half")
    _write(box / "old.pdf.reason.txt", "note")
    _write(box / ".git" / "config", "x")
    secret = _write(tmp_path / "outside" / "secret.txt")
    (box / "escape.txt").symlink_to(secret)
    (box / "broken.txt").symlink_to(tmp_path / "nowhere.txt")
    os.mkfifo(box / "pipe.txt")
    summary, by_name = _run([box], tmp_path, inbox=box)

    expected = {
        "bc.txt",
        "notes.xyz",
        ".DS_Store",
        "~$bc.docx",
        "bc2.pdf.crdownload",
        "old.pdf.reason.txt",
        ".git/",
        "escape.txt",
        "broken.txt",
        "pipe.txt",
    }
    assert set(by_name) == expected and len(summary.outcomes) == len(expected)
    assert sum(summary.counts.values()) == summary.entries == len(expected)
    assert by_name["bc.txt"].outcome == "loaded"
    unsupported = by_name["notes.xyz"]
    assert unsupported.outcome == "quarantined" and unsupported.reason.startswith("unsupported:")
    assert ".docx" in unsupported.reason and ".xlsx" in unsupported.reason and ".zip" in unsupported.reason
    reasons = {name: o.reason for name, o in by_name.items() if o.outcome == "skipped"}
    assert "outside the inbox" in reasons["escape.txt"] and "broken symlink" in reasons["broken.txt"]
    assert "hidden" in reasons[".DS_Store"] and "hidden folder" in reasons[".git/"]
    assert "lock file" in reasons["~$bc.docx"] and "unfinished download" in reasons["bc2.pdf.crdownload"]
    assert "quarantine note" in reasons["old.pdf.reason.txt"] and "not a regular file" in reasons["pipe.txt"]
    # one warehouse row each, and the secret behind the symlink was never read
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM run_files").fetchone()[0] == len(expected)
    assert con.execute("SELECT count(*) FROM documents WHERE source_file = 'secret.txt'").fetchone()[0] == 0
    # read files left the inbox; skipped ones wait there, each with its line
    left = {p.name for p in box.iterdir()}
    assert "bc.txt" not in left and "notes.xyz" not in left and "escape.txt" in left


def test_an_unreadable_subfolder_is_one_skipped_line(tmp_path: Path) -> None:
    box = tmp_path / "inbox"
    _write(box / "a.txt")
    _write(box / "locked" / "b.txt")

    def list_dir(folder: Path) -> list[os.DirEntry]:
        if folder.name == "locked":  # root ignores permission bits, so refuse the listing here
            raise PermissionError(13, "Permission denied")
        with os.scandir(folder) as it:
            return list(it)

    entries = scan([box], inbox=box, list_dir=list_dir)
    assert [(e.name, e.skip is not None) for e in entries] == [("a.txt", False), ("locked", True)]
    assert "cannot be listed" in entries[1].skip and "Permission denied" in entries[1].skip


def test_files_outside_the_inbox_are_read_in_place_and_a_copy_archived(tmp_path: Path) -> None:
    elsewhere = tmp_path / "Downloads"
    bc = _write(elsewhere / "bc.txt")
    bad = elsewhere / "empty.txt"
    bad.write_bytes(b"")
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in elsewhere.iterdir()}
    summary, by_name = _run([elsewhere], tmp_path, inbox=tmp_path / "inbox")
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in elsewhere.iterdir()} == before
    assert (
        by_name["bc.txt"].outcome == "loaded"
        and Path(by_name["bc.txt"].archived_to).read_bytes() == bc.read_bytes()
    )
    assert (tmp_path / "raw" / "quarantine" / "empty.txt.reason.txt").is_file()
    # a second run copies nothing again: the loaded file is unchanged, the bad one known
    again, by_name = _run([elsewhere, bc], tmp_path, inbox=tmp_path / "inbox")
    assert [o.outcome for o in again.outcomes] == ["unchanged", "quarantined"]
    assert all(o.archived_to is None for o in again.outcomes)
    assert len(list((tmp_path / "raw").rglob("*.txt"))) == 3  # bc.txt, empty.txt and its reason
    # --move asks for the move
    _, by_name = _run([elsewhere], tmp_path, inbox=tmp_path / "inbox", move=True)
    assert list(elsewhere.iterdir()) == []


def test_a_file_named_explicitly_inside_the_inbox_is_drained(tmp_path: Path) -> None:
    box = tmp_path / "inbox"
    bc = _write(box / "bc.txt")
    _run([bc], tmp_path, inbox=box)
    assert not bc.exists()


def test_nfd_file_names_are_stored_nfc_with_their_bytes(tmp_path: Path) -> None:
    box = tmp_path / "inbox"
    nfd = unicodedata.normalize("NFD", "Báo cáo tháng 7.txt")
    _write(box / nfd)
    _, by_name = _run([box], tmp_path, inbox=box)
    nfc = unicodedata.normalize("NFC", nfd)
    assert nfc != nfd and list(by_name) == [nfc]
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    assert con.execute("SELECT source_file, source_file_raw FROM documents").fetchall() == [
        (nfc, nfd.encode("utf-8"))
    ]
    assert con.execute("SELECT count(*) FROM facts WHERE source_file = ?", [nfc]).fetchone()[0] >= 1
    assert con.execute("SELECT source_file_raw FROM run_files").fetchone()[0] == nfd.encode("utf-8")


def test_cli_with_no_path_creates_and_drains_the_inbox(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from commune_metrics.cli import main

    box = tmp_path / "fresh" / "inbox"
    with pytest.raises(SystemExit) as exited:
        main(
            [
                "ingest",
                "--inbox",
                str(box),
                "--warehouse",
                str(tmp_path / "w.duckdb"),
                "--archive",
                str(tmp_path / "raw"),
            ]
        )
    assert exited.value.code in (0, None) and box.is_dir()
    assert "0 files" in capsys.readouterr().out
