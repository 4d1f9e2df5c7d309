"""Every kind of bad file gives its own typed error with a readable reason, quickly, and never
anything else. All bad files are built here in tmp_path."""

from __future__ import annotations

import io
import re
import shutil
import socket
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from commune_metrics.core.config import Limits
from commune_metrics.core.errors import (
    CorruptFileError,
    EmptyFileError,
    EncodingError,
    EncryptedFileError,
    FileTooLargeError,
    OcrError,
    ReaderError,
    TooManyPagesError,
    UnsupportedFormatError,
    ZipBombError,
)
from commune_metrics.readers import load_document, read_file
from tools.fuzz import raw_pdf
from tools.samples.render import Block, pdf_bytes, write_docx, write_scanned_pdf

SECONDS = 10.0
_PAGE = [Block("para", "Tổng số hồ sơ tiếp nhận là 5.676 hồ sơ, trực tuyến 5.297 hồ sơ.")]


def _refused(path: Path, error: type[ReaderError], limits: Limits | None = None, **kw) -> ReaderError:
    start = time.monotonic()
    with pytest.raises(ReaderError) as info:
        read_file(path, limits or Limits(), **kw)
    elapsed = time.monotonic() - start
    assert type(info.value) is error, f"{path.name}: expected {error.__name__}, got {info.value!r}"
    assert elapsed < SECONDS, f"{path.name} took {elapsed:.1f} s"
    reason = info.value.reason
    assert path.name in reason or len(reason) > 15, reason  # says what is wrong, in words
    print(f"{path.name}: {info.value}")
    return info.value


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _good_pdf(pages: int = 1) -> bytes:
    return pdf_bytes([_PAGE] * pages)


# --- empty ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["empty.txt", "empty.pdf", "empty.docx"])
def test_zero_byte_files_are_empty(tmp_path: Path, name: str) -> None:
    _refused(_write(tmp_path, name, b""), EmptyFileError)


@pytest.mark.parametrize("content", [b"   \n\n\t \r\n", "\ufeff \n".encode(), " \n".encode("utf-16")])
def test_whitespace_only_text_is_empty(tmp_path: Path, content: bytes) -> None:
    _refused(_write(tmp_path, "blank.txt", content), EmptyFileError)


def test_docx_without_text_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "blank.docx"
    write_docx(path, [Block("para", "   ")])
    _refused(path, EmptyFileError)


def _zero_page_pdf() -> bytes:
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"])


def test_pdf_without_pages_is_empty(tmp_path: Path) -> None:
    _refused(_write(tmp_path, "nopages.pdf", _zero_page_pdf()), EmptyFileError)


# --- corrupt ------------------------------------------------------------------------------------


