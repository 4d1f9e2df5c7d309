"""The analyst report: one self-contained HTML file (checked in headless Chromium) and an
Excel export that matches the warehouse views row for row."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from commune_metrics.core.model import DocMeta, Fact
from commune_metrics.report import build_report
from commune_metrics.report.data import COMPARISON, FACTS, TABLES
from commune_metrics.report.excel import METRIC_LABEL_COLUMN, sheet_columns
from commune_metrics.report.labels import column_label
from tests.test_analysis_views import Doc, load_docs, query, report
from tools.samples.generator import METRIC_UNITS, compose_corpus

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
EVIL_COMMUNE = '<script>alert("xã")</script>'
EVIL_SENTENCE = "Tổng số hồ sơ <img src=x onerror=alert(1)> là 10 </blockquote><script>alert(2)</script>"


def sample_docs(n: int = 10) -> list[Doc]:
    docs = []
    for sample, _fmt in compose_corpus(n, seed=11, formats=("txt",)):
        m = sample.meta
        meta = DocMeta(
            doc_type=m["doc_type"],
            commune=m["commune"],
            province=m["province"],
            ward_code=m["ward_code"],
            period_start=date.fromisoformat(m["period_start"]) if m["period_start"] else None,
            period_end=date.fromisoformat(m["period_end"]) if m["period_end"] else None,
        )
        doc = Doc(sample.name, meta)
        text = sample.text()
        for g in sample.facts:
            start = max(text.find(g.evidence), 0)
            doc.facts.append(
                Fact(
                    g.metric,
                    g.kind,
                    g.value,
                    METRIC_UNITS[g.metric],
                    g.qualifier,
                    start,
                    start + len(g.evidence),
                    g.evidence,
                    "gold",
                    0.9,
                )
            )
        docs.append(doc)
    return docs


def hostile_and_target_docs() -> list[Doc]:
    evil = report(EVIL_COMMUNE, None, name="<i>evil</i>.txt", start=date(2025, 7, 1), end=date(2025, 7, 31))
    evil.add("dossiers.received", 10, evidence=EVIL_SENTENCE).add("dossiers.received_online", 9)
    evil.add("dossiers.received_offline", 3)  # 9 + 3 != 10: a flag carrying the hostile sentence
    evil.add("dossiers.online_pct", 90, unit="percent")
    plan = report(None, None, doc_type="plan", name="kh_tinh.txt")
    plan.add("dossiers.online_pct", 80, "target", "gte", "percent")
    minh_long = report("Minh Long", 21361, start=date(2025, 7, 1), end=date(2025, 7, 31))
    minh_long.add("dossiers.online_pct", 80.05, unit="percent").add("computers.total", 96)
    minh_long.add("computers.antivirus", 90)
    return [evil, plan, minh_long]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path, Path]:
    tmp = tmp_path_factory.mktemp("report")
    wh = tmp / "wh.duckdb"
    load_docs(wh, sample_docs() + hostile_and_target_docs())
    html_path, xlsx_path = tmp / "out" / "report.html", tmp / "out" / "report.xlsx"
    build_report(wh, html_path, xlsx_path, corrections_csv=None)
    return wh, html_path, xlsx_path


def test_html_is_self_contained_and_escapes_document_text(built):
    _, html_path, _ = built
    html = html_path.read_text(encoding="utf-8")
    assert html.count("<script") == 1  # only the report's own sorting script
    assert "<img" not in html and "<i>evil" not in html
    assert "&lt;script&gt;alert(&quot;xã&quot;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) <= {"http://www.w3.org/2000/svg"}
    assert not re.search(r"<(link|iframe|object|embed)\b", html)
    assert not re.search(r"<[a-z]+[^>]*\s(src|srcset)=", html)
    assert "<svg" in html and "<style>" in html


def test_html_has_vietnamese_sections_and_evidence_links(built):
    wh, html_path, _ = built
    html = html_path.read_text(encoding="utf-8")
    for heading in (
        "So sánh giữa các xã",
        "Biểu đồ",
        "Mục tiêu và kết quả",
        "Cảnh báo kiểm tra số liệu",
        "Chi tiết từng xã",
    ):
        assert f">{heading}</h2>" in html
    ids = [r[0] for r in query(wh, "SELECT fact_id FROM facts_corrected")]
    for fid in ids:  # every figure has its evidence anchor, and something links to it
        assert f'id="f-{fid}"' in html
        assert f'href="#f-{fid}"' in html
    assert "received_eq_online_plus_offline" in html  # the planted flag is listed


def run_chromium(*args: str, user_dir: Path) -> subprocess.CompletedProcess:
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={user_dir}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.slow
def test_report_renders_in_headless_chromium(built, tmp_path):
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and no Chromium at {CHROMIUM}")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    wh, html_path, _ = built
    url = html_path.resolve().as_uri()
    shot = tmp_path / "report.png"
    done = run_chromium("--window-size=1280,2400", f"--screenshot={shot}", url, user_dir=tmp_path / "p1")
    assert shot.is_file(), done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000

    dom = run_chromium("--dump-dom", url, user_dir=tmp_path / "p2").stdout
    assert 'data-ready="1"' in dom  # the inline script ran to its end without an error
    communes = query(wh, "SELECT commune FROM comparison")
    assert len(re.findall(r'<tr class="commune-row">', dom)) == len(communes) >= 5
    assert "<script>alert" not in dom
    charts = re.findall(r'<svg[^>]*class="chart".*?</svg>', dom, flags=re.S)
    assert len(charts) >= 4
    widths = [float(w) for c in charts for w in re.findall(r'<rect[^>]*width="([\d.]+)"', c)]
    assert any(w > 0 for w in widths)  # at least one bar actually drawn


def test_excel_matches_views_row_for_row(built):
    wh, _, xlsx_path = built
    wb = openpyxl.load_workbook(xlsx_path)
    assert wb.sheetnames == [t.name for t in TABLES]
    for table in TABLES:
        ws = wb[table.name]
        rows = list(ws.iter_rows(values_only=True))
        view_rows = query(wh, table.sql)
        assert len(rows) - 1 == len(view_rows), table.name
        header = rows[0]
        # Vietnamese headers, one per exported column
        assert all(h and not re.fullmatch(r"[a-z_0-9]+", h) for h in header), header
        cols = _columns(wh, table.sql)
        shown = _sheet_cols(table.name, cols)
        assert list(header) == [column_label(c) for c in shown]
        for xrow, vrow in zip(rows[1:], view_rows, strict=True):
            vals = dict(zip(cols, vrow, strict=True))
            xvals = dict(zip(shown, xrow, strict=True))
            for c in shown:
                if c == METRIC_LABEL_COLUMN:
                    continue
                expected = vals[c]
                if isinstance(expected, date) and not isinstance(expected, datetime):
                    expected = datetime(expected.year, expected.month, expected.day)
                if isinstance(expected, float):
                    expected = pytest.approx(expected, rel=1e-12)  # Excel keeps 15 digits
                assert xvals[c] == expected, (table.name, c)


def test_excel_numbers_are_numbers_and_labels_are_vietnamese(built):
    _, _, xlsx_path = built
    wb = openpyxl.load_workbook(xlsx_path)
    ws = wb[FACTS]
    header = [c.value for c in ws[1]]
    value_col = header.index(column_label("value")) + 1
    label_col = header.index(column_label(METRIC_LABEL_COLUMN)) + 1
    values = [ws.cell(row=r, column=value_col).value for r in range(2, ws.max_row + 1)]
    assert values and all(isinstance(v, int | float) for v in values if v is not None)
    comparison = pd.read_excel(xlsx_path, sheet_name=COMPARISON, engine="openpyxl")
    assert column_label("online_share") in comparison.columns
    assert pd.api.types.is_numeric_dtype(comparison[column_label("online_share")])
    labels = {ws.cell(row=r, column=label_col).value for r in range(2, ws.max_row + 1)}
    assert labels  # labels come from the catalog when present, else the code itself


def test_empty_warehouse_gives_a_report(tmp_path):
    wh = tmp_path / "wh.duckdb"
    load_docs(wh, [])
    out = tmp_path / "r.html"
    build_report(wh, out, tmp_path / "r.xlsx", corrections_csv=None)
    html = out.read_text(encoding="utf-8")
    assert "Chưa có xã nào có số liệu" in html and "<svg" in html
    assert openpyxl.load_workbook(tmp_path / "r.xlsx")[COMPARISON].max_row == 1


def test_report_applies_the_corrections_csv(tmp_path):
    wh = tmp_path / "wh.duckdb"
    doc = report("Minh Long", 21361, start=date(2025, 7, 1), end=date(2025, 7, 31))
    doc.add("computers.total", 96).add("computers.antivirus", 48)
    load_docs(wh, [doc])
    (fid,) = query(wh, "SELECT fact_id FROM facts_corrected WHERE metric = 'computers.antivirus'")[0]
    csv_path = tmp_path / "corrections.csv"
    csv_path.write_text(f"fact_id,value,note,who\n{fid},72,đếm lại,lan\n", encoding="utf-8")
    out = tmp_path / "r.html"
    build_report(wh, out, None, corrections_csv=csv_path)
    html = out.read_text(encoding="utf-8")
    assert "đếm lại" in html and 'class="corrected">72<' in html


def _columns(wh: Path, sql: str) -> list[str]:
    from commune_metrics.warehouse import connect_readonly

    con = connect_readonly(wh)
    try:
        return [d[0] for d in con.execute(sql).description]
    finally:
        con.close()


def _sheet_cols(table: str, cols: list[str]) -> list[str]:
    class _Data:  # the minimal shape sheet_columns reads
        columns = {table: cols}

    return sheet_columns(_Data(), table)  # type: ignore[arg-type]


SAMPLES = Path(__file__).resolve().parent.parent / "data" / "raw" / "samples"


@pytest.mark.slow
def test_report_from_the_sample_inbox(tmp_path):
    """Real ingest of data/raw/samples. Every planted inconsistency of a text document is
    flagged, and every other flag points at a misread figure (one that is not in the gold):
    checks never fire on figures that agree. Every commune of the samples is in the report."""
    import json

    from commune_metrics.ingest.inbox import ingest

    gold_path = SAMPLES.parent / "samples_gold.jsonl"
    if not gold_path.is_file():
        pytest.skip("sample inbox not present")
    records = [json.loads(line) for line in gold_path.read_text(encoding="utf-8").splitlines()]
    metas = [r["doc_meta"] for r in records if "doc_meta" in r]
    gold = {(r["doc"], r["metric"], r["kind"], float(r["value"])) for r in records if "metric" in r}
    wh = tmp_path / "wh.duckdb"
    ingest([SAMPLES], warehouse=wh, archive_root=tmp_path / "archive", keep_inbox=True, settle_seconds=0)

    flags = query(wh, "SELECT source_file, rule, doc_sha256, fact_indexes FROM flags")
    flagged = {(f[0], f[1]) for f in flags}
    planted = {(m["doc"], rule) for m in metas for rule in m.get("inconsistent", [])}
    text_planted = {p for p in planted if "_scan" not in p[0]}  # OCR may garble a planted figure
    assert planted and text_planted <= flagged
    for source, rule, sha, indexes in flags:
        if (source, rule) in planted:
            continue
        seqs = {int(i) for i in indexes.split(",")}
        rows = query(wh, "SELECT seq, metric, kind, value FROM fact_history WHERE doc_sha256 = ?", [sha])
        involved = [r[1:] for r in rows if r[0] in seqs]
        assert any((source, m, k, v) not in gold for m, k, v in involved), (source, rule, involved)

    html_path = tmp_path / "r.html"
    build_report(wh, html_path, tmp_path / "r.xlsx", corrections_csv=None)
    html = html_path.read_text(encoding="utf-8")
    for m in metas:
        assert f">{m['commune']}</a>" in html, m["commune"]
    assert (
        openpyxl.load_workbook(tmp_path / "r.xlsx")[FACTS].max_row - 1
        == query(wh, "SELECT count(*) FROM facts_corrected")[0][0]
    )
