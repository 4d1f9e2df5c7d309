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
from commune_metrics.report.data import COMPARISON, FACTS, QUARANTINE, REPLACED, TABLES
from commune_metrics.report.excel import (
    ENUM_LABELS,
    METRIC_LABEL_COLUMN,
    PERCENT_COLUMNS,
    UNIT_VALUE_COLUMNS,
    sheet_columns,
)
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


def _table_html(html: str, table_id: str) -> str:
    return re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, flags=re.S).group(0)


def test_html_lists_the_province_wherever_communes_are_listed_and_marks_derived_shares(built):
    _, html_path, _ = built
    html = html_path.read_text(encoding="utf-8")
    for table_id in ("comparison-table", "targets-table", "rates-table"):
        assert "<th>Tỉnh/thành phố</th>" in _table_html(html, table_id), table_id
    rates = _table_html(html, "rates-table")
    assert "Quảng Ngãi" in rates
    comparison = _table_html(html, "comparison-table")
    # Minh Long wrote 90 of 96 computers with antivirus and no share: 93,75 % derived.
    assert re.search(r'93,75%<span class="derived" title="tính từ số đếm 90/96">\*</span>', comparison)
    assert re.search(r'<td class="num blank"[^>]*>–</td>', comparison)  # a blank says why


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
                assert xvals[c] == _expected_cell(c, vals), (table.name, c, vals[c], xvals[c])


def _expected_cell(column: str, row: dict) -> object:
    """What an analyst must find in the cell for this view value (see report/excel.py)."""
    value = row[column]
    if value is None:
        return None
    if column == "ward_code":
        return f"{value:05d}"  # zero-padded text
    if isinstance(value, bool):
        return "có" if value else "không"
    percent = column in PERCENT_COLUMNS or (column in UNIT_VALUE_COLUMNS and row.get("unit") == "percent")
    if percent:
        return pytest.approx(value / 100, rel=1e-12)  # a fraction shown with a percent format
    if column in ENUM_LABELS:
        return ENUM_LABELS[column].get(value, value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, float):
        return pytest.approx(value, rel=1e-12)  # Excel keeps 15 digits
    return value


def test_excel_formats_percentages_and_ward_codes_and_speaks_vietnamese(built):
    _, _, xlsx_path = built
    wb = openpyxl.load_workbook(xlsx_path)
    ws = wb[COMPARISON]
    header = [c.value for c in ws[1]]
    online = header.index(column_label("online_share")) + 1
    ward = header.index(column_label("ward_code")) + 1
    shares = [ws.cell(row=r, column=online) for r in range(2, ws.max_row + 1)]
    assert any(c.value is not None for c in shares)
    for cell in shares:
        if cell.value is not None:
            assert 0 <= cell.value <= 1 and "%" in cell.number_format
    codes = [ws.cell(row=r, column=ward).value for r in range(2, ws.max_row + 1)]
    assert "21361" in codes and all(c is None or (isinstance(c, str) and len(c) == 5) for c in codes)
    facts = wb[FACTS]
    fheader = [c.value for c in facts[1]]
    kinds = {facts.cell(row=r, column=fheader.index(column_label("kind")) + 1).value
             for r in range(2, facts.max_row + 1)}
    units = {facts.cell(row=r, column=fheader.index(column_label("unit")) + 1).value
             for r in range(2, facts.max_row + 1)}
    assert kinds <= {"thực hiện", "mục tiêu"} and "actual" not in units and "percent" not in units
    assert set(ENUM_LABELS) >= {"kind", "unit", "qualifier", "doc_type", "scope", "review_status"}


def test_quarantine_and_replaced_documents_have_sheets_and_sections(tmp_path):
    from commune_metrics.ingest.process import ProcessResult
    from commune_metrics.warehouse import open_warehouse

    wh = tmp_path / "wh.duckdb"
    first = report("Minh Long", 21361, start=date(2025, 7, 1), end=date(2025, 7, 31), name="bc_t7.txt")
    first.add("computers.total", 96)
    resent = report("Minh Long", 21361, start=date(2025, 7, 1), end=date(2025, 7, 31), name="bc_t7_sua.txt")
    resent.add("computers.total", 98)
    resent.salt = "v2"
    load_docs(wh, [first])
    load_docs(wh, [resent])
    with open_warehouse(wh) as w:
        run = w.start_run("test")
        w.load(ProcessResult("hong.pdf", "/x/hong.pdf", "ab" * 32, 7, "quarantined", code="corrupt",
                             reason="cannot be read"), run)
    build_report(wh, tmp_path / "r.html", tmp_path / "r.xlsx", corrections_csv=None)
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    replaced = list(wb[REPLACED].iter_rows(values_only=True))
    assert len(replaced) == 2 and replaced[1][0] == "bc_t7.txt" and "bc_t7_sua.txt" in replaced[1]
    quarantined = list(wb[QUARANTINE].iter_rows(values_only=True))
    assert len(quarantined) == 2 and quarantined[1][0] == "hong.pdf"
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'id="replaced"' in html and "bc_t7_sua.txt (v2)" in html
    assert 'id="quarantine"' in html and "hong.pdf" in html


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
