"""Performance paths must not change results: the PDF fast path gives the same facts as
pdfplumber, N worker processes give the same warehouse as one, heavy objects load once per
process, and a run with nothing new extracts nothing and loads no model."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from commune_metrics.core.config import Limits
from commune_metrics.extract.extractor import extract
from commune_metrics.ingest.inbox import ingest
from commune_metrics.ingest.parallel import (
    ParallelProcessor,
    SequentialProcessor,
    make_processor,
    model_loads,
)
from commune_metrics.readers import load_document
from tools.samples.generator import generate_corpus
from tools.samples.render import paginate, write_pdf

REPO = Path(__file__).resolve().parent.parent

# Columns that differ between two runs of the same data by nature (clock, timing).
_FACT_COLUMNS = ("source_file, doc_sha256, doc_type, ward_code, commune, province, period_start, period_end, "
                 "metric, kind, value, unit, qualifier, page, char_start, char_end, evidence, extractor, "
                 "confidence")
_DOC_COLUMNS = ("source_file, doc_sha256, doc_type, ward_code, commune, province, period_start, period_end, "
                "issued_on, signer, pages, status, reason")


def _facts_of(path: Path, engine: str) -> tuple:
    extraction = extract(load_document(path, Limits(), engine=engine))
    facts = [(f.metric, f.kind, f.value, f.unit, f.qualifier, f.char_start, f.char_end, f.page, f.evidence,
              f.extractor) for f in extraction.facts]
    return extraction.meta, facts


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated corpus: text PDFs (half with a ruled table), DOCX and TXT."""
    out = tmp_path_factory.mktemp("corpus")
    generate_corpus(out, 12, seed=7, formats=("pdf", "pdf", "docx", "txt"), pages=(2, 4), workers=2)
    (out / "gold.jsonl").unlink()
    return out


def test_fast_path_gives_the_same_facts_as_pdfplumber_on_seed_pdfs(seed_paths, tmp_path: Path) -> None:
    total = 0
    for seed in seed_paths:
        path = tmp_path / f"{seed.stem}.pdf"
        write_pdf(path, paginate(seed.read_text(encoding="utf-8")), page_numbers=True)
        fast_meta, fast_facts = _facts_of(path, "fast")
        plumber_meta, plumber_facts = _facts_of(path, "plumber")
        assert fast_meta == plumber_meta, seed.name
        assert fast_facts == plumber_facts, seed.name
        total += len(fast_facts)
    assert total > 20  # the comparison is about real facts, not two empty lists


def test_fast_path_gives_the_same_facts_as_pdfplumber_on_a_generated_corpus(corpus: Path) -> None:
    pdfs = sorted(corpus.glob("*.pdf"))
    assert len(pdfs) >= 5
    total = 0
    for path in pdfs:
        fast_meta, fast_facts = _facts_of(path, "fast")
        plumber_meta, plumber_facts = _facts_of(path, "plumber")
        assert fast_meta == plumber_meta, path.name
        assert fast_facts == plumber_facts, path.name
        total += len(fast_facts)
    assert total > 20


def _ingest(corpus: Path, warehouse: Path, process_many) -> dict:
    summary = ingest([corpus], warehouse=warehouse, archive_root=warehouse.parent / "raw", keep_inbox=True,
                     process_many=process_many, settle_seconds=0, chunk_size=4)
    return dict(summary.counts)


def _contents(warehouse: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            "facts": con.execute(f"SELECT {_FACT_COLUMNS} FROM facts ORDER BY source_file, char_start, "
                                 "metric, kind, value").fetchall(),
            "documents": con.execute(f"SELECT {_DOC_COLUMNS} FROM documents ORDER BY source_file").fetchall(),
            "flags": con.execute("SELECT source_file, rule, metrics, expected, actual FROM flags "
                                 "ORDER BY ALL").fetchall(),
            "ids": con.execute("SELECT doc_id, source_file, version FROM document_versions "
                               "ORDER BY doc_id").fetchall(),
        }
    finally:
        con.close()


