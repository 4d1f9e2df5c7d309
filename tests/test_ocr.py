"""Scanned PDFs: a seed page rendered to an image-only PDF is OCR'd back with its figures."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from commune_metrics.core.config import Limits
from commune_metrics.readers import load_document, read_file
from commune_metrics.readers.normalize import normalize_text
from tools.samples.render import Block, paginate, write_pdf, write_scanned_pdf

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed")


def _seed_page_with(seed_paths: list[Path], *figures: str) -> list[Block]:
    for path in seed_paths:
        for page in paginate(path.read_text(encoding="utf-8")):
            text = "\n".join(block.text for block in page)
            if all(figure in text for figure in figures):
                return page
    raise AssertionError(f"no seed page holds {figures}")


@pytest.mark.parametrize("engine", ["fast", "plumber"])
def test_scanned_seed_page_is_ocred_with_its_figures(seed_paths, tmp_path: Path, engine: str) -> None:
    page = _seed_page_with(seed_paths, "5.676", "5.297")
    path = tmp_path / "scan.pdf"
    write_scanned_pdf(path, [page], dpi=200)
    assert read_file(path, Limits(), engine="plumber").pages[0].ocr  # no text layer: OCR was needed

    doc = load_document(path, Limits(), engine=engine)
    assert doc.ocr_pages == [1]
    expected = normalize_text("\n".join(block.text for block in page))
    accuracy = difflib.SequenceMatcher(None, expected, doc.text, autojunk=False).ratio()
    print(f"OCR character accuracy ({engine}): {accuracy:.3f} over {len(expected)} characters")
    assert accuracy >= 0.85
    for figure in ("5.676", "5.297"):
        assert figure in doc.text


def test_text_pages_are_not_ocred_and_mixed_documents_keep_page_order(tmp_path: Path) -> None:
    text_page = [Block("para", "Trang có lớp chữ: tổng số 1.117 hồ sơ trực tuyến.")]
    scan_page = [Block("para", "Trang quét: đã giải quyết 822 hồ sơ, đang giải quyết 295 hồ sơ.")]
    text_pdf, scan_pdf = tmp_path / "text.pdf", tmp_path / "scan.pdf"
    write_pdf(text_pdf, [text_page])
    write_scanned_pdf(scan_pdf, [scan_page])

    import pypdfium2 as pdfium

    merged = pdfium.PdfDocument.new()
    for source in (text_pdf, scan_pdf, text_pdf):
        merged.import_pages(pdfium.PdfDocument(source))
    path = tmp_path / "mixed.pdf"
    merged.save(str(path))

    doc = load_document(path, Limits())
    assert doc.ocr_pages == [2]
    assert doc.page_at(doc.text.index("822")) == 2
    assert doc.page_at(doc.text.rindex("1.117")) == 3
