"""Legacy Vietnamese text (issue 13): TCVN3, VNI and Windows-1258 in TXT, DOCX and PDF text
layers are converted, and the facts equal those of the Unicode original."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from docx import Document as WordDocument

from commune_metrics.ingest.inbox import ingest
from commune_metrics.ingest.process import process_file
from commune_metrics.readers.legacy_tables import TCVN3, VNI
from commune_metrics.readers.legacy_text import fix_text, vietnamese_share
from tests.legacy_encode import cp1258_bytes, tcvn3_bytes, tcvn3_surface, vni_bytes, vni_surface

LINES = [
    "ỦY BAN NHÂN DÂN XÃ TÂN THÀNH",
    "Số: 41/BC-UBND",
    "BÁO CÁO",
    "Kết quả thực hiện chuyển đổi số tháng 7 năm 2025",
    "Trong tháng, Bộ phận Một cửa tiếp nhận 120 hồ sơ, trong đó 84 hồ sơ trực tuyến.",
    "Đã giải quyết 112 hồ sơ, trong đó 3 hồ sơ quá hạn.",
    "Toàn xã có 25 máy tính, 19 máy cài phần mềm diệt vi-rút.",
    "Đội ngũ cán bộ, công chức gồm 22 người, đã tập huấn kỹ năng số cho 18 người.",
]
REPORT = "\n".join(LINES) + "\n"
ENCODERS = {"tcvn3": tcvn3_bytes, "vni": vni_bytes, "cp1258": cp1258_bytes}


def _facts(result) -> list[tuple]:
    return sorted((f.metric, f.kind, f.value) for f in result.facts)


@pytest.fixture
def unicode_result(tmp_path: Path):
    path = tmp_path / "unicode.txt"
    path.write_text(REPORT, encoding="utf-8")
    result = process_file(path)
    assert result.status == "ok" and len(result.facts) >= 5 and result.encoding_fixed is None
    return result


@pytest.mark.parametrize("encoding", ENCODERS)
def test_a_legacy_txt_reads_like_its_unicode_twin(tmp_path: Path, unicode_result, encoding: str) -> None:
    path = tmp_path / f"{encoding}.txt"
    path.write_bytes(ENCODERS[encoding](REPORT))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # really not UTF-8
    result = process_file(path)
    assert result.status == "ok", result.reason
    assert result.encoding_fixed == encoding
    assert _facts(result) == _facts(unicode_result)
    assert result.meta == unicode_result.meta


@pytest.mark.parametrize("encoding", ENCODERS)
def test_the_seeds_in_legacy_encodings_give_the_same_facts(tmp_path: Path, seed_paths: list[Path],
                                                           encoding: str) -> None:
    for seed in seed_paths:
        twin = tmp_path / f"{encoding}_{seed.name}"
        twin.write_bytes(ENCODERS[encoding](seed.read_text(encoding="utf-8")))
        original, converted = process_file(seed), process_file(twin)
        assert converted.encoding_fixed == encoding, seed.name
        assert _facts(converted) == _facts(original), seed.name
        assert converted.meta == original.meta, seed.name


def test_legacy_surface_inside_utf8_text_is_converted(tmp_path: Path, unicode_result) -> None:
    # a .VnTime document pasted into a UTF-8 file keeps the font's characters ("B¸o c¸o")
    for name, surface in (("tcvn3", tcvn3_surface(REPORT)), ("vni", vni_surface(REPORT))):
        path = tmp_path / f"pasted_{name}.txt"
        path.write_text(surface, encoding="utf-8")
        result = process_file(path)
        assert (result.encoding_fixed, _facts(result)) == (name, _facts(unicode_result))


def _docx(path: Path, runs: list[tuple[str, str | None]]) -> Path:
    document = WordDocument()
    for text, font in runs:
        run = document.add_paragraph().add_run(text)
        if font:
            run.font.name = font
    document.save(str(path))
    return path


def test_a_docx_whose_runs_use_vntime_fonts_reads_like_its_twin(tmp_path: Path, unicode_result) -> None:
    runs: list[tuple[str, str | None]] = [(LINES[0], "Times New Roman")]  # a Unicode header line
    for line in LINES[1:]:
        font = ".VnTimeH" if line.isupper() else ".VnTime"  # capitals come from the H font
        runs.append((tcvn3_surface(line).lower() if font.endswith("H") else tcvn3_surface(line), font))
    result = process_file(_docx(tmp_path / "vntime.docx", runs))
    assert result.status == "ok", result.reason
    assert result.encoding_fixed == "tcvn3"
    assert _facts(result) == _facts(unicode_result)
    assert (result.meta.doc_type, result.meta.commune, result.meta.doc_number) == ("report", "Tân Thành",
                                                                                   "41/BC-UBND")


def test_a_docx_in_vni_times_reads_like_its_unicode_twin(tmp_path: Path, unicode_result) -> None:
    result = process_file(_docx(tmp_path / "vni.docx", [(vni_surface(line), "VNI-Times") for line in LINES]))
    assert (result.encoding_fixed, _facts(result)) == ("vni", _facts(unicode_result))


def test_a_pdf_text_layer_in_tcvn3_reads_like_its_unicode_twin(tmp_path: Path, unicode_result) -> None:
    from fpdf import FPDF

    from tools.samples.render import FONT_REGULAR

    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("DejaVu", "", str(FONT_REGULAR))
    pdf.set_font("DejaVu", size=11)
    for line in LINES:
        # what a .VnTime PDF's text layer gives: the font's bytes as Latin-1 letters and symbols,
        # its ư (0xAD) as a minus sign
        pdf.multi_cell(0, 6, tcvn3_surface(line).replace("\u00ad", "\u2212"), new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "vntime.pdf"
    pdf.output(str(path))
    result = process_file(path)
    assert result.status == "ok", result.reason
    assert (result.encoding_fixed, _facts(result)) == ("tcvn3", _facts(unicode_result))


def test_undecidable_text_is_quarantined_with_what_to_do(tmp_path: Path) -> None:
    garbage = bytes(range(0x80, 0x100)) * 40 + b" abc " * 10
    path = tmp_path / "unknown.txt"
    path.write_bytes(garbage)
    result = process_file(path)
    assert (result.status, result.code) == ("quarantined", "bad_encoding")
    assert "save it as Unicode" in result.reason and "TCVN3" in result.reason


def test_unicode_and_other_languages_are_left_alone() -> None:
    assert fix_text(REPORT, "x") == (REPORT, None)
    english = "The commune received 120 applications in July; 84 were filed online. " * 5
    assert fix_text(english, "x") == (english, None)
    share, words = vietnamese_share(REPORT)
    assert share > 0.95 and words > 20  # "vi-rút" is one word of two syllables


def test_tables_cover_every_vietnamese_letter() -> None:
    letters = set("àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ")
    assert letters <= set(TCVN3.values())
    assert letters | {c.upper() for c in letters} <= set(VNI.values())
    assert len(set(TCVN3)) == len(TCVN3) and all(len(k) == 1 for k in TCVN3)


def test_documents_record_the_encoding_fixed(tmp_path: Path) -> None:
    box = tmp_path / "inbox"
    box.mkdir()
    (box / "bc_vni.txt").write_bytes(vni_bytes(REPORT))
    ingest([box], warehouse=tmp_path / "w.duckdb", archive_root=tmp_path / "raw", settle_seconds=0, inbox=box)
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    rows = con.execute("SELECT source_file, encoding_fixed FROM documents").fetchall()
    assert rows == [("bc_vni.txt", "vni")]
