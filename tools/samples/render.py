"""Render blocks of text into the file formats communes send: text PDF, scanned (image-only) PDF,
DOCX and TXT. Used to build test inputs at test time, so no binary fixture lives in the repo.

Tables are drawn with ruling lines (PDF) or as real Word tables (DOCX), which is how the reports
carry their figures and what the readers' table handling must cope with.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"

BlockKind = Literal["heading", "para", "table"]


@dataclass
class Block:
    kind: BlockKind
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)  # for kind == "table"

    def as_text(self) -> str:
        """The block as the readers are expected to give it back (table rows joined by " | ")."""
        if self.kind == "table":
            return "\n".join(" | ".join(cell.strip() for cell in row) for row in self.rows)
        return self.text


def _new_pdf(font_size: float):
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(20, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("DejaVu", "", str(FONT_REGULAR))
    pdf.add_font("DejaVu", "B", str(FONT_BOLD))
    pdf.set_font("DejaVu", size=font_size)
    return pdf


def _draw_table(pdf, rows: list[list[str]]) -> None:
    width = max(len(r) for r in rows)
    line_height = pdf.font_size * 1.6
    with pdf.table(borders_layout="ALL", line_height=line_height, first_row_as_headings=False) as table:
        for row in rows:
            cells = table.row()
            for i in range(width):
                cells.cell(row[i] if i < len(row) else "")


def pdf_bytes(
    pages: Sequence[Sequence[Block]],
    *,
    font_size: float = 10,
    page_numbers: bool = False,
    header: str | None = None,
) -> bytes:
    """A text PDF, one PDF page per entry of `pages` (content that overflows spills onto extra pages).

    `page_numbers` prints a bare centred number at the bottom and `header` a running header at the
    top of every page: the page furniture the normalizer must drop.
    """
    pdf = _new_pdf(font_size)
    line_h = font_size * 0.5
    for blocks in pages:
        pdf.add_page()
        if header:
            pdf.set_font("DejaVu", size=font_size - 2)
            pdf.cell(0, line_h, header, align="C", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(line_h)
            pdf.set_font("DejaVu", size=font_size)
        for block in blocks:
            if block.kind == "table" and block.rows:
                _draw_table(pdf, block.rows)
                pdf.ln(line_h / 2)
            elif block.kind == "heading":
                pdf.set_font("DejaVu", "B", font_size)
                pdf.multi_cell(0, line_h, block.text, new_x="LMARGIN", new_y="NEXT")
                pdf.set_font("DejaVu", "", font_size)
            elif block.text:
                pdf.multi_cell(0, line_h, block.text, new_x="LMARGIN", new_y="NEXT")
        if page_numbers:
            y = pdf.get_y()
            pdf.set_auto_page_break(auto=False)
            pdf.set_y(-12)
            pdf.cell(0, line_h, str(pdf.page_no()), align="C")
            pdf.set_y(y)
            pdf.set_auto_page_break(auto=True, margin=15)
    return bytes(pdf.output())


def write_pdf(path: Path, pages: list[list[Block]], **options) -> None:
    """Write a text PDF; options as for pdf_bytes (font_size, page_numbers, header)."""
    Path(path).write_bytes(pdf_bytes(pages, **options))


def write_scanned_pdf(path: Path, pages: list[list[Block]], dpi: int = 200, **options) -> None:
    """Write an image-only PDF (no text layer): the text PDF's pages rendered to greyscale images,
    as a commune's scanner would produce."""
    import pypdfium2 as pdfium
    from fpdf import FPDF

    source = pdfium.PdfDocument(io.BytesIO(pdf_bytes(pages, **options)))
    out = FPDF(unit="pt")
    try:
        for index in range(len(source)):
            page = source[index]
            width, height = page.get_size()
            image = page.render(scale=dpi / 72, grayscale=True).to_pil()
            out.add_page(format=(width, height))
            out.image(image, x=0, y=0, w=width, h=height)
            page.close()
    finally:
        source.close()
    Path(path).write_bytes(bytes(out.output()))


def write_docx(path: Path, blocks: list[Block]) -> None:
    """Write a DOCX with headings, paragraphs and real Word tables, in the given order."""
    from docx import Document as WordDocument

    doc = WordDocument()
    for block in blocks:
        if block.kind == "table" and block.rows:
            width = max(len(r) for r in block.rows)
            table = doc.add_table(rows=len(block.rows), cols=width)
            table.style = "Table Grid"
            for r, row in enumerate(block.rows):
                for c in range(width):
                    table.cell(r, c).text = row[c] if c < len(row) else ""
        elif block.kind == "heading":
            doc.add_heading(block.text, level=2)
        else:
            doc.add_paragraph(block.text)
    doc.save(str(path))


def write_txt(path: Path, pages: list[list[Block]]) -> None:
    """Write UTF-8 text, blocks separated by a blank line and pages by a form feed."""
    text = "\f".join("\n\n".join(block.as_text() for block in blocks) for blocks in pages)
    Path(path).write_text(text + "\n", encoding="utf-8")


_PAGE_NUMBER_LINE = re.compile(r"\s*\d{1,3}\s*")


def paginate(text: str, max_lines: int = 40) -> list[list[Block]]:
    """Split plain text into pages of paragraph blocks, one block per non-blank line.

    A bare page-number line ends a page (and is dropped: write_pdf can print its own numbers);
    a page also ends after `max_lines` lines so it fits one PDF page at the default font size.
    """
    pages: list[list[Block]] = [[]]
    for line in text.splitlines():
        if _PAGE_NUMBER_LINE.fullmatch(line):
            if pages[-1]:
                pages.append([])
            continue
        if not line.strip():
            continue
        if len(pages[-1]) >= max_lines:
            pages.append([])
        pages[-1].append(Block("para", line.strip()))
    return [page for page in pages if page]
