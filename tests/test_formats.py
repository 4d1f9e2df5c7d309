"""The formats offices send (issue 13): .doc, .xlsx/.ods annexes, .odt, .zip of reports, and a
hostile folder holding all of them. Every file here is made by the test."""

from __future__ import annotations

import io
import os
import shutil
import stat
import unicodedata
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pytest
from docx import Document as WordDocument

from commune_metrics.ingest.inbox import ingest
from commune_metrics.ingest.process import process_file
from tests.legacy_encode import cp1258_bytes, tcvn3_bytes, tcvn3_surface, vni_bytes
from tools.word97 import word97_bytes

LINES = [
    "ỦY BAN NHÂN DÂN XÃ TÂN THÀNH",
    "BÁO CÁO",
    "Kết quả thực hiện chuyển đổi số tháng 7 năm 2025",
    "Trong tháng, Bộ phận Một cửa tiếp nhận 120 hồ sơ, trong đó 84 hồ sơ trực tuyến.",
    "Toàn xã có 25 máy tính, 19 máy cài phần mềm diệt vi-rút.",
]
REPORT = "\n".join(LINES) + "\n"
TABLE = [["Chỉ tiêu", "Số lượng"], ["Số hồ sơ tiếp nhận", 120], ["Số hồ sơ trực tuyến", 84],
         ["Số máy tính", 25]]
SAMPLES = Path(__file__).parent.parent / "data" / "raw" / "samples"
_NUM = ('<table:table-cell office:value-type="float" office:value="{c}">'
        "<text:p>{c}</text:p></table:table-cell>")
_STR = '<table:table-cell office:value-type="string"><text:p>{c}</text:p></table:table-cell>'


def _facts(result) -> list[tuple]:
    return sorted((f.metric, f.kind, f.value) for f in result.facts)


@pytest.fixture
def twin(tmp_path: Path):
    path = tmp_path / "twin.txt"
    path.write_text(REPORT, encoding="utf-8")
    result = process_file(path)
    assert len(result.facts) >= 4
    return result


# -- .doc ---------------------------------------------------------------------------------------

needs_catdoc = pytest.mark.skipif(shutil.which("catdoc") is None and os.environ.get("CI") != "true",
                                  reason="catdoc not installed (make setup installs it as root)")


@needs_catdoc
def test_a_word97_doc_reads_like_its_twin(tmp_path: Path, twin) -> None:
    path = tmp_path / "bao_cao.doc"
    path.write_bytes(word97_bytes(REPORT))
    assert path.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    result = process_file(path)
    assert (result.status, result.file_type) == ("ok", "doc"), result.reason
    assert _facts(result) == _facts(twin) and result.meta == twin.meta


@needs_catdoc
def test_a_doc_typed_in_vntime_is_converted(tmp_path: Path, twin) -> None:
    path = tmp_path / "vntime.doc"
    path.write_bytes(word97_bytes(tcvn3_surface(REPORT)))  # the font's bytes, as Word keeps them
    result = process_file(path)
    assert (result.encoding_fixed, _facts(result)) == ("tcvn3", _facts(twin))