def test_two_workers_fill_the_same_warehouse_as_one(corpus: Path, tmp_path: Path) -> None:
    one = _ingest(corpus, tmp_path / "one" / "w.duckdb", SequentialProcessor())
    with ParallelProcessor(workers=2, min_files=1) as pool:
        two = _ingest(corpus, tmp_path / "two" / "w.duckdb", pool)
        loads = pool.worker_model_loads()
    assert one == two == {"loaded": 12}
    a, b = _contents(tmp_path / "one" / "w.duckdb"), _contents(tmp_path / "two" / "w.duckdb")
    assert len(a["facts"]) > 50
    for table in a:
        assert a[table] == b[table], table
    # Each worker built every heavy object exactly once, however many files it processed.
    assert len(loads) >= 1
    for pid, counts in loads.items():
        assert counts["rules"] == 1 and counts["fact_finder"] == 1 and counts["gazetteer"] == 1, (pid, counts)
        assert all(n <= 1 for n in counts.values()), (pid, counts)


def test_heavy_objects_are_built_once_per_process(corpus: Path) -> None:
    processor = make_processor(1)
    items = [(p, f"{i:064d}") for i, p in enumerate(sorted(corpus.glob("*.*")))]
    processor(items)
    processor(items)
    counts = model_loads()
    assert counts["rules"] == 1 and counts["fact_finder"] == 1 and counts["checks"] == 1
    assert all(n <= 1 for n in counts.values()), counts


def test_a_dead_worker_fails_only_its_files(corpus: Path) -> None:
    files = sorted(corpus.glob("*.txt"))[:2]
    # The hashes the files were listed with: extraction checks the bytes it reads against them.
    items = [(p, hashlib.sha256(p.read_bytes()).hexdigest()) for p in files]
    with ParallelProcessor(workers=1, min_files=1, batch_size=1) as pool:
        pool._executor().submit(_exit_worker).exception(timeout=60)  # kills the pool's only worker
        results = pool(items)
        # The first batch meets the broken pool and comes back as a transient error (the file
        # stays in the inbox); the pool is rebuilt at once, so later batches go through.
        assert results[0].status == "error" and results[0].code == "worker_failed"
        assert [r.source_file for r in results] == [p.name for p in files]
        again = pool(items)  # a fresh pool takes over
        assert [r.status for r in again] == ["ok", "ok"]


def _exit_worker() -> None:
    import os

    os._exit(3)


_INCREMENTAL = """
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
from commune_metrics.ingest.inbox import ingest
from commune_metrics.ingest.parallel import make_processor, model_loads
corpus, warehouse = Path(sys.argv[1]), Path(sys.argv[2])
pool = make_processor(2)
summary = ingest([corpus], warehouse=warehouse, archive_root=warehouse.parent / "raw", keep_inbox=True,
                 process_many=pool, settle_seconds=0)
pool.close()
print(json.dumps({"counts": dict(summary.counts), "loads": model_loads(), "pool": pool._pool is not None,
                  "underthesea": "underthesea" in sys.modules, "seconds": time.perf_counter() - t0}))
"""


