"""The Prefect flow end to end under prefect_test_harness (one temporary server for the
whole session: it costs ~9 s to start). Generated PDF/DOCX/TXT reports plus a corrupt PDF
and a zero-byte file go in; every file must be accounted for, in the warehouse and on disk."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

# first: sets Prefect's offline defaults before prefect loads
import commune_metrics.flows.ingest as flow_module
from commune_metrics.flows.ingest import _cache_key, run_ingest_flow
from commune_metrics.ingest.process import ERROR, ProcessResult
from commune_metrics.warehouse import connect_readonly

pytestmark = pytest.mark.slow

FORMATS = ("pdf", "docx", "txt")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    from tools.samples.generator import generate_corpus

    out = tmp_path_factory.mktemp("corpus")
    gold = generate_corpus(out, n=6, seed=11, formats=FORMATS)
    metas = [
        json.loads(line)["doc_meta"]
        for line in gold.read_text(encoding="utf-8").splitlines()
        if '"doc_meta"' in line
    ]
    gold.unlink()
    return out, metas


def drop(corpus_dir: Path, inbox: Path) -> list[str]:
    inbox.mkdir(parents=True, exist_ok=True)
    for path in corpus_dir.iterdir():
        shutil.copy2(path, inbox / path.name)
    (inbox / "corrupt.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\nendobj\n" + b"\x00" * 64)
    (inbox / "zero.docx").write_bytes(b"")
    return sorted(p.name for p in inbox.iterdir())


def flow_args(tmp_path: Path) -> dict:
    return {
        "paths": [str(tmp_path / "inbox")],
        "inbox": str(tmp_path / "inbox"),  # drained
        "warehouse": str(tmp_path / "w.duckdb"),
        "archive_root": str(tmp_path / "raw"),
        "settle_seconds": 0,
    }


def rows(tmp_path: Path, sql: str) -> list[tuple]:
    con = connect_readonly(tmp_path / "w.duckdb")
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_flow_end_to_end_accounts_for_every_file(prefect_harness, corpus, tmp_path: Path) -> None:
    corpus_dir, metas = corpus
    dropped = drop(corpus_dir, tmp_path / "inbox")
    summary = run_ingest_flow(workers=2, **flow_args(tmp_path))

    assert summary.counts == {"loaded": 6, "quarantined": 2}
    assert list((tmp_path / "inbox").iterdir()) == []
    processed = [p.name for p in (tmp_path / "raw" / "processed").rglob("*") if p.is_file()]
    quarantined = [
        p.name for p in (tmp_path / "raw" / "quarantine").iterdir() if not p.name.endswith(".reason.txt")
    ]
    assert sorted(processed + quarantined) == dropped
    assert sorted(quarantined) == ["corrupt.pdf", "zero.docx"]
    assert (
        (tmp_path / "raw" / "quarantine" / "zero.docx.reason.txt").read_text(encoding="utf-8").count("empty")
    )

    docs = dict(rows(tmp_path, "SELECT source_file, doc_type FROM documents WHERE status = 'loaded'"))
    assert docs == {m["doc"]: m["doc_type"] for m in metas}
    assert sorted(rows(tmp_path, "SELECT source_file FROM quarantine")) == [("corrupt.pdf",), ("zero.docx",)]
    assert rows(tmp_path, "SELECT status, loaded, quarantined, trigger FROM runs") == [
        ("ok", 6, 2, "prefect")
    ]

    facts = rows(tmp_path, "SELECT source_file, evidence, char_start, char_end, page FROM facts")
    if facts:  # the rule engine produces facts: every good document has some, with evidence
        assert {f[0] for f in facts} == set(docs)
        for source, evidence, start, end, page in facts:
            assert evidence and 0 <= start < end, source
            assert (page is None) == source.endswith((".txt", ".docx")), source


def test_reingest_changes_nothing_and_a_corrected_file_becomes_current(
    prefect_harness, corpus, tmp_path: Path
) -> None:
    corpus_dir, _ = corpus
    drop(corpus_dir, tmp_path / "inbox")
    run_ingest_flow(workers=2, **flow_args(tmp_path))
    count_sql = (
        "SELECT (SELECT count(*) FROM document_versions), (SELECT count(*) FROM fact_rows), "
        "(SELECT count(*) FROM quarantine_rows)"
    )
    before = rows(tmp_path, count_sql)

    drop(corpus_dir, tmp_path / "inbox")
    again = run_ingest_flow(workers=2, **flow_args(tmp_path))
    assert again.counts == {"unchanged": 6, "quarantined": 2}
    assert rows(tmp_path, count_sql) == before

    txt = next(p for p in sorted(corpus_dir.iterdir()) if p.suffix == ".txt")
    inbox = tmp_path / "inbox"
    shutil.rmtree(inbox)
    inbox.mkdir()
    corrected = inbox / ("sua_" + txt.name)
    corrected.write_text(
        txt.read_text(encoding="utf-8") + "\nSố liệu đã được rà soát, cập nhật lại.\n", encoding="utf-8"
    )
    third = run_ingest_flow(workers=1, **flow_args(tmp_path))
    assert third.counts == {"loaded": 1}
    assert third.outcomes[0].version == 2 and third.outcomes[0].replaced_version == 1
    current = rows(
        tmp_path,
        f"SELECT source_file FROM documents WHERE doc_key = "
        f"(SELECT doc_key FROM document_history WHERE source_file = '{corrected.name}')",
    )
    assert current == [(corrected.name,)]
    history = rows(
        tmp_path,
        f"SELECT source_file, version, is_current FROM document_history WHERE doc_key = "
        f"(SELECT doc_key FROM document_history WHERE source_file = '{corrected.name}') "
        "ORDER BY version",
    )
    assert history == [(txt.name, 1, False), (corrected.name, 2, True)]
    assert rows(tmp_path, f"SELECT count(*) FROM facts WHERE source_file = '{txt.name}'") == [(0,)]


def test_transient_errors_are_retried(
    prefect_harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "bc.txt").write_text("BÁO CÁO\nTiếp nhận 12 hồ sơ.\n", encoding="utf-8")
    real = flow_module.process_file
    calls: list[str] = []

    def flaky(path, limits=None, sha256=None):
        calls.append(str(path))
        if len(calls) == 1:
            return ProcessResult(
                Path(path).name,
                str(path),
                sha256,
                None,
                ERROR,
                code="unreachable",
                reason="PermissionError: locked by the scanner",
            )
        return real(path, limits, sha256=sha256)

    monkeypatch.setattr(flow_module, "process_file", flaky)
    summary = run_ingest_flow(workers=1, **flow_args(tmp_path))
    assert len(calls) == 2 and summary.counts == {"loaded": 1}


def test_cache_key_is_the_file_hash_and_the_code_version() -> None:
    first = _cache_key(None, {"path": "/a/x.pdf", "sha256": "ab" * 32})
    assert first == _cache_key(None, {"path": "/b/renamed.pdf", "sha256": "ab" * 32})
    assert first != _cache_key(None, {"path": "/a/x.pdf", "sha256": "cd" * 32})


def test_cli_prefect_option_runs_the_flow(
    prefect_harness, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from commune_metrics.cli import main

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "bc.txt").write_text("BÁO CÁO\nTiếp nhận 12 hồ sơ.\n", encoding="utf-8")
    (inbox / "empty.pdf").write_bytes(b"")
    with pytest.raises(SystemExit) as exited:
        main(
            [
                "ingest",
                str(inbox),
                "--prefect",
                "--warehouse",
                str(tmp_path / "w.duckdb"),
                "--archive",
                str(tmp_path / "raw"),
            ]
        )
    out = capsys.readouterr().out
    assert exited.value.code in (0, None)
    assert "loaded      bc.txt" in out and "quarantined empty.pdf" in out and "2 files" in out
    assert rows(tmp_path, "SELECT trigger FROM runs") == [("prefect",)]


def test_serve_registers_the_nightly_schedule_and_runs_the_flow(
    prefect_harness, corpus, tmp_path: Path
) -> None:
    """`commune-metrics serve` as analysts start it: a separate process, against a Prefect
    server. Its deployment must carry the cron schedule, and a run of it must load the inbox."""
    import asyncio
    import os
    import subprocess
    import sys
    import time

    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL

    from commune_metrics.flows.serve import stop_process

    corpus_dir, _ = corpus
    dropped = drop(corpus_dir, tmp_path / "inbox")
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()),
           "PREFECT_HOME": str(tmp_path / "prefect-home")}
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("commune-metrics")), "serve", "--cron", "30 2 * * *",
         "--timezone", "Asia/Ho_Chi_Minh", "--inbox", str(tmp_path / "inbox"),
         "--warehouse", str(tmp_path / "w.duckdb"), "--archive", str(tmp_path / "raw"),
         "--name", "nightly-test"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )

    async def deployment():
        async with get_client() as client:
            try:
                return await client.read_deployment_by_name("ingest-inbox/nightly-test")
            except Exception:  # not registered yet
                return None

    try:
        found = None
        deadline = time.monotonic() + 120
        while found is None and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(1)
            found = asyncio.run(deployment())
        assert found is not None, (tmp_path / "serve.log").read_text(errors="replace")[-3000:]
        crons = [(s.schedule.cron, s.schedule.timezone) for s in found.schedules]
        assert crons == [("30 2 * * *", "Asia/Ho_Chi_Minh")]
        run = run_deployment("ingest-inbox/nightly-test", timeout=240)
        assert run.state is not None and run.state.is_completed(), run.state
    finally:
        stop_process(proc, timeout=30)
        log.close()
    loaded = rows(tmp_path, "SELECT count(*) FROM documents WHERE status = 'loaded'")[0][0]
    quarantined = rows(tmp_path, "SELECT source_file FROM quarantine ORDER BY 1")
    assert loaded == len(dropped) - 2
    assert quarantined == [("corrupt.pdf",), ("zero.docx",)]
    assert rows(tmp_path, "SELECT status, loaded, trigger FROM runs") == [("ok", loaded, "serve")]
    assert not list((tmp_path / "inbox").iterdir())  # everything moved out of the inbox


def test_serve_without_a_server_starts_a_private_one_and_stops_it(tmp_path: Path) -> None:
    """With PREFECT_API_URL unset, `serve` runs its own server: it must answer on 127.0.0.1,
    keep its state under PREFECT_HOME and be gone once `serve` stops."""
    import os
    import subprocess
    import sys
    import urllib.request

    script = (
        "import urllib.request\n"
        "from commune_metrics.flows.serve import local_prefect_server\n"
        "with local_prefect_server() as url:\n"
        "    print(url, flush=True)\n"
        "    with urllib.request.urlopen(url + '/health', timeout=5) as r:\n"
        "        print(r.status, flush=True)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(tmp_path / "home")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                          timeout=180, cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr[-3000:]
    url, status = done.stdout.split()[-2:]
    assert url.startswith("http://127.0.0.1:") and status == "200"
    assert (tmp_path / "home" / "server.log").exists()
    with pytest.raises(OSError):  # stopped with serve: nothing listens on its port any more
        urllib.request.urlopen(url + "/health", timeout=2)
