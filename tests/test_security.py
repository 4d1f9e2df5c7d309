"""Injection, paths and active content.

- CLI arguments that reach SQL (metric codes) and strings from documents (commune names,
  sentences, file names) are parameters: `'; DROP TABLE ...; --` changes nothing.
- Archive paths stay inside the archive whatever the file or recorded name says.
- Nothing in a document is executed or fetched: PDF JavaScript/URI actions, external streams,
  DOCX linked images, hyperlinks and templates aimed at a port this test listens on.
- The HTML report escapes every string from a document; the Excel export never turns one
  into a formula.
"""

from __future__ import annotations

import hashlib
import select
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from commune_metrics.core.model import DocMeta, Fact
from commune_metrics.ingest.process import ProcessResult, process_file
from commune_metrics.warehouse import LoadOutcome, open_warehouse
from tools.fuzz import active_pdf, external_links_docx
from tools.samples.render import Block, write_docx

REPO = Path(__file__).resolve().parent.parent
INJECTION = "x'); DROP TABLE fact_rows; --"
SCRIPT = "<script>alert('xss')</script>"
HOSTILE_COMMUNE = f"Tân Thành {SCRIPT} {INJECTION}"
HOSTILE_SENTENCE = f'Tổng số hồ sơ tiếp nhận là 120 hồ sơ {SCRIPT}<img src=x onerror="alert(1)">'
FORMULA = '=HYPERLINK("http://127.0.0.1:9/x","bấm vào đây")'
HOSTILE_FILE = '<img src=x onerror="alert(2)">.txt'


def _result(name: str, commune: str, sentence: str, salt: str = "", ward: int = 15661) -> ProcessResult:
    meta = DocMeta(doc_type="report", commune=commune, province="Thanh Hóa", ward_code=ward,
                   period_start=date(2025, 7, 1), period_end=date(2025, 7, 31))
    facts = [Fact("dossiers.received", "actual", 120.0, "count", "eq", 0, len(sentence), sentence,
                  "test", 0.9, page=1)]
    sha = hashlib.sha256(f"{name}|{salt}".encode()).hexdigest()
    return ProcessResult(name, f"/inbox/{name}", sha, 100, "ok", file_type="txt", meta=meta, facts=facts)


@pytest.fixture
def hostile_warehouse(tmp_path: Path) -> Path:
    db = tmp_path / "wh.duckdb"
    with open_warehouse(db) as wh:
        run = wh.start_run("test")
        wh.load(_result(HOSTILE_FILE, HOSTILE_COMMUNE, HOSTILE_SENTENCE), run)
        wh.load(_result("formula.txt", FORMULA, FORMULA + " tiếp nhận 5 hồ sơ", salt="f", ward=20242), run)
        bad = ProcessResult(f"{INJECTION}.pdf", f"/inbox/{INJECTION}.pdf", "b" * 64, 3, "quarantined",
                            code="corrupt", reason=f"{SCRIPT} {INJECTION}")
        wh.load(bad, run)
        wh.finish_run(run, {"loaded": 2, "quarantined": 1})
    return db