def test_doc_falls_back_to_antiword_and_says_when_neither_tool_is_there(
    tmp_path: Path, twin, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bao_cao.doc"
    path.write_bytes(word97_bytes(REPORT))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "antiword"  # stands in for antiword: prints the report, as antiword would
    fake.write_text(f"#!/bin/sh\n{shutil.which('cat')} '{tmp_path / 'twin.txt'}'\n", encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    (tmp_path / "twin.txt").write_text(REPORT, encoding="utf-8")
    monkeypatch.setenv("PATH", str(bin_dir))  # no catdoc on this PATH
    result = process_file(path)
    assert result.status == "ok" and _facts(result) == _facts(twin)
    fake.unlink()
    result = process_file(path)
    assert result.code == "reader_missing" and "apt-get install catdoc antiword" in result.reason


def test_a_docx_renamed_to_doc_says_so(tmp_path: Path) -> None:
    path = tmp_path / "x.doc"
    path.write_bytes(b"PK\x03\x04 not really")
    assert "renamed to .doc" in process_file(path).reason


# -- spreadsheets -------------------------------------------------------------------------------

def _xlsx(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Phụ lục"
    for line in LINES[:3]:
        sheet.append([line])
    for row in TABLE:
        sheet.append(row)
    extra = book.create_sheet("Nhân sự")
    extra.append(["Chỉ tiêu", "Tháng 7"])
    extra.append(["Số cán bộ được tập huấn", 18])
    book.save(str(path))
    return path


def test_every_sheet_goes_through_the_table_path_like_a_docx_table(tmp_path: Path) -> None:
    sheet = process_file(_xlsx(tmp_path / "phu_luc.xlsx"))
    assert sheet.status == "ok", sheet.reason
    document = WordDocument()
    for line in LINES[:3]:
        document.add_paragraph(line)
    table = document.add_table(rows=0, cols=2)
    for row in TABLE:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = str(row[0]), str(row[1])
    document.save(str(tmp_path / "bang.docx"))
    docx = process_file(tmp_path / "bang.docx")
    from_first_sheet = [f for f in _facts(sheet) if f[0] != "staff.trained"]
    assert from_first_sheet == _facts(docx) and len(from_first_sheet) >= 3
    assert ("staff.trained", "actual", 18.0) in _facts(sheet)  # the second sheet is read too
    assert all(f.extractor.endswith(":table") for f in sheet.facts)


def _ods(path: Path) -> Path:
    rows = "".join(
        "<table:table-row>" + "".join(
            (_NUM if isinstance(c, int) else _STR).format(c=c) for c in row)
        + "</table:table-row>" for row in TABLE)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="Bảng 1">{rows}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>")
    _odf_zip(path, "application/vnd.oasis.opendocument.spreadsheet", content)
    return path


def _odf_zip(path: Path, mimetype: str, content: str) -> None:
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mimetype}"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                "</manifest:manifest>")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), mimetype)  # stored, first: the ODF rule
        z.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)


def test_an_ods_annex_is_read_as_a_table(tmp_path: Path) -> None:
    result = process_file(_ods(tmp_path / "bang.ods"))
    assert result.status == "ok", result.reason
    assert {("dossiers.received", 120.0), ("dossiers.received_online", 84.0)} <= {
        (f.metric, f.value) for f in result.facts}


def test_a_damaged_workbook_is_quarantined(tmp_path: Path) -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    damaged = (("x.xlsx", b"PK\x03\x04garbage"), ("x.xls", ole + bytes(600)), ("x.ods", b"plain text"))
    for name, data in damaged:
        path = tmp_path / name
        path.write_bytes(data)
        assert process_file(path).code == "corrupt", name


# -- .odt -------------------------------------------------------------------------------------

def _odt(path: Path, lines: list[str]) -> Path:
    paragraphs = "".join(f"<text:p>{line}</text:p>" for line in lines)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:text>{paragraphs}</office:text></office:body></office:document-content>")
    _odf_zip(path, "application/vnd.oasis.opendocument.text", content)
    return path


def test_an_odt_reads_like_its_twin(tmp_path: Path, twin) -> None:
    result = process_file(_odt(tmp_path / "bao_cao.odt", LINES))
    assert (result.status, result.file_type) == ("ok", "odt") and _facts(result) == _facts(twin)


def test_an_odt_with_a_doctype_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.odt"
    _odf_zip(path, "application/vnd.oasis.opendocument.text",
             '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')
    assert process_file(path).code == "corrupt"


# -- .zip -------------------------------------------------------------------------------------

def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_each_member_of_a_zip_is_handled_as_if_dropped(tmp_path: Path) -> None:
    box = tmp_path / "inbox"
    box.mkdir()
    other = REPORT.replace("XÃ TÂN THÀNH", "XÃ MINH LONG")
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("a.txt", "x")
    _zip(box / "bao_cao_thang7.zip", {
        "2025/tan_thanh.txt": REPORT.encode(), "minh_long.txt": other.encode(),
        "phu_luc.xlsx": _xlsx(tmp_path / "p.xlsx").read_bytes(),
        "../../evil.txt": b"escape", "nested.zip": inner.getvalue(), "__MACOSX/._a.txt": b"junk",
    })
    summary = ingest([box], warehouse=tmp_path / "w.duckdb", archive_root=tmp_path / "raw", settle_seconds=0,
                     inbox=box)
    by = {o.source_file: o for o in summary.outcomes}
    assert by["bao_cao_thang7.zip/2025/tan_thanh.txt"].outcome == "loaded"
    assert by["bao_cao_thang7.zip/minh_long.txt"].outcome == "loaded"
    assert by["bao_cao_thang7.zip/phu_luc.xlsx"].outcome == "loaded"
    assert by["bao_cao_thang7.zip/../../evil.txt"].reason.startswith("unsafe_path")
    assert by["bao_cao_thang7.zip/nested.zip"].reason.startswith("unsupported")
    assert by["bao_cao_thang7.zip/__MACOSX/._a.txt"].outcome == "skipped"
    zip_line = by["bao_cao_thang7.zip"]
    assert zip_line.outcome == "unpacked" and zip_line.reason.startswith("6 members (3 loaded, 2 quarantined")
    assert (summary.entries, summary.members, len(summary.outcomes)) == (1, 6, 7)
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path.parent / "evil.txt").exists()
    assert list(box.iterdir()) == [] and list((tmp_path / "raw" / "processed").rglob("*.zip"))
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    # three versions loaded from the zip (the annex repeats the Tân Thành report's subject, so it is
    # a later version of that report)
    assert con.execute("SELECT count(*) FROM document_history WHERE container = 'bao_cao_thang7.zip'"
                       ).fetchone()[0] == 3


