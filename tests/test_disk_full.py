"""Disk full and I/O errors: the user reads the real cause in one line, a failed rollback never
hides it, a full disk does not stop read-only commands or the next open, and no partial file
is ever left under a real name in the archive.

The real-disk tests mount a small tmpfs in a private mount namespace (`unshare -m`, root or
unprivileged user namespaces), so nothing is mounted outside the test; elsewhere they skip
and the simulated ENOSPC tests still run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from commune_metrics.warehouse import WarehouseDiskFullError, connect_readonly, open_warehouse

REPO = Path(__file__).resolve().parent.parent
DISK_FULL_LINE = "no space left on device while writing the warehouse: free space and run again"
ENOSPC_TEXT = 'IO Error: Could not write all bytes to file "w.duckdb.wal": No space left on device'


# --- simulated ENOSPC ---------------------------------------------------------------------------

class _CommitFailsLikeAFullDisk:
    """A connection whose commit fails as DuckDB's does on a full disk, after which DuckDB has no
    transaction left, so a rollback fails too."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def __getattr__(self, name: str):
        return getattr(self._con, name)

    def commit(self) -> None:
        self._con.rollback()
        raise duckdb.IOException(ENOSPC_TEXT)

    def rollback(self) -> None:
        raise duckdb.TransactionException(
            "TransactionContext Error: cannot rollback - no transaction is active")


