"""`make bench`: end-to-end throughput, per-stage costs, scaling and incremental runs, written
to docs/benchmarks.md. A script, not a test: it takes minutes.

    python -m tools.bench                 # 1,000 text PDFs (~7 pages) + 20 DOCX + 10 scans
    python -m tools.bench --n 200 --out /tmp/bench.md

The generated corpus is cached under data/bench/, keyed by its parameters. Every ingest runs
in a fresh process (`python -m tools.bench _ingest ...`) so start-up, model loading and
peak RSS are those of a real run; the warehouse of each run is fresh unless incremental.
Wall time on a shared machine varies with load: CPU seconds are recorded beside it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from commune_metrics.core.config import DATA_DIR, PROJECT_ROOT

BENCH_DIR = DATA_DIR / "bench"
DEFAULT_OUT = PROJECT_ROOT / "docs" / "benchmarks.md"
CORPUS_VERSION = 1  # bump when the generator's output changes shape
PAGES = (6, 8)


# -- corpus ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Corpus:
    root: Path
    pdf: Path  # N text PDFs
    small: Path  # the first N/10 of them (hard links), for the scaling check
    docx: Path
    scan: Path


def build_corpus(n: int, docx: int, scans: int, seed: int, workers: int) -> Corpus:
    from tools.samples.generator import generate_corpus

    root = BENCH_DIR / f"corpus-v{CORPUS_VERSION}-n{n}-docx{docx}-scan{scans}-seed{seed}"
    corpus = Corpus(root, root / "pdf", root / f"pdf{max(1, n // 10)}", root / "docx", root / "scan")
    done = root / "complete.json"
    if done.is_file():
        return corpus
    shutil.rmtree(root, ignore_errors=True)
    started = time.perf_counter()
    print(f"generating the corpus in {root} (cached for later runs) ...", flush=True)
    for folder, count, fmt, pages, offset in ((corpus.pdf, n, "pdf", PAGES, 0),
                                              (corpus.docx, docx, "docx", PAGES, 1),
                                              (corpus.scan, scans, "scan", (2, 3), 2)):
        if count:
            gold = generate_corpus(folder, count, seed + offset, formats=(fmt,), pages=pages, workers=workers)
            gold.rename(root / f"gold-{folder.name}.jsonl")
    corpus.small.mkdir(parents=True)
    for path in sorted(corpus.pdf.glob("*.pdf"))[: max(1, n // 10)]:
        os.link(path, corpus.small / path.name)
    done.write_text(json.dumps({"n": n, "docx": docx, "scans": scans, "seed": seed,
                                "seconds": round(time.perf_counter() - started, 1)}))
    return corpus


def page_count(folder: Path) -> int:
    import pypdfium2 as pdfium

    total = 0
    for path in sorted(folder.glob("*.pdf")):
        doc = pdfium.PdfDocument(path)
        total += len(doc)
        doc.close()
    return total


# -- one ingest in a fresh process -------------------------------------------------------

def _ingest_child(args: argparse.Namespace) -> None:
    """Runs in the child: one ingest, then a JSON line with its timings."""
    process_start = float(args.process_start)
    t_import = time.perf_counter()
    from commune_metrics.ingest.inbox import ingest
    from commune_metrics.ingest.parallel import make_processor, model_loads

    wall0, cpu0 = time.perf_counter(), time.process_time()
    processor = make_processor(args.workers)
    worker_loads: dict = {}
    try:
        summary = ingest([Path(args.folder)], warehouse=Path(args.warehouse),
                         archive_root=Path(args.warehouse).parent / "raw", keep_inbox=True,
                         process_many=processor, settle_seconds=0, trigger="bench")
        if getattr(processor, "_pool", None) is not None:
            worker_loads = processor.worker_model_loads()
    finally:
        processor.close()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "seconds": wall,  # the ingest call: listing, hashing, extraction, loading, archiving
        "cpu_main": cpu,
        "cpu_workers": children.ru_utime + children.ru_stime,
        "since_process_start": time.time() - process_start,
        "import_seconds": wall0 - t_import,
        "counts": dict(summary.counts),
        "rss_main": self_rss,
        "rss_worker_max": children.ru_maxrss * 1024,
        "models_loaded_in_main": model_loads(),
        "max_model_builds_per_worker": max((n for c in worker_loads.values() for n in c.values()),
                                           default=None),
    }))


def run_ingest(folder: Path, warehouse: Path, workers: int, fresh: bool = True,
               timeout: float = 1800.0) -> dict:
    """One ingest in a fresh process (and process group: a hung run is killed with its workers).
    Returns the child's timings, or {"error": ...} when it failed or ran out of time."""
    if fresh:
        shutil.rmtree(warehouse.parent, ignore_errors=True)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "tools.bench", "_ingest", "--folder", str(folder),
           "--warehouse", str(warehouse), "--workers", str(workers), "--process-start", repr(time.time())]
    load_avg = os.getloadavg()[0]
    started = time.perf_counter()
    child = subprocess.Popen(cmd, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "CM_SETTLE_SECONDS": "0"}, start_new_session=True)
    try:
        stdout, stderr = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        return {"error": f"no result after {timeout:.0f} s (killed)"}
    if child.returncode != 0:
        return {"error": f"exit {child.returncode}: {stderr.strip().splitlines()[-1:]}"}
    result = json.loads(stdout.strip().splitlines()[-1])
    result["process_seconds"] = time.perf_counter() - started
    result["load_avg"] = load_avg
    return result


