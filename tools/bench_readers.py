"""Readers against a run: does an analyst's open session slow an ingest, and do polling reads
succeed while it runs? A script, not a test: it takes minutes. Writes docs/readers.md.

    python -m tools.bench_readers                  # 450 generated reports, 2 rounds
    python -m tools.bench_readers --files 60 --rounds 1 --out /tmp/readers.md

Each round runs the same ingest twice into a fresh warehouse, alternating the order:
`alone` (nobody reads) and `reader` (another process holds one snapshot session open for the
whole run, as an analyst's notebook would, and opens a fresh connection for a COUNT once a
second, as an analyst polling for new figures would). Wall time varies with the load of this
shared machine, so the CPU time of the ingest process tree is recorded beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from commune_metrics.core.config import DATA_DIR, PROJECT_ROOT

BENCH_DIR = DATA_DIR / "bench"
DEFAULT_OUT = PROJECT_ROOT / "docs" / "readers.md"
SEED = 4545

READER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from commune_metrics.warehouse import connect_readonly
    wh, stop, interval = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
    deadline = time.monotonic() + 120
    while True:
        try:
            held = connect_readonly(wh, timeout=1)  # the session held open all run long
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    print("ready", flush=True)
    ok, failed, errors, latency = 0, 0, [], []
    next_at = time.monotonic()
    while not stop.exists():
        t = time.perf_counter()
        try:
            con = connect_readonly(wh, timeout=1)
            try:
                con.execute("SELECT count(*) FROM facts").fetchone()
            finally:
                con.close()
            ok += 1
            latency.append(time.perf_counter() - t)
        except Exception as exc:
            failed += 1
            errors.append(f"{type(exc).__name__}: {exc}"[:200])
        held.execute("SELECT count(*) FROM documents").fetchone()
        next_at += interval  # a fixed rate: a slow read does not push the next one later
        time.sleep(max(0.0, next_at - time.monotonic()))
    held.close()
    latency.sort()
    print(json.dumps({"ok": ok, "failed": failed, "errors": errors[:5],
                      "median_ms": 1000 * latency[len(latency) // 2] if latency else None,
                      "max_ms": 1000 * latency[-1] if latency else None}))
""")


@dataclass
class Trial:
    mode: str
    wall: float
    cpu: float
    reads_ok: int = 0
    reads_failed: int = 0
    median_ms: float | None = None
    max_ms: float | None = None
    errors: tuple[str, ...] = ()


def corpus(files: int) -> Path:
    from tools.samples.generator import generate_corpus

    folder = BENCH_DIR / f"readers-{files}-{SEED}"
    done = folder / ".complete"  # a dot-file: never listed by ingest
    if not done.is_file():
        shutil.rmtree(folder, ignore_errors=True)
        generate_corpus(folder, files, SEED, formats=("txt", "pdf", "docx"), pages=(2, 5),
                        workers=max(1, (os.cpu_count() or 2)))
        # The gold file stays out of the inbox the runs ingest.
        (folder / "gold.jsonl").rename(folder.parent / f"readers-{files}-{SEED}.gold.jsonl")
        done.touch()
    return folder


def trial(mode: str, docs: Path, scratch: Path, interval: float) -> Trial:
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    warehouse = scratch / "w.duckdb"
    env = {**os.environ, "CM_SETTLE_SECONDS": "0", "PYTHONPATH": str(PROJECT_ROOT)}
    reader = None
    stop = scratch / "stop"
    cmd = [sys.executable, "-m", "commune_metrics", "ingest", str(docs), "--keep-inbox",
           "--warehouse", str(warehouse), "--archive", str(scratch / "raw"), "--json"]
    started = time.perf_counter()
    err_path = scratch / "ingest.err"
    with open(err_path, "w") as err_file:
        run = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err_file)
    if mode == "reader":
        reader = subprocess.Popen([sys.executable, "-c", READER, str(warehouse), str(stop), str(interval)],
                                  cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, text=True)
    # wait4: the ingest's own CPU, its worker processes included, without the reader's.
    _, status, usage = os.wait4(run.pid, 0)
    run.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    cpu = usage.ru_utime + usage.ru_stime
    if run.returncode != 0:
        raise SystemExit(f"ingest failed: {err_path.read_text()[-2000:]}")
    result = Trial(mode, wall, cpu)
    if reader is not None:
        stop.touch()
        out, _ = reader.communicate(timeout=120)
        seen = json.loads(out.strip().splitlines()[-1])
        result.reads_ok, result.reads_failed = seen["ok"], seen["failed"]
        result.median_ms, result.max_ms = seen["median_ms"], seen["max_ms"]
        result.errors = tuple(seen["errors"])
    return result


