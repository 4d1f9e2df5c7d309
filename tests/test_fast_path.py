"""The fast PDF path (pypdfium2 text, pdfplumber only where a table may be) must give exactly the
same normalized text and page map as pdfplumber on every page."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

import commune_metrics.readers.pdf_reader as pdf_reader
from commune_metrics.core.config import Limits
from commune_metrics.readers import DEFAULT_ENGINE, load_document
from tools.samples.render import Block, paginate, write_pdf

_WORDS = (
    "hồ sơ tiếp nhận trực tuyến toàn trình một phần giải quyết đúng hạn trước hạn quá hạn "
    "Ủy ban nhân dân xã Đảng uỷ thuỷ lợi hoà bình chuyển đổi số Cổng Dịch vụ công quốc gia "
    "02-KH/BCĐTW 1995/QĐ-UBND 5.676 5.297 19,95 % 17/40 01/7/2025 500 triệu đồng (IOC) Wi-Fi"
).split()


def _sentence(rng: random.Random) -> str:
    words = rng.choices(_WORDS, k=rng.randint(8, 40))
    words[0] = words[0].capitalize()
    return " ".join(words) + rng.choice([".", ".", ";", ":", ""])


def _generated_pages(seed: int) -> list[list[Block]]:
    rng = random.Random(seed)
    pages = []
    for _ in range(rng.randint(2, 5)):
        blocks: list[Block] = []
        for _ in range(rng.randint(2, 7)):
            kind = rng.choice(["para", "para", "heading", "table"])
            if kind == "table":
                cols = rng.randint(2, 5)
                rows = [[f"Cột {c + 1}" for c in range(cols)]]
                rows += [
                    [rng.choice([f"{rng.randint(1, 9999):,}".replace(",", "."), f"{rng.random() * 100:.2f} %",
                                 " ".join(rng.choices(_WORDS, k=rng.randint(1, 4)))]) for _ in range(cols)]
                    for _ in range(rng.randint(1, 6))
                ]
                blocks.append(Block("table", rows=rows))
            elif kind == "heading":
                blocks.append(Block("heading", f"{rng.randint(1, 9)}. {_sentence(rng).rstrip('.;:')}"))
            else:
                blocks.append(Block("para", " ".join(_sentence(rng) for _ in range(rng.randint(1, 5)))))
        pages.append(blocks)
    return pages


def _same_from_both_engines(path: Path) -> tuple[float, float]:
    t0 = time.perf_counter()
    fast = load_document(path, Limits(), engine="fast")
    t1 = time.perf_counter()
    plumber = load_document(path, Limits(), engine="plumber")
    t2 = time.perf_counter()
    assert fast.text == plumber.text, path.name
    assert fast.pages == plumber.pages, path.name
    return t1 - t0, t2 - t1


def test_fast_path_matches_plumber_on_seed_pdfs(seed_paths, tmp_path: Path) -> None:
    fast_total = plumber_total = 0.0
    for seed in seed_paths:
        path = tmp_path / f"{seed.stem}.pdf"
        write_pdf(path, paginate(seed.read_text(encoding="utf-8")), page_numbers=True)
        fast, plumber = _same_from_both_engines(path)
        fast_total, plumber_total = fast_total + fast, plumber_total + plumber
    print(f"seed PDFs: fast {fast_total * 1000:.0f} ms, plumber {plumber_total * 1000:.0f} ms")


@pytest.mark.parametrize("seed", range(8))
def test_fast_path_matches_plumber_on_generated_pdfs_with_tables(tmp_path: Path, seed: int) -> None:
    path = tmp_path / f"gen{seed}.pdf"
    header = "UBND XÃ THỬ" if seed % 3 else None
    write_pdf(path, _generated_pages(seed), page_numbers=seed % 2 == 0, header=header)
    _same_from_both_engines(path)


def test_fast_path_calls_pdfplumber_only_on_pages_with_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = Block("table", rows=[["Chỉ tiêu", "Kết quả"], ["Hồ sơ", "5.676"]])
    pages = [[Block("para", f"Trang {i} chỉ có chữ, {i * 3} hồ sơ.")] for i in range(1, 4)]
    pages[1].append(table)
    path = tmp_path / "one_table.pdf"
    write_pdf(path, pages)

    calls: list[int] = []
    real = pdf_reader.plumber_page_text

    def counting(page):
        calls.append(page.page_number)
        return real(page)

    monkeypatch.setattr(pdf_reader, "plumber_page_text", counting)
    doc = load_document(path, Limits(), engine="fast")
    assert calls == []  # a grid of cell rectangles is read by PDFium (readers/pdfium_tables.py)
    assert "Chỉ tiêu | Kết quả\nHồ sơ | 5.676" in doc.text
    monkeypatch.setattr(pdf_reader, "pdfium_table_text", lambda page: None)  # a table PDFium cannot read
    assert load_document(path, Limits(), engine="fast").text == doc.text
    assert calls == [2]
    calls.clear()
    load_document(path, Limits(), engine="plumber")
    assert calls == [1, 2, 3]


def test_fast_is_the_default_engine() -> None:
    assert DEFAULT_ENGINE == "fast"