def test_a_run_with_nothing_new_extracts_nothing_and_loads_no_model(corpus: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    _ingest(corpus, warehouse, SequentialProcessor())
    out = subprocess.run([sys.executable, "-c", _INCREMENTAL, str(corpus), str(warehouse)], cwd=REPO,
                         capture_output=True, text=True, timeout=120, check=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["counts"] == {"unchanged": 12}
    assert report["loads"] == {name: 0 for name in report["loads"]}, report["loads"]
    assert report["pool"] is False and report["underthesea"] is False


def _pdf_with(draw, path: Path) -> Path:
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="mm")
    pdf.add_font("DejaVu", "", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    pdf.set_font("DejaVu", size=10)
    pdf.add_page()
    pdf.multi_cell(0, 5, "Bộ phận Một cửa tiếp nhận 120 hồ sơ, trong đó 84 hồ sơ trực tuyến.")
    draw(pdf)
    pdf.set_xy(20, 120)
    pdf.multi_cell(0, 5, "Tỷ lệ hồ sơ giải quyết đúng hạn đạt 97,5%.")
    pdf.output(str(path))
    return path


def _ruled_lines(pdf) -> None:
    """A 3x2 table drawn as ruling lines, not cell rectangles."""
    for y in (40, 50, 60, 70):
        pdf.line(20, y, 120, y)
    for x in (20, 70, 120):
        pdf.line(x, 40, x, 70)
    for row, y in enumerate((42, 52, 62)):
        pdf.text(22, y + 5, f"Chỉ tiêu {row}")
        pdf.text(72, y + 5, f"{row * 11}")


def _text_beside(pdf) -> None:
    pdf.set_xy(20, 40)
    with pdf.table(width=80, align="LEFT", first_row_as_headings=False) as table:
        for r in range(3):
            row = table.row()
            row.cell(f"Chỉ tiêu {r}")
            row.cell(str(r * 11))
    pdf.text(130, 45, "Ghi chú bên cạnh bảng")


@pytest.mark.parametrize("draw", [_ruled_lines, _text_beside])
def test_tables_pdfium_cannot_read_go_to_pdfplumber(tmp_path: Path, draw) -> None:
    import pypdfium2 as pdfium

    from commune_metrics.readers.pdf_reader import pdfium_table_text

    path = _pdf_with(draw, tmp_path / "table.pdf")
    doc = pdfium.PdfDocument(path)
    try:
        assert pdfium_table_text(doc[0]) is None
    finally:
        doc.close()
    fast = load_document(path, Limits(), engine="fast")
    assert fast.text == load_document(path, Limits(), engine="plumber").text
    assert "Chỉ tiêu 2" in fast.text


def test_cell_grid_tables_are_read_by_pdfium_like_pdfplumber(tmp_path: Path) -> None:
    import pypdfium2 as pdfium

    from commune_metrics.readers.pdf_reader import pdfium_table_text

    def grid(pdf) -> None:
        with pdf.table(first_row_as_headings=False) as table:
            for r in range(3):
                row = table.row()
                for c in range(3):
                    long = f"ô {r}.{c} có chữ dài để xuống dòng trong ô"
                    row.cell(long if (r, c) == (1, 1) else f"{r * 7 + c}")

    path = _pdf_with(grid, tmp_path / "grid.pdf")
    doc = pdfium.PdfDocument(path)
    try:
        text = pdfium_table_text(doc[0])
    finally:
        doc.close()
    assert text is not None and "7 | ô 1.1 có chữ dài để xuống dòng trong ô | 9" in text
    assert load_document(path, Limits(), engine="fast").text == load_document(path, Limits(), "plumber").text


def test_a_broken_setup_stops_a_parallel_run_before_anything_is_loaded(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import commune_metrics.extract.extractor
    from commune_metrics.ingest.process import PipelineSetupError

    warehouse = tmp_path / "w.duckdb"
    first = sorted(corpus.glob("*.txt"))[0]
    _ingest(first, warehouse, SequentialProcessor())  # an existing warehouse: the check is deferred

    def broken(doc):
        raise ValueError("rules/metrics.yaml: not valid YAML")

    # this process only, not the workers
    monkeypatch.setattr(commune_metrics.extract.extractor, "extract", broken)
    with ParallelProcessor(workers=2, min_files=1) as pool, pytest.raises(PipelineSetupError):
        _ingest(corpus, warehouse, pool)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM document_versions").fetchone() == (1,)
        assert con.execute("SELECT status FROM runs ORDER BY run_id").fetchall() == [("ok",), ("failed",)]
    finally:
        con.close()