def render(trials: list[Trial], files: int, interval: float) -> str:
    alone = [t.wall for t in trials if t.mode == "alone"]
    read = [t.wall for t in trials if t.mode == "reader"]
    ratio = statistics.median(read) / statistics.median(alone)
    cpu_ratio = (statistics.median([t.cpu for t in trials if t.mode == "reader"])
                 / statistics.median([t.cpu for t in trials if t.mode == "alone"]))
    ok = sum(t.reads_ok for t in trials if t.mode == "reader")
    failed = sum(t.reads_failed for t in trials if t.mode == "reader")
    rows = "\n".join(
        f"| {i + 1} | {t.mode} | {t.wall:.1f} | {t.cpu:.1f} | "
        + (f"{t.reads_ok}/{t.reads_ok + t.reads_failed} | {t.median_ms:.1f} / {t.max_ms:.1f} |"
           if t.mode == "reader" else "– | – |")
        for i, t in enumerate(trials)
    )
    errors = sorted({e for t in trials for e in t.errors})
    error_note = " Errors: " + "; ".join(errors) if errors else ""
    return f"""# Readers during a run

Recorded by `python -m tools.bench_readers --files {files}` on {datetime.now():%Y-%m-%d}
({platform.machine()}, {os.cpu_count()} cores shared with other work, Python {platform.python_version()}).
Each run ingests the same {files} generated reports (TXT, text PDF and DOCX, 2-5 pages) into a
fresh warehouse with the default workers. `reader` runs have another process hold one snapshot
session open for the whole run and open a fresh connection every {interval:.2f} s for a
`SELECT count(*) FROM facts`.

| # | mode | wall s | ingest CPU s | polling reads ok | read ms median / max |
|---|---|---|---|---|---|
{rows}

**Run time with a reader held open: {ratio:.2f}x the time without** (median wall time of the runs;
the bar is 1.20x); the ingest's own CPU time {cpu_ratio:.2f}x. **Polling reads: {ok} of {ok + failed}
succeeded.**{error_note}

Why: readers never open the writer's file. The writer publishes a snapshot
(`warehouse.snapshot.duckdb`: CHECKPOINT, copy, atomic rename) after each committed batch, and
readers (`compare`, `report`, `sql`, the review page, `connect_readonly`) attach that copy
read-only. A session that stays open keeps the file it opened (its view does not change until
it reconnects); a new connection sees the latest batch. The cost to the run is one copy of the
warehouse file per batch, which is in both columns above.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=450)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between polling reads")
    args = parser.parse_args(argv)
    docs = corpus(args.files)
    scratch = BENCH_DIR / "readers-scratch"
    trials: list[Trial] = []
    # An analyst polling once a second, the case in the issue; the reads of all reader runs add
    # up (three rounds of a 450-file ingest give well over 100).
    interval = args.interval
    first = trial("alone", docs, scratch, interval)
    trials.append(first)
    print(f"alone: {first.wall:.1f} s", flush=True)
    for round_no in range(args.rounds):
        order = ("reader", "alone") if round_no % 2 == 0 else ("alone", "reader")
        for mode in order:
            t = trial(mode, docs, scratch, interval)
            trials.append(t)
            print(f"{mode}: {t.wall:.1f} s, reads {t.reads_ok}/{t.reads_ok + t.reads_failed}", flush=True)
    shutil.rmtree(scratch, ignore_errors=True)
    text = render(trials, args.files, interval)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