def test_truncated_pdf_is_corrupt(tmp_path: Path) -> None:
    data = _good_pdf()
    _refused(_write(tmp_path, "truncated.pdf", data[: len(data) // 2]), CorruptFileError)


def test_pdf_with_flipped_bytes_is_corrupt(tmp_path: Path) -> None:
    data = _good_pdf()
    flipped = data[:16] + bytes(b ^ 0xFF for b in data[16:-16]) + data[-16:]  # keeps header and %%EOF
    _refused(_write(tmp_path, "flipped.pdf", flipped), CorruptFileError)


def test_damaged_xref_still_either_reads_or_is_corrupt(tmp_path: Path) -> None:
    data = _good_pdf()
    damaged = re.sub(rb"startxref\s+\d+", b"startxref\n999999", data)
    path = _write(tmp_path, "badxref.pdf", damaged)
    try:
        doc = load_document(path, Limits())
    except ReaderError as exc:
        assert isinstance(exc, CorruptFileError)
    else:  # PDFium rebuilds a lost cross-reference table: then the text must be right
        assert "5.676" in doc.text


def test_text_renamed_to_pdf_is_corrupt(tmp_path: Path) -> None:
    _refused(_write(tmp_path, "fake.pdf", "Báo cáo, không phải PDF.".encode()), CorruptFileError)


def test_text_renamed_to_docx_is_corrupt(tmp_path: Path) -> None:
    err = _refused(_write(tmp_path, "fake.docx", "Báo cáo dạng văn bản.".encode()), CorruptFileError)
    assert "zip" in err.reason


def test_old_word_file_renamed_to_docx_is_corrupt(tmp_path: Path) -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    err = _refused(_write(tmp_path, "old.docx", ole), CorruptFileError)
    assert ".doc" in err.reason


def test_zip_that_is_not_a_word_document_is_corrupt(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
    _refused(_write(tmp_path, "sheet.docx", buf.getvalue()), CorruptFileError)


def test_truncated_docx_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "ok.docx"
    write_docx(path, _PAGE)
    data = path.read_bytes()
    _refused(_write(tmp_path, "cut.docx", data[: len(data) // 2]), CorruptFileError)


def test_unexpected_reader_failure_becomes_corrupt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import commune_metrics.readers as readers

    def boom(*args, **kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr(readers, "read_txt", boom)
    err = _refused(_write(tmp_path, "x.txt", b"abc"), CorruptFileError)
    assert "KeyError" in err.reason


# --- encrypted ------------------------------------------------------------------------------


def _encrypted_pdf(user_password: str | None) -> bytes:
    from fpdf import FPDF

    from tools.samples.render import FONT_REGULAR

    pdf = FPDF()
    pdf.set_encryption(owner_password="chu-so-huu", user_password=user_password)
    pdf.add_font("DejaVu", "", str(FONT_REGULAR))
    pdf.set_font("DejaVu", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, _PAGE[0].text)
    return bytes(pdf.output())


def test_password_protected_pdf_is_encrypted(tmp_path: Path) -> None:
    _refused(_write(tmp_path, "locked.pdf", _encrypted_pdf("mat-khau")), EncryptedFileError)


@pytest.mark.parametrize("engine", ["fast", "plumber"])
def test_pdf_with_only_an_owner_password_is_read(tmp_path: Path, engine: str) -> None:
    path = _write(tmp_path, "permissions.pdf", _encrypted_pdf(None))
    assert load_document(path, Limits(), engine=engine).text == _PAGE[0].text


def test_password_protected_docx_is_encrypted(tmp_path: Path) -> None:
    # An encrypted OOXML file is an OLE container with an EncryptionInfo stream.
    marker = "EncryptionInfo".encode("utf-16-le")
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64 + marker + b"\x00" * 64
    _refused(_write(tmp_path, "locked.docx", ole), EncryptedFileError)


# --- too many pages / too large -----------------------------------------------------------------


def test_page_tree_claiming_100000_pages(tmp_path: Path) -> None:
    data = _good_pdf()
    assert b"/Count 1" in data
    lying = re.sub(rb"/Count 1\b", b"/Count 100000", data)
    err = _refused(_write(tmp_path, "liar.pdf", lying), TooManyPagesError)
    assert "100000" in err.reason


def test_more_pages_than_the_limit(tmp_path: Path) -> None:
    _refused(_write(tmp_path, "long.pdf", _good_pdf(pages=3)), TooManyPagesError, Limits(max_pages=2))


def test_file_over_the_size_limit_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "huge.pdf"
    with path.open("wb") as fh:  # sparse: 60 MB on paper, nothing on disk
        fh.truncate(60 * 1024 * 1024)

    def no_reading(self, *args, **kwargs):
        raise AssertionError("the file was read before its size was checked")

    monkeypatch.setattr(Path, "read_bytes", no_reading)
    monkeypatch.setattr(Path, "open", no_reading)
    err = _refused(path, FileTooLargeError, Limits(max_file_mb=50))
    assert "50" in err.reason


def test_txt_over_the_text_limit_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory is bounded by design: normalizing and extracting take ~13x the text, so a TXT over
    the text limit (45 MB took 1 GB and 114 s) is refused from its size, unread."""
    path = tmp_path / "huge.txt"
    with path.open("wb") as fh:  # sparse: 45 MB on paper, under the 50 MB file limit
        fh.truncate(45 * 1024 * 1024)

    def no_reading(self, *args, **kwargs):
        raise AssertionError("the file was read before its size was checked")

    monkeypatch.setattr(Path, "read_bytes", no_reading)
    monkeypatch.setattr(Path, "open", no_reading)
    err = _refused(path, FileTooLargeError, Limits())
    assert "text limit" in err.reason and "10 MB" in err.reason


@pytest.mark.parametrize("kind", ["pdf", "docx"])
def test_extracted_text_over_the_text_limit_is_refused_before_normalizing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    import commune_metrics.readers as readers

    def no_normalizing(raw):
        raise AssertionError("text over the limit was normalized")

    monkeypatch.setattr(readers, "normalize", no_normalizing)
    path = tmp_path / f"long.{kind}"
    if kind == "pdf":
        path.write_bytes(_good_pdf(pages=3))
    else:
        write_docx(path, _PAGE * 20)
    with pytest.raises(FileTooLargeError) as info:
        load_document(path, Limits(max_text_mb=0.0001))  # 100 characters
    assert "million characters of text" in info.value.reason


# --- zip bombs ----------------------------------------------------------------------------------


def _docx_with_extra(tmp_path: Path, name: str, extra: Callable[[zipfile.ZipFile], None]) -> Path:
    base = tmp_path / "base.docx"
    write_docx(base, _PAGE)
    out = tmp_path / name
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        extra(dst)
    return out


def _zeros(megabytes: int) -> Callable[[zipfile.ZipFile], None]:
    def add(zf: zipfile.ZipFile) -> None:
        chunk = bytes(1024 * 1024)
        with zf.open("word/media/image1.bin", "w", force_zip64=True) as fh:
            for _ in range(megabytes):
                fh.write(chunk)

    return add


def test_zip_bomb_docx_by_total_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _docx_with_extra(tmp_path, "bomb.docx", _zeros(260))  # 260 MB of zeros, ~250 KB on disk
    assert path.stat().st_size < 2 * 1024 * 1024

    def no_inflating(self, *args, **kwargs):
        raise AssertionError("an entry was opened before the bomb check")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_inflating)
    err = _refused(path, ZipBombError)
    assert "MB" in err.reason


def test_zip_bomb_docx_by_ratio(tmp_path: Path) -> None:
    path = _docx_with_extra(tmp_path, "ratio.docx", _zeros(20))  # small total, ratio ~1000:1
    err = _refused(path, ZipBombError)
    assert "ratio" in err.reason


def test_docx_limits_come_from_limits(tmp_path: Path) -> None:
    path = _docx_with_extra(tmp_path, "medium.docx", _zeros(3))
    _refused(path, ZipBombError, Limits(max_decompressed_mb=1, max_zip_ratio=10_000))


# --- docx must not reach out ----------------------------------------------------------------


def test_docx_external_relationships_and_entities_are_never_fetched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from docx import Document as WordDocument
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    word = WordDocument()
    word.add_paragraph("Tổng số 5.676 hồ sơ.")
    word.add_paragraph("ENTITY_HERE")
    word.part.relate_to("http://192.0.2.1/linked.png", RT.IMAGE, is_external=True)
    word.part.relate_to("http://192.0.2.1/page.html", RT.HYPERLINK, is_external=True)
    path = tmp_path / "linked.docx"
    word.save(str(path))

    # and an XML external entity in the body
    secret = tmp_path / "secret.txt"
    secret.write_text("BÍ MẬT", encoding="utf-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "word/document.xml":
                text = data.decode("utf-8")
                text = text.replace("?>", f'?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>', 1)
                text = text.replace("ENTITY_HERE", "&x;", 1)
                data = text.encode("utf-8")
            dst.writestr(info, data)
    path.write_bytes(buf.getvalue())

    def no_network(*args, **kwargs):
        raise AssertionError("a reader tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    text = load_document(path, Limits()).text
    assert "5.676" in text and "BÍ MẬT" not in text


# --- formats and encodings ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["slides.pptx", "bang.numbers", "anh.png", "khong_duoi", "bao_cao.rtf"])
def test_unsupported_extensions(tmp_path: Path, name: str) -> None:
    err = _refused(_write(tmp_path, name, b"PK\x03\x04 whatever"), UnsupportedFormatError)
    assert "supported types: .pdf, .docx, .doc, .odt, .txt, .xlsx, .xls, .ods, .zip" in err.reason


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("cp1258.txt", "Báo cáo tài chính".encode("cp1258"), "Báo cáo tài chính"),
        ("latin1.txt", "Báo cáo".encode("latin-1"), "Báo cáo"),  # the same bytes as in Windows-1258
    ],
)
def test_short_legacy_text_is_decoded(tmp_path: Path, name: str, data: bytes, expected: str) -> None:
    assert load_document(_write(tmp_path, name, data), Limits()).text == expected


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("utf16_no_bom.txt", "Báo cáo số liệu".encode("utf-16-le")),
        ("binary.txt", bytes(range(256))),
    ],
)
def test_non_utf8_text_is_an_encoding_error(tmp_path: Path, name: str, data: bytes) -> None:
    err = _refused(_write(tmp_path, name, data), EncodingError)
    assert "UTF-8" in err.reason


# --- OCR failures -------------------------------------------------------------------------------


@pytest.fixture()
def scanned_pdf(tmp_path: Path) -> Path:
    path = tmp_path / "scan.pdf"
    write_scanned_pdf(path, [_PAGE], dpi=100)
    return path


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed")
def test_ocr_timeout_is_an_ocr_error(scanned_pdf: Path) -> None:
    err = _refused(scanned_pdf, OcrError, Limits(ocr_seconds_per_page=0.001))
    assert "longer than" in err.reason


def test_missing_tesseract_is_an_ocr_error(scanned_pdf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import commune_metrics.readers.ocr as ocr

    monkeypatch.setattr(ocr.shutil, "which", lambda name: None)
    _refused(scanned_pdf, OcrError)


def test_failing_tesseract_is_an_ocr_error(
    scanned_pdf: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import commune_metrics.readers.ocr as ocr

    fake = tmp_path / "tesseract"
    fake.write_text("#!/bin/sh\necho 'Error opening data file' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(ocr.shutil, "which", lambda name: str(fake))
    err = _refused(scanned_pdf, OcrError)
    assert "exit 1" in err.reason