def test_a_failed_rollback_never_hides_the_disk_full_error(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with pytest.raises(WarehouseDiskFullError) as raised, open_warehouse(path) as wh:
        wh.con = _CommitFailsLikeAFullDisk(wh.con)
        with wh.batch():
            wh.start_run("test")
    assert str(raised.value).startswith(DISK_FULL_LINE)
    assert "No space left on device" in str(raised.value.__cause__)
    con = connect_readonly(path)
    try:
        assert con.execute("SELECT count(*) FROM runs").fetchone() == (0,)  # nothing half kept
    finally:
        con.close()


def test_disk_full_while_loading_is_one_line_and_the_next_run_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import commune_metrics.warehouse.store as store
    from commune_metrics.cli import main

    inbox = tmp_path / "inbox"
    _reports(inbox, 2)
    argv = ["ingest", str(inbox), "--inbox", str(inbox), "--warehouse", str(tmp_path / "w.duckdb"),
            "--archive", str(tmp_path / "raw")]

    def full(self, doc_id, result):
        raise duckdb.IOException(ENOSPC_TEXT)

    monkeypatch.setattr(store.Warehouse, "_insert_facts", full)
    with pytest.raises(SystemExit) as exited:
        main(argv)
    err = capsys.readouterr().err.strip()
    assert exited.value.code == 1
    assert err.splitlines() == [f"error: {DISK_FULL_LINE} ({tmp_path})"], err
    assert sorted(p.name for p in inbox.iterdir())  # nothing moved: nothing was loaded

    monkeypatch.undo()
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code in (0, None)
    con = connect_readonly(tmp_path / "w.duckdb")
    try:
        runs = con.execute("SELECT status, error_text FROM runs ORDER BY run_id").fetchall()
    finally:
        con.close()
    assert [r[0] for r in runs] == ["failed", "ok"] and "No space left on device" in runs[0][1]
    assert list(inbox.iterdir()) == []


def test_an_open_with_the_schema_up_to_date_writes_nothing(tmp_path: Path) -> None:
    """The schema is applied when its version changes, not on every open: a full disk must not
    stop a run at open."""
    path = tmp_path / "w.duckdb"
    with open_warehouse(path):
        pass
    before = hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns
    with open_warehouse(path) as wh:
        assert wh.con.execute("SELECT count(DISTINCT file) FROM schema_version").fetchone()[0] >= 4
    assert (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns) == before
    assert not path.with_name(path.name + ".wal").exists()


def test_a_new_warehouse_appears_only_with_its_whole_schema(tmp_path: Path, monkeypatch) -> None:
    """Killed (here: failing) while the first run creates the warehouse, no file without tables
    is left under the warehouse's name; the next open creates it whole."""
    import commune_metrics.warehouse.store as store

    path = tmp_path / "w.duckdb"

    def dies(con):
        raise KeyboardInterrupt  # stands for a kill between creating the file and committing

    monkeypatch.setattr(store, "refresh_reference", dies)
    with pytest.raises(KeyboardInterrupt), open_warehouse(path):
        pass
    assert not path.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.duckdb.lock"]
    monkeypatch.undo()
    with open_warehouse(path) as wh:
        assert wh.con.execute("SELECT count(*) FROM runs").fetchone() == (0,)


# --- a real full disk (tmpfs in a private mount namespace) -----------------------------------------

def _namespaces_work() -> bool:
    if not shutil.which("unshare") or not sys.platform.startswith("linux"):
        return False
    probe = "m=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs $m && umount $m && rmdir $m"
    flags = ["-m"] if os.geteuid() == 0 else ["-r", "-m"]
    try:
        return subprocess.run(["unshare", *flags, "sh", "-c", probe], capture_output=True,
                              timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


needs_tmpfs = pytest.mark.skipif(not _namespaces_work(), reason="cannot mount a tmpfs in a private namespace")

# Runs inside `unshare -m`: mounts a tmpfs, runs the CLI against it, reports what it saw as JSON.
DRIVER = textwrap.dedent('''
    import hashlib, json, os, subprocess, sys
    from pathlib import Path
    mnt, work, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    mnt.mkdir(parents=True, exist_ok=True)
    def sh(*cmd):
        subprocess.run(cmd, check=True)
    def cli(*args):
        p = subprocess.run([sys.executable, "-m", "commune_metrics", *args], capture_output=True,
                           text=True, errors="replace", cwd=os.environ["REPO"])
        return {"rc": p.returncode, "out": p.stdout, "err": p.stderr}
    def fill():
        with open(mnt / "filler", "wb") as fh:
            try:
                while True:
                    fh.write(b"\\0" * 65536)
                    fh.flush()
            except OSError:
                pass
    def files(root):
        return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(root.rglob("*")) if p.is_file()}
    report = {}
    inbox = work / "inbox"
    if mode == "warehouse":
        sh("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mnt))
        wh, arch = mnt / "w.duckdb", work / "archive"
        common = ["--warehouse", str(wh), "--archive", str(arch), "--inbox", str(inbox)]
        report["first"] = cli("ingest", str(work / "first"), *common)
        fill()
        report["full"] = cli("ingest", str(inbox), *common)
        report["compare"] = cli("compare", "--warehouse", str(wh))
        report["status"] = cli("status", "--warehouse", str(wh), "--inbox", str(inbox))
        (mnt / "filler").unlink()
        report["again"] = cli("ingest", str(inbox), *common)
        report["inbox_after"] = sorted(p.name for p in inbox.iterdir())
    else:
        sh("mount", "-t", "tmpfs", "-o", "size=" + os.environ["ARCHIVE_KB"] + "k", "tmpfs", str(mnt))
        common = ["--warehouse", str(work / "w.duckdb"), "--archive", str(mnt), "--inbox", str(inbox)]
        report["full"] = cli("ingest", str(inbox), *common)
        report["archived"] = files(mnt)
        report["inbox_left"] = files(inbox)
        sh("mount", "-o", "remount,size=8m", str(mnt))
        report["again"] = cli("ingest", str(inbox), *common)
        report["archived_after"] = files(mnt)
        report["inbox_after"] = files(inbox)
    print(json.dumps(report))
''')


def _run_in_namespace(tmp_path: Path, mode: str, **env: str) -> dict:
    flags = ["-m"] if os.geteuid() == 0 else ["-r", "-m"]
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    proc = subprocess.run(
        ["unshare", *flags, sys.executable, str(driver), str(tmp_path / "mnt"), str(tmp_path), mode],
        env={**os.environ, "REPO": str(REPO), "CM_SETTLE_SECONDS": "0", "CM_LOCK_TIMEOUT": "30", **env},
        capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _reports(folder: Path, n: int, pad_lines: int = 0, first: int = 0) -> dict[str, str]:
    """`n` distinct small reports (TXT), numbered from `first`; returns {name: sha256}."""
    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    for i in range(first, first + n):
        text = (f"ỦY BAN NHÂN DÂN XÃ TÂN THÀNH\nBÁO CÁO số {i + 1}/BC-UBND\n"
                f"Kết quả chuyển đổi số tháng {i % 12 + 1} năm 2025\n"
                f"Bộ phận Một cửa tiếp nhận {100 + i} hồ sơ, trong đó {50 + i} hồ sơ trực tuyến.\n")
        # Padding without figures: size for the disk, nothing for the fact finder to chew on.
        text += "Ghi chú thêm của bộ phận văn thư về việc lưu trữ hồ sơ.\n" * pad_lines
        path = folder / f"bc_{i:02d}.txt"
        path.write_text(text, encoding="utf-8")
        made[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return made


@pytest.mark.slow
@needs_tmpfs
def test_warehouse_on_a_full_tmpfs_says_so_in_one_line_and_works_once_space_is_back(tmp_path: Path) -> None:
    _reports(tmp_path / "first", 3, first=50)
    planted = _reports(tmp_path / "inbox", 6)
    (tmp_path / "inbox" / "bc_00.txt").write_text("BÁO CÁO\nTiếp nhận 9 hồ sơ.\n", encoding="utf-8")
    planted["bc_00.txt"] = hashlib.sha256((tmp_path / "inbox" / "bc_00.txt").read_bytes()).hexdigest()
    report = _run_in_namespace(tmp_path, "warehouse")

    assert report["first"]["rc"] == 0, report["first"]["err"]
    full = report["full"]
    assert full["rc"] == 1
    assert full["err"].strip().splitlines() == [f"error: {DISK_FULL_LINE} ({tmp_path / 'mnt'})"], full["err"]
    assert "TransactionContext" not in full["out"] + full["err"]
    # Read-only commands still answer on the full disk.
    assert report["compare"]["rc"] == 0, report["compare"]["err"]
    assert report["status"]["rc"] == 0 and "6 files" in report["status"]["out"], report["status"]
    # Space back: the next run opens the warehouse and loads everything.
    again = report["again"]
    assert again["rc"] == 0, again["err"]
    assert f"{len(planted)} files" in again["out"] and f"{len(planted)} loaded" in again["out"], again["out"]
    assert report["inbox_after"] == []


@pytest.mark.slow
@needs_tmpfs
def test_a_full_archive_leaves_no_partial_file_under_a_real_name(tmp_path: Path) -> None:
    planted = _reports(tmp_path / "inbox", 8, pad_lines=1500)  # ~100 KB each; 3 fit in 360 KB
    report = _run_in_namespace(tmp_path, "archive", ARCHIVE_KB="360")

    assert report["full"]["rc"] == 0, report["full"]["err"]
    assert "no space left on device in the archive" in report["full"]["out"]
    real = {name: sha for name, sha in report["archived"].items() if not name.startswith(".partial/")}
    assert not [name for name in report["archived"] if name.startswith(".partial/")]
    archived_names = {Path(name).name: sha for name, sha in real.items()}
    assert 0 < len(archived_names) < len(planted)
    for name, sha in archived_names.items():  # every archived file is whole
        assert planted[name] == sha, f"{name} archived with other bytes (partial)"
    # What did not fit stayed in the inbox, whole; together they are every planted file once.
    assert {**archived_names, **report["inbox_left"]} == planted
    assert len(archived_names) + len(report["inbox_left"]) == len(planted)

    assert report["again"]["rc"] == 0, report["again"]["err"]
    assert report["inbox_after"] == {}
    after = report["archived_after"]
    assert {Path(n).name: sha for n, sha in after.items() if not n.startswith(".partial/")} == planted
