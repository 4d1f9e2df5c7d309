"""The command line: per-file lines and summary, exit codes, one-line errors, compare."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from commune_metrics.cli import main
from tests.conftest import REPO

REPORT = (
    "ỦY BAN NHÂN DÂN XÃ TÂN THÀNH\n"
    "BÁO CÁO\n"
    "Kết quả thực hiện chuyển đổi số tháng 7 năm 2025\n"
    "Trong tháng, Bộ phận Một cửa tiếp nhận 120 hồ sơ, trong đó 84 hồ sơ trực tuyến.\n"
)


def run(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    out, err = capsys.readouterr()
    code = exited.value.code
    return (0 if code is None else int(code)), out, err


def run_process(args: list[str], **env: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **env}
    return subprocess.run(
        [sys.executable, "-m", "commune_metrics", *args],
        cwd=REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    box = tmp_path / "inbox"
    box.mkdir()
    (box / "bc_t7.txt").write_text(REPORT, encoding="utf-8")
    (box / "empty.txt").write_bytes(b"")
    (box / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj")
    return box


def ingest_args(tmp_path: Path, *paths: Path, extra: tuple[str, ...] = ()) -> list[str]:
    return [
        "ingest",
        *map(str, paths),
        "--warehouse",
        str(tmp_path / "w.duckdb"),
        "--archive",
        str(tmp_path / "raw"),
        *extra,
    ]


def test_ingest_prints_a_line_per_file_and_exits_0_with_quarantined_files(
    tmp_path: Path, inbox: Path, capsys: pytest.CaptureFixture
) -> None:
    code, out, _ = run(ingest_args(tmp_path, inbox), capsys)
    assert code == 0
    lines = out.strip().splitlines()
    assert any(line.startswith("loaded") and "bc_t7.txt" in line and "v1" in line for line in lines)
    assert any(line.startswith("quarantined") and "empty.txt" in line and "empty" in line for line in lines)
    assert any(line.startswith("quarantined") and "broken.pdf" in line for line in lines)
    assert "3 files" in lines[-1] and "1 loaded" in lines[-1] and "2 quarantined" in lines[-1]
    assert sorted(p.name for p in (tmp_path / "raw" / "quarantine").iterdir()) == [
        "broken.pdf",
        "broken.pdf.reason.txt",
        "empty.txt",
        "empty.txt.reason.txt",
    ]


def test_ingest_again_reports_unchanged(tmp_path: Path, inbox: Path, capsys: pytest.CaptureFixture) -> None:
    original = (inbox / "bc_t7.txt").read_bytes()
    drain = ("--inbox", str(inbox))
    run(ingest_args(tmp_path, inbox, extra=drain), capsys)
    assert list(inbox.iterdir()) == []  # the inbox is drained
    (inbox / "bc_t7_again.txt").write_bytes(original)
    code, out, _ = run(ingest_args(tmp_path, inbox, extra=("--json", *drain)), capsys)
    assert code == 0
    summary = json.loads(out)
    assert summary["counts"] == {"unchanged": 1}
    assert summary["files"][0]["file"] == "bc_t7_again.txt"


def test_keep_inbox_leaves_the_files(tmp_path: Path, inbox: Path, capsys: pytest.CaptureFixture) -> None:
    before = sorted(p.name for p in inbox.iterdir())
    code, _, _ = run(ingest_args(tmp_path, inbox, extra=("--keep-inbox",)), capsys)
    assert code == 0 and sorted(p.name for p in inbox.iterdir()) == before
    assert any((tmp_path / "raw" / "processed").rglob("bc_t7.txt"))


@pytest.mark.parametrize(
    "argv",
    [["ingest", "/no/such/folder"], ["ingest", ".", "--workers", "0"], ["compare", "--bogus"], ["nonsense"]],
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture) -> None:
    code, _, _ = run(argv, capsys)
    assert code == 2


def test_compare_without_a_warehouse_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, err = run(["compare", "--warehouse", str(tmp_path / "none.duckdb")], capsys)
    assert code == 1
    assert err.strip().startswith("error: no warehouse at") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_compare_renders_the_loaded_communes(
    tmp_path: Path, inbox: Path, capsys: pytest.CaptureFixture
) -> None:
    run(ingest_args(tmp_path, inbox), capsys)
    code, out, _ = run(["compare", "--warehouse", str(tmp_path / "w.duckdb")], capsys)
    assert code == 0
    assert "Tân Thành" in out or "no communes to compare yet" in out
    code, out, _ = run(
        ["compare", "--metric", "dossiers.received", "--warehouse", str(tmp_path / "w.duckdb")], capsys
    )
    assert code == 0 and "dossiers.received" in out


def test_compare_unknown_metric_is_a_bad_argument(
    tmp_path: Path, inbox: Path, capsys: pytest.CaptureFixture
) -> None:
    import duckdb

    run(ingest_args(tmp_path, inbox), capsys)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    if con.execute("SELECT count(*) FROM metrics").fetchone()[0] == 0:  # catalog not installed
        con.execute("INSERT INTO metrics VALUES ('dossiers.received', 'count', 'hồ sơ tiếp nhận', '')")
    con.close()
    code, _, err = run(
        ["compare", "--metric", "no.such_metric", "--warehouse", str(tmp_path / "w.duckdb")], capsys
    )
    assert code == 2 and "unknown metric" in err


def test_duckdb_lock_never_reaches_the_user_as_a_trace(
    tmp_path: Path, inbox: Path, capsys: pytest.CaptureFixture
) -> None:
    run(ingest_args(tmp_path, inbox), capsys)
    db = tmp_path / "w.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('ready', flush=True); "
            "time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        read = run_process(["compare", "--warehouse", str(db)], CM_READ_TIMEOUT="0.5")
        write = run_process(ingest_args(tmp_path, inbox), CM_LOCK_TIMEOUT="0.5")
    finally:
        holder.kill()
        holder.wait()
    # Reads go to the snapshot, so a program holding the writer's file does not stop them.
    assert read.returncode == 0 and "Communes compared" in read.stdout, read.stderr
    # The writer waits for it, says who holds it once, then stops with one line.
    assert write.returncode == 1, write.stderr
    assert "Traceback" not in write.stderr and "IO Error" not in write.stderr
    lines = write.stderr.strip().splitlines()
    assert "waiting: another program (PID" in lines[0]
    assert "another program (PID" in lines[-1] and "has it open" in lines[-1] and len(lines) == 2


def test_waiting_for_the_writer_lock_then_timing_out(tmp_path: Path, inbox: Path) -> None:
    db = tmp_path / "w.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from pathlib import Path; from commune_metrics.warehouse.lock import WriterLock; "
            f"lock = WriterLock(Path({str(db)!r})); lock.acquire(5); "
            "print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        started = time.perf_counter()
        proc = run_process(ingest_args(tmp_path, inbox), CM_LOCK_TIMEOUT="1")
        waited = time.perf_counter() - started
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 1 and waited >= 1
    assert "waiting for another run" in proc.stderr
    assert "error: another run is still writing" in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in inbox.iterdir()) == ["bc_t7.txt", "broken.pdf", "empty.txt"]


def test_debug_shows_the_stack_trace(tmp_path: Path) -> None:
    proc = run_process(["--debug", "compare", "--warehouse", str(tmp_path / "none.duckdb")])
    assert proc.returncode == 1 and "Traceback" in proc.stderr and "WarehouseNotFoundError" in proc.stderr


def test_debug_is_accepted_after_the_subcommand_too(tmp_path: Path) -> None:
    proc = run_process(["compare", "--warehouse", str(tmp_path / "none.duckdb"), "--debug"])
    assert proc.returncode == 1 and "Traceback" in proc.stderr and "WarehouseNotFoundError" in proc.stderr
    plain = run_process(["compare", "--warehouse", str(tmp_path / "none.duckdb")])
    assert plain.returncode == 1 and "Traceback" not in plain.stderr


def test_serve_rejects_a_bad_cron_before_starting_anything(capsys: pytest.CaptureFixture) -> None:
    code, _, err = run(["serve", "--cron", "every night"], capsys)
    assert code == 2 and "cron" in err.lower()


def test_local_timezone_is_an_iana_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from commune_metrics.flows.serve import local_timezone, validate_cron

    monkeypatch.setenv("TZ", "Asia/Ho_Chi_Minh")
    assert local_timezone() == "Asia/Ho_Chi_Minh"
    monkeypatch.delenv("TZ")
    validate_cron("0 1 * * *", local_timezone())  # whatever this machine says is usable


def test_eval_is_wired_to_the_scorer(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from commune_metrics.core.config import DATA_DIR

    docs = tmp_path / "docs"
    docs.mkdir()
    sample = DATA_DIR / "raw" / "samples" / "bc_ba_dinh_thang11.txt"
    (docs / sample.name).write_bytes(sample.read_bytes())
    gold_lines = [
        line
        for line in (DATA_DIR / "raw" / "samples_gold.jsonl").read_text(encoding="utf-8").splitlines()
        if sample.name in line
    ]
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(gold_lines) + "\n", encoding="utf-8")
    code, out, _ = run(["eval", "--gold", str(gold), "--docs", str(docs), "--json"], capsys)
    assert code == 0
    report = json.loads(out)
    assert report["documents"] == 1 and 0 <= report["overall"]["f1"] <= 1
    assert run(["eval", "--gold", str(tmp_path / "missing.jsonl"), "--docs", str(docs)], capsys)[0] == 2