def _need(result: dict, what: str) -> dict:
    if "error" in result:
        raise RuntimeError(f"{what}: {result['error']}")
    return result


def warehouse_digest(warehouse: Path) -> tuple[int, str]:
    """(fact count, digest of facts and documents in a fixed order, without clock columns)."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        facts = con.execute(
            "SELECT source_file, doc_sha256, doc_type, ward_code, commune, province, period_start, "
            "period_end, metric, kind, value, unit, qualifier, page, char_start, char_end, evidence, "
            "extractor, confidence FROM facts ORDER BY source_file, char_start, metric, kind, value"
        ).fetchall()
        docs = con.execute("SELECT doc_id, doc_key, version, is_current, source_file, sha256, doc_type, "
                           "ward_code, period_start, period_end, signer, pages, fact_count, flag_count "
                           "FROM document_versions ORDER BY doc_id").fetchall()
    finally:
        con.close()
    return len(facts), hashlib.sha256(repr((facts, docs)).encode()).hexdigest()[:16]


# -- in-process measurements -------------------------------------------------------------

def stage_costs(folder: Path, scratch: Path) -> dict:
    """ms per page of each stage over `folder`'s PDFs, in this process, models warmed first."""
    from commune_metrics.checks import check
    from commune_metrics.core.config import Limits
    from commune_metrics.extract.extractor import extract
    from commune_metrics.ingest.parallel import warm_models
    from commune_metrics.ingest.process import ProcessResult, sha256_file
    from commune_metrics.readers import read_file
    from commune_metrics.readers.normalize import normalize
    from commune_metrics.warehouse import open_warehouse

    warm_models()  # the NER tagger loads lazily; keep its one-off load out of the stage figures
    limits = Limits()
    totals = dict.fromkeys(("hash", "read", "normalize", "extract", "validate", "load"), 0.0)
    pages = 0
    results = []
    for path in sorted(folder.glob("*.pdf")):
        t0 = time.perf_counter()
        sha = sha256_file(path)
        t1 = time.perf_counter()
        raw = read_file(path, limits)
        t2 = time.perf_counter()
        doc = normalize(raw)
        t3 = time.perf_counter()
        extraction = extract(doc)
        t4 = time.perf_counter()
        flags = check(extraction)
        t5 = time.perf_counter()
        for key, seconds in zip(("hash", "read", "normalize", "extract", "validate"),
                                (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
            totals[key] += seconds
        pages += len(raw.pages)
        results.append(ProcessResult(path.name, str(path), sha, path.stat().st_size, "ok", file_type="pdf",
                                     meta=extraction.meta, facts=extraction.facts, flags=flags,
                                     pages=doc.page_count))
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    with open_warehouse(scratch / "w.duckdb") as wh:
        run_id = wh.start_run("bench")
        t0 = time.perf_counter()
        for result in results:
            wh.load(result, run_id)
        totals["load"] = time.perf_counter() - t0
    per_page = {k: v * 1000 / pages for k, v in totals.items()}
    return {"pages": pages, "docs": len(results), "ms_per_page": per_page}


def plumber_baseline(folder: Path, limit: int | None) -> dict:
    """pdfplumber `extract_text` alone over the PDFs (every `step`-th when limited)."""
    import pdfplumber

    paths = sorted(folder.glob("*.pdf"))
    if limit and len(paths) > limit:
        step = len(paths) / limit
        paths = [paths[int(i * step)] for i in range(limit)]
    pages = 0
    started = time.perf_counter()
    for path in paths:
        with pdfplumber.open(path) as pdf:
            for page in pdf.pages:
                page.extract_text()
                page.close()
                pages += 1
    seconds = time.perf_counter() - started
    return {"docs": len(paths), "pages": pages, "seconds": seconds, "ms_per_page": seconds * 1000 / pages}


def _f1_with_engine(gold_path: Path, docs_dir: Path, engine: str) -> dict:
    from commune_metrics.evaluate import META_FIELDS, Prediction, load_gold, score
    from commune_metrics.extract.extractor import extract
    from commune_metrics.readers import load_document

    gold = load_gold(gold_path)
    predictions, metas = {}, {}
    for name in gold.docs:
        extraction = extract(load_document(docs_dir / name, engine=engine))
        predictions[name] = [Prediction(name, f.metric, f.kind, f.value, f.evidence, f.extractor)
                             for f in extraction.facts]
        metas[name] = {k: getattr(extraction.meta, k, None) for k in META_FIELDS}
    return score(gold, predictions, metas)["overall"]


def accuracy(scratch: Path) -> dict:
    """Eval F1 on the seed documents: as TXT (commune_metrics.evaluate), and rendered to PDF, read by
    the fast path and by pdfplumber on every page (the fast path must not cost accuracy).
    Empty when ../shared is absent."""
    from commune_metrics.evaluate import evaluate
    from tools.samples.render import paginate, write_pdf

    seeds = PROJECT_ROOT.parent / "shared" / "seeds"
    gold = PROJECT_ROOT.parent / "shared" / "gold" / "seeds.jsonl"
    if not gold.is_file():
        return {}
    out = {"txt": evaluate(gold, seeds)["overall"]}
    pdf_dir = scratch / "seed_pdfs"
    shutil.rmtree(pdf_dir, ignore_errors=True)
    pdf_dir.mkdir(parents=True)
    gold_pdf = scratch / "seeds_pdf.jsonl"
    gold_pdf.write_text(gold.read_text(encoding="utf-8").replace('.txt"', '.pdf"'), encoding="utf-8")
    for seed in sorted(seeds.glob("*.txt")):
        write_pdf(pdf_dir / f"{seed.stem}.pdf", paginate(seed.read_text(encoding="utf-8")), page_numbers=True)
    out["pdf_fast"] = _f1_with_engine(gold_pdf, pdf_dir, "fast")
    out["pdf_plumber"] = _f1_with_engine(gold_pdf, pdf_dir, "plumber")
    return out


def generated_accuracy(corpus: Corpus) -> dict:
    from commune_metrics.evaluate import evaluate

    gold = corpus.root / "gold-pdf.jsonl"
    small_gold = corpus.root / "gold-small.jsonl"
    names = {p.name for p in corpus.small.glob("*.pdf")}
    with open(gold, encoding="utf-8") as src, open(small_gold, "w", encoding="utf-8") as dst:
        for line in src:
            record = json.loads(line)
            doc = record.get("doc") or record.get("doc_meta", {}).get("doc")
            if doc in names:
                dst.write(line)
    return evaluate(small_gold, corpus.small)["overall"]


def machine() -> dict:
    import psutil

    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
            "ram_gb": round(psutil.virtual_memory().total / 2**30, 1), "cpu": cpu_model,
            "python": platform.python_version(), "load_avg": os.getloadavg()}


# -- the report --------------------------------------------------------------------------

def _mb(n: float) -> str:
    return f"{n / 2**20:.0f} MB"


def _ok(flag: bool) -> str:
    return "PASS" if flag else "FAIL"


NOTES = """## Notes

Reading the figures: every run is a fresh process with a fresh warehouse (`ingest` with
archiving as copies), so wall times include interpreter start, model loading and, with
workers, starting them. On a 2-core machine other processes (the load average above) take
cores from the workers first: the 2-worker speedup is only meaningful on an otherwise idle
machine, which is why CPU seconds are shown beside wall seconds.

What profiling found and what was changed (same output everywhere, checked by tests):
- pages with a ruled table went to pdfplumber (`find_tables` + text: 60-90 ms/page, 60% of
  all reading time). `pipeline/readers/pdfium_tables.py` reads tables drawn as a grid of cell
  rectangles with PDFium (~1 ms/page) and gives pdfplumber's exact text; anything else
  (ruling lines, merged rows, text beside a table) still goes to pdfplumber;
- normalize looped over every character three times; it now works per distinct character
  and skips the tone pass when no word can change (2x faster);
- loading: the metric catalog was re-parsed from YAML on every writable open (~60 ms, once per
  chunk); facts went in with `executemany` (one statement per row); every file had its own
  commit (~3 ms). Now: cached per rules version, multi-row INSERTs, one transaction per chunk,
  and the writer connection uses one DuckDB thread;
- incremental runs opened the warehouse once per 16 files and ran the pre-flight extraction
  (loading every model) even when nothing was new. Chunks now count only new files, and
  models load only once a new file turns up;
- workers: a spawn pool whose initializer loads every model once per worker (checked: at most
  one build per worker above); chunks are pipelined so workers extract the next chunk while
  the single writer loads the current one.

Left as they are (owners' modules, measured): extraction is now the largest stage; within it
`FactFinder._score_cue` / `SentenceContext.spans` take about 40%, underthesea's NER on the
signature block about 20% of metadata, and the per-sentence `any(ch.isdigit() ...)` test in
`extractors/pipeline.py` about 10%.
"""


def _ocr_line(scan: dict, pages: int) -> str:
    if "error" in scan:
        return f"OCR: not measured ({scan['error']})."
    cpu = scan["cpu_main"] + scan["cpu_workers"]
    return (f"OCR: {scan['seconds'] / pages:.2f} s/page wall over {pages} scanned pages with 2 workers "
            f"({cpu / pages:.2f} CPU s/page, tesseract's own CPU included).")


def write_report(out: Path, m: dict, args: argparse.Namespace, r: dict) -> str:
    n_pages, small_pages = r["pages"], r["small_pages"]
    one, two, small, inc = r["one"], r["two"], r["small"], r["incremental"]
    pps1 = n_pages / one["seconds"]
    ms_page_1 = one["seconds"] * 1000 / n_pages
    cpu_ms_page_1 = one["cpu_main"] * 1000 / n_pages
    base = r["baseline"]
    ratio = base["ms_per_page"] / ms_page_1
    speedup = one["seconds"] / two["seconds"]
    scale_ratio = one["seconds"] / small["seconds"]
    peak_rss = max(one["rss_main"], two["rss_main"], two["rss_worker_max"])
    inc_beyond = inc["seconds"]
    same = r["digest_one"] == r["digest_two"]
    st = r["stages"]["ms_per_page"]
    load_avg = m["load_avg"]
    lines = [
        "# Benchmarks",
        "",
        f"Written by `python -m tools.bench --n {args.n} --repeat {args.repeat}` "
        "(`make bench` uses the defaults) on "
        f"{datetime.now().strftime('%Y-%m-%d %H:%M')}. Re-run it to refresh; the figures are from that run.",
        "",
        "## Machine",
        f"- {m['cores']} cores ({m['usable_cores']} usable), {m['ram_gb']} GB RAM, "
        f"{m['cpu'] or 'unknown CPU'}, Python {m['python']}",
        f"- load average at start: {load_avg[0]:.1f} / {load_avg[1]:.1f} / {load_avg[2]:.1f} "
        "(other work on the machine slows wall times; CPU seconds are given beside them)",
        "",
        "## Corpus",
        f"- {r['n_docs']} generated text PDFs, {n_pages} pages ({n_pages / r['n_docs']:.1f} pages/doc; "
        "about half carry a ruled table), plus "
        f"{args.docx} DOCX and {args.scans} scanned PDFs; cached in `{r['corpus_root']}`",
        "",
        "## Bars",
        "| bar | measured | result |",
        "|---|---|---|",
        f"| text PDFs end to end (read -> facts in DuckDB), 1 worker: >= 100 pages/s (<= 10 ms/page) | "
        f"{pps1:.0f} pages/s, {ms_page_1:.1f} ms/page wall ({cpu_ms_page_1:.1f} ms/page CPU) | "
        f"{_ok(pps1 >= 100)} |",
        f"| >= 4x faster than pdfplumber `extract_text` alone | baseline {base['ms_per_page']:.1f} ms/page "
        f"-> {ratio:.1f}x | {_ok(ratio >= 4)} |",
        f"| 2 workers >= 1.6x one worker, same warehouse | {speedup:.2f}x (load average at start "
        f"{one.get('load_avg', 0):.1f} / {two.get('load_avg', 0):.1f}); warehouse "
        f"{'identical' if same else 'DIFFERENT'} ({r['facts_one']} facts) | {_ok(speedup >= 1.6 and same)} |",
        f"| 10x documents <= 11x time | {small['counts'].get('loaded', 0)} docs {small['seconds']:.1f} s, "
        f"{r['n_docs']} docs {one['seconds']:.1f} s: {scale_ratio:.2f}x | {_ok(scale_ratio <= 11)} |",
        f"| peak RSS < 1 GB | main {_mb(one['rss_main'])} (1 worker), main {_mb(two['rss_main'])} + "
        f"worker {_mb(two['rss_worker_max'])} (2 workers) | {_ok(peak_rss < 2**30)} |",
        f"| incremental run over {r['n_docs']} loaded files < 3 s beyond process start | "
        f"{inc_beyond:.2f} s ({inc['process_seconds']:.2f} s with interpreter start and imports) | "
        f"{_ok(inc_beyond < 3)} |",
        "",
        "## End to end (fresh process, fresh warehouse, `ingest` with archiving as copies)",
        f"Cold runs of all {r['n_docs']} PDFs: best of {one.get('runs', 1)} for each number of workers.",
        "",
        "| run | docs | pages | wall s | pages/s | docs/s | CPU s (main + workers) | peak RSS |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, res, pages in ((f"{r['n_docs']} PDFs, 1 worker", one, n_pages),
                              (f"{r['n_docs']} PDFs, 2 workers", two, n_pages),
                              (f"{small['counts'].get('loaded', 0)} PDFs, 1 worker", small, small_pages),
                              (f"{args.docx} DOCX, 1 worker", r["docx"], None),
                              (f"{args.scans} scans (OCR), 2 workers", r["scan"], r["scan_pages"])):
        if "error" in res:
            lines.append(f"| {label} | not measured: {res['error']} | | | | | | |")
            continue
        docs = sum(res["counts"].values())
        pages_cell = f"{pages}" if pages else "-"
        pps = f"{pages / res['seconds']:.0f}" if pages else "-"
        lines.append(f"| {label} | {docs} | {pages_cell} | {res['seconds']:.1f} | {pps} | "
                     f"{docs / res['seconds']:.1f} | {res['cpu_main'] + res['cpu_workers']:.1f} | "
                     f"{_mb(max(res['rss_main'], res['rss_worker_max']))} |")
    lines += [
        f"| incremental, {r['n_docs']} unchanged | {sum(inc['counts'].values())} | - | "
        f"{inc['seconds']:.2f} | - | - | {inc['cpu_main']:.2f} | {_mb(inc['rss_main'])} |",
        "",
        _ocr_line(r["scan"], r["scan_pages"]),
        "",
        f"Models built per worker process over the {r['n_docs']} PDFs (2 workers): at most "
        f"{two['max_model_builds_per_worker']} time(s) each (rules, gazetteer, NER tagger...).",
        "",
        f"Incremental run: {inc['counts']}; models built in the main process: "
        f"{sum(inc['models_loaded_in_main'].values())} (listing + hashing + one hash lookup, no extraction).",
        "",
        f"## Per stage (one process, {r['stages']['docs']} PDFs, {r['stages']['pages']} pages, models warm)",
        "| stage | ms/page |",
        "|---|---|",
    ]
    for stage in ("hash", "read", "normalize", "extract", "validate", "load"):
        lines.append(f"| {stage} | {st[stage]:.2f} |")
    lines += [
        f"| total | {sum(st.values()):.2f} |",
        "",
        f"pdfplumber `extract_text` alone: {base['ms_per_page']:.1f} ms/page over {base['pages']} pages "
        f"({base['docs']} of the same PDFs, evenly spread).",
        "",
        "## Accuracy (unchanged by the fast paths)",
        "| documents | precision | recall | F1 |",
        "|---|---|---|---|",
    ]
    for label, key in (("seeds as TXT", "txt"), ("seeds as PDF, fast path (default)", "pdf_fast"),
                       ("seeds as PDF, pdfplumber on every page", "pdf_plumber")):
        if key in r["accuracy"]:
            a = r["accuracy"][key]
            lines.append(f"| {label} | {a['precision']:.3f} | {a['recall']:.3f} | {a['f1']:.3f} |")
    g = r["generated_accuracy"]
    lines.append(f"| {small['counts'].get('loaded', 0)} generated PDFs (dev phrasing) | "
                 f"{g['precision']:.3f} | {g['recall']:.3f} | {g['f1']:.3f} |")
    lines += ["", NOTES]
    text = "\n".join(lines)
    out.parent.mkdir(parents=True, exist_ok=True)
    notes = out.with_name(out.stem + "_notes.md")
    if notes.is_file():  # hand-written context kept beside the generated figures
        text += "\n" + notes.read_text(encoding="utf-8")
    out.write_text(text, encoding="utf-8")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    child = sub.add_parser("_ingest")
    child.add_argument("--folder", required=True)
    child.add_argument("--warehouse", required=True)
    child.add_argument("--workers", type=int, default=1)
    child.add_argument("--process-start", required=True)
    parser.add_argument("--n", type=int, default=1000, help="text PDFs (~7 pages each)")
    parser.add_argument("--docx", type=int, default=20)
    parser.add_argument("--scans", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline-docs", type=int, default=100,
                        help="PDFs for the pdfplumber baseline (0 = all of them)")
    parser.add_argument("--repeat", type=int, default=2,
                        help="cold 1- and 2-worker runs, best of this many (others' load adds noise)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if args.command == "_ingest":
        _ingest_child(args)
        return 0

    m = machine()
    corpus = build_corpus(args.n, args.docx, args.scans, args.seed, workers=m["usable_cores"])
    runs = BENCH_DIR / "runs"
    r: dict = {"corpus_root": str(corpus.root.relative_to(PROJECT_ROOT)) if corpus.root.is_relative_to(
        PROJECT_ROOT) else str(corpus.root)}
    r["pages"], r["small_pages"] = page_count(corpus.pdf), page_count(corpus.small)
    r["scan_pages"] = page_count(corpus.scan)
    r["n_docs"] = len(list(corpus.pdf.glob("*.pdf")))

    def step(label: str) -> None:
        # Partial results are kept after every step: a run that fails late still leaves figures.
        runs.mkdir(parents=True, exist_ok=True)
        (runs / "results.json").write_text(json.dumps({"machine": m, **r}, indent=1, default=str))
        print(f"[{time.strftime('%H:%M:%S')}] {label}", flush=True)

    step("per-stage costs")
    r["stages"] = stage_costs(corpus.small, runs / "stages")
    step("pdfplumber baseline")
    r["baseline"] = plumber_baseline(corpus.pdf, args.baseline_docs or None)
    step(f"{r['n_docs']} PDFs, 1 worker, cold")
    r["one"] = _need(run_ingest(corpus.pdf, runs / "one" / "w.duckdb", workers=1), "1 worker")
    step("incremental run")
    r["incremental"] = _need(run_ingest(corpus.pdf, runs / "one" / "w.duckdb", workers=1, fresh=False),
                             "incremental")
    step(f"{r['n_docs']} PDFs, 2 workers, cold")
    r["two"] = _need(run_ingest(corpus.pdf, runs / "two" / "w.duckdb", workers=2), "2 workers")
    r["facts_one"], r["digest_one"] = warehouse_digest(runs / "one" / "w.duckdb")
    _, r["digest_two"] = warehouse_digest(runs / "two" / "w.duckdb")
    # Other processes on the machine slow some runs: repeat both and keep each one's best.
    for attempt in range(2, args.repeat + 1):
        step(f"1 and 2 workers again ({attempt}/{args.repeat}), the faster of each run is kept")
        for key, workers in (("one", 1), ("two", 2)):
            again = _need(run_ingest(corpus.pdf, runs / f"{key}{attempt}" / "w.duckdb", workers=workers), key)
            if again["seconds"] < r[key]["seconds"]:
                r[key] = again
    r["one"]["runs"] = r["two"]["runs"] = args.repeat
    step("small corpus, 1 worker, cold")
    r["small"] = _need(run_ingest(corpus.small, runs / "small" / "w.duckdb", workers=1), "small corpus")
    step("DOCX")
    r["docx"] = run_ingest(corpus.docx, runs / "docx" / "w.duckdb", workers=1, timeout=600)
    step("scans")
    r["scan"] = run_ingest(corpus.scan, runs / "scan" / "w.duckdb", workers=2, timeout=600)
    step("accuracy")
    r["accuracy"] = accuracy(runs / "accuracy")
    r["generated_accuracy"] = generated_accuracy(corpus)
    step("report")
    text = write_report(args.out, m, args, r)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