def test_a_zip_bomb_is_quarantined_unopened(tmp_path: Path) -> None:
    box = tmp_path / "inbox"
    box.mkdir()
    _zip(box / "bomb.zip", {"a.txt": b"0" * 30_000_000})
    summary = ingest([box], warehouse=tmp_path / "w.duckdb", archive_root=tmp_path / "raw", settle_seconds=0,
                     inbox=box)
    [outcome] = summary.outcomes
    assert outcome.outcome == "quarantined" and outcome.reason.startswith("zip_bomb")


# -- the hostile folder ------------------------------------------------------------------------

@needs_catdoc
def test_a_hostile_folder_gets_one_line_per_entry_and_nothing_is_left_unaccounted(tmp_path: Path) -> None:
    box = tmp_path / "inbox"
    box.mkdir()
    twins = {  # converted file -> its Unicode twin
        "bc_tcvn3.txt": "twin_tcvn3.txt", "bc_vni.txt": "twin_vni.txt", "bc_cp1258.txt": "twin_cp1258.txt",
    }
    reports = {name: REPORT.replace("TÂN THÀNH", commune) for name, commune in (
        ("twin_tcvn3.txt", "MINH LONG"), ("twin_vni.txt", "VẠN TƯỜNG"), ("twin_cp1258.txt", "HƯỚNG PHÙNG"))}
    for name, text in reports.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (box / "bc_tcvn3.txt").write_bytes(tcvn3_bytes(reports["twin_tcvn3.txt"]))
    (box / "bc_vni.txt").write_bytes(vni_bytes(reports["twin_vni.txt"]))
    (box / "bc_cp1258.txt").write_bytes(cp1258_bytes(reports["twin_cp1258.txt"]))
    (box / "bc.doc").write_bytes(word97_bytes(REPORT.replace("TÂN THÀNH", "BA TƠ")))
    _xlsx(box / "phu_luc.xlsx")
    _ods(box / "bang.ods")
    _odt(box / "bc.odt", [line.replace("TÂN THÀNH", "SA PA") for line in LINES])
    document = WordDocument()
    for line in LINES:
        document.add_paragraph(line.replace("TÂN THÀNH", "MỘC CHÂU"))
    document.save(str(box / "bc.docx"))
    shutil.copy(SAMPLES / "bc_sa_pa_thang10.pdf", box / "bc.pdf")
    (box / unicodedata.normalize("NFD", "Báo cáo Tân Thành.txt")).write_text(REPORT, encoding="utf-8")
    (box / "ghi_chu.rtf").write_text("{\\rtf1 x}", encoding="utf-8")
    secret = tmp_path / "secret.txt"
    secret.write_text(REPORT, encoding="utf-8")
    (box / "link.txt").symlink_to(secret)
    _zip(box / "ba_bao_cao.zip", {f"r{i}.txt": REPORT.replace("TÂN THÀNH", c).encode()
                                  for i, c in enumerate(("AN BÌNH", "PHÚ XUÂN", "CÁT HẢI"))})
    entries = sorted(p.name for p in box.iterdir())
    summary = ingest([box], warehouse=tmp_path / "w.duckdb", archive_root=tmp_path / "raw", settle_seconds=0,
                     inbox=box)
    top = [o for o in summary.outcomes if o.container is None]
    assert sorted(unicodedata.normalize("NFC", n) for n in entries) == sorted(o.source_file for o in top)
    assert summary.entries == len(entries) and summary.members == 3
    assert sum(summary.counts.values()) == len(entries) + 3
    by = {o.source_file: o for o in summary.outcomes}
    assert by["ghi_chu.rtf"].reason.startswith("unsupported") and by["link.txt"].outcome == "skipped"
    assert by["ba_bao_cao.zip"].outcome == "unpacked"
    loaded = {o.source_file for o in summary.outcomes if o.outcome == "loaded"}
    assert loaded >= {"bc_tcvn3.txt", "bc_vni.txt", "bc_cp1258.txt", "bc.doc", "phu_luc.xlsx", "bang.ods",
                      "bc.odt", "bc.docx", "bc.pdf", "Báo cáo Tân Thành.txt", "ba_bao_cao.zip/r0.txt",
                      "ba_bao_cao.zip/r1.txt", "ba_bao_cao.zip/r2.txt"}
    assert [p.name for p in box.iterdir()] == ["link.txt"]  # only the skipped symlink waits there
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM run_files").fetchone()[0] == len(entries) + 3
    for converted, original in twins.items():
        got = sorted(con.execute("SELECT metric, kind, value FROM facts WHERE source_file = ?", [converted])
                     .fetchall())
        assert got == _facts(process_file(tmp_path / original)), converted
    encodings = dict(con.execute("SELECT source_file, encoding_fixed FROM documents WHERE encoding_fixed "
                                 "IS NOT NULL").fetchall())
    assert encodings == {"bc_tcvn3.txt": "tcvn3", "bc_vni.txt": "vni", "bc_cp1258.txt": "cp1258"}