def _tables(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [n for (n,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'").fetchall()]
        return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        con.close()


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "commune_metrics", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=180, check=False)


# --- SQL ------------------------------------------------------------------------------------


def test_document_strings_are_stored_verbatim(hostile_warehouse: Path) -> None:
    con = duckdb.connect(str(hostile_warehouse), read_only=True)
    try:
        communes = {c for (c,) in con.execute("SELECT commune FROM document_versions").fetchall()}
        reasons = {r for (r,) in con.execute("SELECT reason FROM quarantine_rows").fetchall()}
    finally:
        con.close()
    assert HOSTILE_COMMUNE in communes and FORMULA in communes
    assert f"{SCRIPT} {INJECTION}" in reasons


@pytest.mark.parametrize("metric", ["'; DROP TABLE facts; --", "x' OR '1'='1", 'dossiers.received"; --',
                                    "dossiers.received'); DELETE FROM fact_rows; --"])
def test_metric_argument_is_a_parameter(hostile_warehouse: Path, tmp_path: Path, metric: str) -> None:
    before = _tables(hostile_warehouse)
    proc = _cli("compare", "--metric", metric, "--warehouse", str(hostile_warehouse), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr  # an unknown metric code, said as such
    assert "unknown metric" in proc.stderr and "Traceback" not in proc.stderr
    assert _tables(hostile_warehouse) == before


def test_compare_shows_hostile_commune_names_as_text(hostile_warehouse: Path, tmp_path: Path) -> None:
    before = _tables(hostile_warehouse)
    proc = _cli("compare", "--metric", "dossiers.received", "--warehouse", str(hostile_warehouse),
                cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Tân Thành" in proc.stdout and "<script>" in proc.stdout  # shown as text, not run
    proc = _cli("compare", "--warehouse", str(hostile_warehouse), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert _tables(hostile_warehouse) == before


def test_report_output_name_with_sql_is_just_a_name(hostile_warehouse: Path, tmp_path: Path) -> None:
    before = _tables(hostile_warehouse)
    out = tmp_path / "out" / f"{INJECTION}.html"
    xlsx = tmp_path / "out" / f"{INJECTION}.xlsx"
    proc = _cli("report", "--out", str(out), "--xlsx", str(xlsx), "--warehouse", str(hostile_warehouse),
                cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert out.is_file() and xlsx.is_file()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted([out.name, xlsx.name])
    after = _tables(hostile_warehouse)
    assert {k: v for k, v in after.items() if k != "corrections"} == {
        k: v for k, v in before.items() if k != "corrections"}


# --- paths ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["..pdf", "...pdf", ".. .txt", "-rf.pdf", "a\\..\\b.pdf"])
def test_archive_stays_inside_its_folder(tmp_path: Path, name: str) -> None:
    from commune_metrics.ingest.inbox import archive

    inbox, root = tmp_path / "inbox", tmp_path / "archive"
    inbox.mkdir()
    source = inbox / name
    source.write_bytes(b"x")
    for outcome in ("quarantined", "loaded"):
        src = source if source.exists() else inbox / name
        src.write_bytes(b"x")
        # the recorded name is what a document or a caller says; only the real file name counts
        lo = LoadOutcome("../../../escaped.pdf", str(src), hashlib.sha256(b"x").hexdigest(), outcome,
                         reason="corrupt: ../../x")
        target = archive(lo, root)
        assert target is not None and root.resolve() in target.resolve().parents
        assert target.name.startswith(name.rsplit(".", 1)[0][:3]) or target.name == name
    assert not (tmp_path / "escaped.pdf").exists() and not (tmp_path.parent / "escaped.pdf").exists()
    assert sorted(p.parent.name for p in root.rglob("*") if p.is_file()) == sorted(
        ["quarantine", "quarantine", date.today().isoformat()])


def test_symlinked_folders_and_files_outside_are_not_listed(tmp_path: Path) -> None:
    from commune_metrics.ingest.inbox import list_files

    inbox, outside = tmp_path / "inbox", tmp_path / "outside"
    inbox.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("BÍ MẬT", encoding="utf-8")
    (inbox / "link.txt").symlink_to(outside / "secret.txt")
    (inbox / "dir").symlink_to(outside)
    (inbox / "dotdot.txt").symlink_to(Path("..") / "outside" / "secret.txt")
    (inbox / "real.txt").write_text("Báo cáo", encoding="utf-8")
    assert [p.name for p in list_files([inbox])] == ["real.txt"]


# --- nothing fetched, nothing executed ------------------------------------------------------


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    yield sock
    sock.close()


def _connections(sock: socket.socket) -> int:
    n = 0
    while select.select([sock], [], [], 0.2)[0]:
        conn, _ = sock.accept()
        conn.close()
        n += 1
    return n


def test_listener_would_notice_a_connection(listener: socket.socket) -> None:
    # the check below is only meaningful if a real connection is seen
    socket.create_connection(listener.getsockname(), timeout=2).close()
    assert _connections(listener) == 1


def test_documents_never_reach_the_network(tmp_path: Path, listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    base = tmp_path / "base.docx"
    write_docx(base, [Block("para", "Tổng số hồ sơ tiếp nhận là 5.676 hồ sơ.")])
    docx = tmp_path / "linked.docx"
    docx.write_bytes(external_links_docx(base.read_bytes(), port))
    pdf = tmp_path / "active.pdf"
    pdf.write_bytes(active_pdf(port))
    results = [process_file(docx), process_file(pdf)]
    assert results[0].status == "ok", results[0].reason  # read, links ignored
    assert results[1].status in ("ok", "quarantined") and results[1].code != "internal_error"
    assert _connections(listener) == 0


def test_report_has_no_remote_resources(hostile_warehouse: Path, tmp_path: Path) -> None:
    from commune_metrics.report import build_report

    out = tmp_path / "r.html"
    build_report(hostile_warehouse, out, None, corrections_csv=None)
    tags = _parse(out.read_text(encoding="utf-8"))
    for tag, attrs in tags:
        for name, value in attrs:
            if name in ("src", "href", "action", "data", "srcset", "xlink:href"):
                remote = ("http:", "https:", "//", "file:", "javascript:")
                assert not (value or "").lower().startswith(remote), (tag, name, value)


# --- output escaping ------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def _parse(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def test_html_report_escapes_every_document_string(hostile_warehouse: Path, tmp_path: Path) -> None:
    from commune_metrics.report import build_report

    out = tmp_path / "r.html"
    build_report(hostile_warehouse, out, None, corrections_csv=None)
    html = out.read_text(encoding="utf-8")
    assert SCRIPT not in html and 'onerror="alert' not in html
    assert "&lt;script&gt;alert(" in html  # the text is there, as text
    tags = _parse(html)
    assert [t for t, _ in tags if t == "script"] == ["script"]  # the report's own sort script only
    assert not any(t == "img" for t, _ in tags)
    assert not any(name.startswith("on") for _, attrs in tags for name, _ in attrs)


def test_excel_export_never_holds_a_formula(hostile_warehouse: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from commune_metrics.report import build_report

    out = tmp_path / "r.xlsx"
    build_report(hostile_warehouse, None, out, corrections_csv=None)
    wb = load_workbook(out)
    formulas, seen = [], False
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    formulas.append((ws.title, cell.coordinate, cell.value))
                if isinstance(cell.value, str) and cell.value.startswith("=HYPERLINK"):
                    seen = True
    assert formulas == []
    assert seen  # the text itself is kept
