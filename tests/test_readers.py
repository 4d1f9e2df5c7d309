"""Readers round-trip: the seeds as TXT, and as PDF/DOCX built from them at test time, read back to
the same normalized text; PDF phrases map to the page they were printed on."""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from commune_metrics.readers import load_document, read_file
from commune_metrics.readers.normalize import normalize_text
from tools.samples.render import Block, paginate, write_docx, write_pdf


def _tokens(text: str) -> list[str]:
    return unicodedata.normalize("NFC", text).split()


def _find(text: str, phrase: str) -> int:
    """Offset of a phrase in the normalized text, whatever whitespace the join put between words."""
    pattern = r"\s+".join(re.escape(tok) for tok in phrase.split())
    matches = [m.start() for m in re.finditer(pattern, text)]
    assert len(matches) == 1, f"{phrase!r} found {len(matches)} times"
    return matches[0]


def _unique_phrase(page: list[Block], doc_text: str) -> str | None:
    """A phrase of this page that occurs once in the whole document (middle lines first)."""
    order = sorted(range(len(page)), key=lambda i: abs(i - len(page) // 2))
    for i in order:
        phrase = normalize_text(page[i].text)
        words = phrase.split()
        if len(words) < 6:
            continue
        phrase = " ".join(words[1:-1])  # inner words: never touched by a hyphen join
        pattern = r"\s+".join(re.escape(tok) for tok in phrase.split())
        if len(re.findall(pattern, doc_text)) == 1:
            return phrase
    return None


def test_txt_seeds_read_as_utf8(seed_paths) -> None:
    for path in seed_paths:
        doc = load_document(path)
        raw = path.read_bytes()
        assert doc.file_type == "txt" and not doc.paginated
        assert doc.page_at(0) is None
        assert doc.text == normalize_text(raw.decode("utf-8"))
        assert doc.sha256 == hashlib.sha256(raw).hexdigest()


@pytest.mark.parametrize(
    ("bom", "encoding"),
    [(b"", "utf-8"), (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
     (codecs.BOM_UTF16_BE, "utf-16-be")],
)
def test_txt_encodings_with_bom(tmp_path: Path, bom: bytes, encoding: str) -> None:
    text = "Báo cáo của Đảng uỷ xã: tổng số 5.676 hồ sơ, đạt 19,95 %.\n"
    path = tmp_path / "r.txt"
    path.write_bytes(bom + text.encode(encoding))
    doc = load_document(path)
    assert doc.text == "Báo cáo của Đảng ủy xã: tổng số 5.676 hồ sơ, đạt 19,95 %."
    assert not doc.text.startswith("\ufeff")


@pytest.fixture(scope="module")
def seed_files(seed_paths, tmp_path_factory) -> list[tuple[Path, list[list[Block]], Path, Path]]:
    out = tmp_path_factory.mktemp("seed_docs")
    built = []
    for path in seed_paths:
        pages = paginate(path.read_text(encoding="utf-8"))
        pdf = out / f"{path.stem}.pdf"
        write_pdf(pdf, pages, page_numbers=True)
        docx = out / f"{path.stem}.docx"
        write_docx(docx, [block for page in pages for block in page])
        built.append((path, pages, pdf, docx))
    return built


@pytest.mark.parametrize("engine", ["fast", "plumber"])
def test_seed_pdfs_read_back_with_page_numbers(seed_files, engine: str) -> None:
    for seed, pages, pdf, _ in seed_files:
        assert len(pdfium.PdfDocument(pdf)) == len(pages), "a rendered page overflowed"
        doc = load_document(pdf, engine=engine)
        expected = normalize_text(seed.read_text(encoding="utf-8"))
        assert _tokens(doc.text) == _tokens(expected), seed.name
        assert doc.paginated and doc.page_count == len(pages)
        assert doc.ocr_pages == []
        checked = 0
        for number, page in enumerate(pages, start=1):
            phrase = _unique_phrase(page, doc.text)
            if phrase is None:
                continue
            assert doc.page_at(_find(doc.text, phrase)) == number, (seed.name, number, phrase)
            checked += 1
        assert checked >= len(pages) - 1, seed.name


def test_seed_docx_read_back(seed_files) -> None:
    for seed, _, _, docx in seed_files:
        doc = load_document(docx)
        expected = normalize_text(seed.read_text(encoding="utf-8"))
        assert doc.file_type == "docx" and not doc.paginated
        assert _tokens(doc.text) == _tokens(expected), seed.name


_TABLE = [
    ["STT", "Chỉ tiêu", "Kết quả"],
    ["1", "Hồ sơ tiếp nhận", "5.676"],
    ["2", "Tỷ lệ trực tuyến", "19,95 %"],
]
_BLOCKS = [
    Block("heading", "BÁO CÁO KẾT QUẢ"),
    Block("para", "Trước bảng: kết quả thực hiện trong kỳ như sau."),
    Block("table", rows=_TABLE),
    Block("para", "Sau bảng: số liệu tính đến ngày 01/7/2025."),
]
_EXPECTED = [
    "BÁO CÁO KẾT QUẢ",
    "Trước bảng: kết quả thực hiện trong kỳ như sau.",
    "STT | Chỉ tiêu | Kết quả",
    "1 | Hồ sơ tiếp nhận | 5.676",
    "2 | Tỷ lệ trực tuyến | 19,95 %",
    "Sau bảng: số liệu tính đến ngày 01/7/2025.",
]


@pytest.mark.parametrize("engine", ["fast", "plumber"])
def test_pdf_tables_come_out_as_rows_in_reading_order(tmp_path: Path, engine: str) -> None:
    path = tmp_path / "t.pdf"
    write_pdf(path, [_BLOCKS])
    doc = load_document(path, engine=engine)
    assert doc.text.splitlines() == _EXPECTED


def test_docx_tables_come_out_as_rows_in_document_order(tmp_path: Path) -> None:
    path = tmp_path / "t.docx"
    write_docx(path, _BLOCKS)
    assert load_document(path).text.splitlines() == _EXPECTED


def test_docx_merged_cells_are_not_repeated(tmp_path: Path) -> None:
    from docx import Document as WordDocument

    word = WordDocument()
    table = word.add_table(rows=2, cols=3)
    table.cell(0, 0).merge(table.cell(0, 2)).text = "Tổng hợp"
    for c, value in enumerate(["a", "5.676", "c"]):
        table.cell(1, c).text = value
    path = tmp_path / "merged.docx"
    word.save(str(path))
    assert read_file(path).pages[0].text.splitlines() == ["Tổng hợp", "a | 5.676 | c"]


def test_pdf_running_header_and_page_numbers_are_removed(tmp_path: Path) -> None:
    pages = [[Block("para", f"Nội dung riêng của trang số {word}, có {i * 11} hồ sơ.")]
             for i, word in enumerate(["một", "hai", "ba", "bốn"], start=1)]
    path = tmp_path / "h.pdf"
    write_pdf(path, pages, page_numbers=True, header="ỦY BAN NHÂN DÂN XÃ MINH LONG")
    doc = load_document(path)
    assert "MINH LONG" not in doc.text
    assert doc.text.splitlines() == [normalize_text(b.text) for page in pages for b in page]
    words = ["một", "hai", "ba", "bốn"]
    assert [doc.page_at(doc.text.index(f"trang số {w},")) for w in words] == [1, 2, 3, 4]


def test_read_file_rejects_unknown_engine(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Một câu.", encoding="utf-8")
    with pytest.raises(ValueError):
        read_file(path, engine="magic")  # type: ignore[arg-type]


def test_txt_form_feed_pages_lose_their_running_header(tmp_path: Path) -> None:
    pages = [
        f"UBND XÃ MINH LONG\nVề nội dung thứ {word}: đã thực hiện {i * 5} việc.\n{i}\n"
        for i, word in enumerate(["nhất", "hai", "ba", "tư"], start=1)
    ]
    path = tmp_path / "pdftotext.txt"
    path.write_text("\f".join(pages) + "\f", encoding="utf-8")
    doc = load_document(path)
    assert not doc.paginated and doc.page_at(0) is None
    assert doc.text.splitlines() == [f"Về nội dung thứ {w}: đã thực hiện {i * 5} việc."
                                     for i, w in enumerate(["nhất", "hai", "ba", "tư"], start=1)]
