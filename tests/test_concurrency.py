"""Several processes against one warehouse: concurrent ingests wait for each other and load
each file once; a process killed in the middle of a document leaves nothing of it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO

ENV = {**os.environ, "PYTHONPATH": str(REPO), "CM_SETTLE_SECONDS": "0", "CM_LOCK_TIMEOUT": "120"}


def make_reports(folder: Path, numbers: range) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in numbers:
        # No commune or period in the text: each file is its own report (its subject's number differs).
        (folder / f"bc_{i:03d}.txt").write_text(
            f"BÁO CÁO\nKết quả công tác số {i}.\nBộ phận Một cửa tiếp nhận {100 + i} hồ sơ, "
            f"trong đó {50 + i} hồ sơ trực tuyến.\n",
            encoding="utf-8",
        )


def start_ingest(inbox: Path, warehouse: Path, archive: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "commune_metrics",
            "ingest",
            str(inbox),
            "--warehouse",
            str(warehouse),
            "--archive",
            str(archive),
            "--inbox",  # the folder is the inbox: drained
            str(inbox),
            "--json",
        ],
        cwd=REPO,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen) -> str:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    return out


def fetch(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_two_concurrent_ingests_with_overlapping_files(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    make_reports(tmp_path / "a", range(0, 40))
    make_reports(tmp_path / "b", range(20, 60))  # 20..39 are the same bytes in both inboxes
    first = start_ingest(tmp_path / "a", warehouse, tmp_path / "raw_a")
    second = start_ingest(tmp_path / "b", warehouse, tmp_path / "raw_b")
    finish(first), finish(second)

    assert fetch(warehouse, "SELECT count(*), count(DISTINCT sha256) FROM document_versions") == [(60, 60)]
    assert fetch(warehouse, "SELECT count(*) FROM documents WHERE status = 'loaded'") == [(60,)]
    per_doc = fetch(
        warehouse,
        "SELECT max(n) FROM (SELECT count(*) AS n FROM fact_rows GROUP BY doc_id, metric, kind, char_start)",
    )
    assert per_doc[0][0] in (None, 1)  # no fact twice
    runs = fetch(warehouse, "SELECT status, loaded, unchanged, errors FROM runs ORDER BY run_id")
    assert [r[0] for r in runs] == ["ok", "ok"]
    assert sum(r[1] for r in runs) == 60 and sum(r[2] for r in runs) == 20 and sum(r[3] for r in runs) == 0
    assert not any((tmp_path / "a").iterdir()) and not any((tmp_path / "b").iterdir())


def test_two_concurrent_ingests_of_the_same_inbox(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    inbox = tmp_path / "inbox"
    make_reports(inbox, range(50))
    procs = [start_ingest(inbox, warehouse, tmp_path / "raw") for _ in range(2)]
    for proc in procs:
        finish(proc)
    assert fetch(warehouse, "SELECT count(*), count(DISTINCT sha256) FROM document_versions") == [(50, 50)]
    assert fetch(warehouse, "SELECT count(*) FROM quarantine") == [(0,)]
    archived = [p for p in (tmp_path / "raw").rglob("*.txt")]
    assert len(archived) == 50 and not any(inbox.iterdir())
    assert fetch(warehouse, "SELECT sum(errors) FROM runs") == [(0,)]


@pytest.mark.parametrize("die_after", ["_insert_facts", "_insert_flags"])
def test_process_killed_mid_document_leaves_no_partial_document(tmp_path: Path, die_after: str) -> None:
    warehouse = tmp_path / "w.duckdb"
    script = textwrap.dedent(f"""
        import os, sys
        from datetime import date
        from commune_metrics.core.model import DocMeta, Fact
        from commune_metrics.ingest.process import ProcessResult
        from commune_metrics.warehouse import open_warehouse, store

        def fact(i):
            return Fact("dossiers.received", "actual", 100.0 + i, "count", "eq", i * 40, i * 40 + 30,
                        "tiếp nhận hồ sơ", "test", 0.9)

        def result(name, n):
            meta = DocMeta(doc_type="report", ward_code=4, commune="Ba Đình",
                           period_start=date(2025, 1, 1), period_end=date(2025, 1, 31))
            return ProcessResult(name, "/x/" + name, name * 4, 10, "ok", meta=meta,
                                 facts=[fact(i) for i in range(n)])

        with open_warehouse({str(warehouse)!r}) as wh:
            run = wh.start_run("test")
            wh.load(result("v1.txt", 2), run)          # committed: version 1 of the report
            real = getattr(store.Warehouse, {die_after!r})

            def die(self, doc_id, res):
                real(self, doc_id, res)                  # rows of version 2 are written...
                os._exit(9)                              # ...and the process dies before commit

            setattr(store.Warehouse, {die_after!r}, die)
            wh.load(result("v2.txt", 5), run)
    """)
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=ENV, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 9, proc.stderr

    assert fetch(warehouse, "SELECT source_file, version, is_current FROM document_versions") == [
        ("v1.txt", 1, True)
    ]
    assert fetch(warehouse, "SELECT count(*) FROM fact_rows") == [(2,)]
    assert fetch(warehouse, "SELECT source_file, count(*) FROM facts GROUP BY ALL") == [("v1.txt", 2)]
    # The writer lock died with the process: the next run gets in at once.
    from commune_metrics.warehouse import open_warehouse

    with open_warehouse(warehouse, lock_timeout=2) as wh:
        assert wh.loaded_hashes() == {"v1.txt" * 4}
