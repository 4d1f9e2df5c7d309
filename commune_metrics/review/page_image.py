"""A PDF page as a PNG with a fact's evidence span marked, for the review page.

The span is known in the document's normalized text, not on the page, so it is found again on
the page: for a text layer through PDFium's characters and their boxes, for a scanned page
through tesseract's words and their boxes (TSV output). Both sides are compared on a folded key
(letters and digits only, accents removed, case folded), which survives what normalization
changed: joined lines, tone-mark style, spacing. The page is rendered with pypdfium2 and the
boxes drawn with Pillow: the selected fact in red, the other facts of the page in yellow.

Scans are OCRed once per page and kept in memory (about a second a page).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO
from pathlib import Path

RENDER_SCALE = 1.6  # 115 dpi: readable on screen, small PNGs
OCR_SCALE = 300 / 72
Box = tuple[float, float, float, float]  # left, top, right, bottom in image pixels


class PageImageError(Exception):
    """The page cannot be shown (file gone, not a PDF, page out of range)."""


def _fold_char(ch: str) -> str:
    decomposed = unicodedata.normalize("NFD", ch)
    base = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    base = base.replace("đ", "d")
    return "".join(c for c in base if c.isalnum())


def fold(text: str) -> str:
    return "".join(_fold_char(c) for c in text)


@dataclass
class PageIndex:
    """A page's characters (or words) as a folded key, each key char mapped to a box."""

    key: str
    boxes: list[Box]

    def find(self, text: str) -> list[Box] | None:
        """Boxes covering `text` on the page, merged per line; None when it is not there."""
        target = fold(text)
        if not target:
            return None
        at = self.key.find(target)
        if at < 0:
            # A long sentence may be cut by a page break or a header: try its first half.
            half = target[: max(12, len(target) // 2)]
            at = self.key.find(half)
            if at < 0:
                return None
            target = half
        return merge_lines(self.boxes[at:at + len(target)])


def merge_lines(boxes: Iterable[Box]) -> list[Box]:
    """One rectangle per line of text: boxes whose vertical centres are close join."""
    lines: list[list[float]] = []
    for left, top, right, bottom in boxes:
        centre = (top + bottom) / 2
        for line in lines:
            if abs((line[1] + line[3]) / 2 - centre) < max(4.0, (bottom - top) * 0.6):
                line[0], line[1] = min(line[0], left), min(line[1], top)
                line[2], line[3] = max(line[2], right), max(line[3], bottom)
                break
        else:
            lines.append([left, top, right, bottom])
    return [tuple(line) for line in lines]  # type: ignore[misc]


def text_layer_index(page, scale: float) -> PageIndex:
    """PDFium characters of a page with their boxes, in image pixels at `scale`."""
    textpage = page.get_textpage()
    try:
        height = page.get_height()
        key: list[str] = []
        boxes: list[Box] = []
        for i in range(textpage.count_chars()):
            folded = _fold_char(textpage.get_text_range(i, 1))
            if not folded:
                continue
            left, bottom, right, top = textpage.get_charbox(i)
            box = (left * scale, (height - top) * scale, right * scale, (height - bottom) * scale)
            for c in folded:
                key.append(c)
                boxes.append(box)
        return PageIndex("".join(key), boxes)
    finally:
        textpage.close()


def ocr_index(image, timeout: float = 60.0) -> PageIndex:
    """tesseract's words of a page image with their boxes (pixels of that image)."""
    exe = shutil.which("tesseract")
    if not exe:
        raise PageImageError("tesseract is not installed: a scanned page cannot be searched")
    with tempfile.TemporaryDirectory(prefix="cm-review-") as tmp:
        png = Path(tmp) / "page.png"
        image.save(png)
        proc = subprocess.run([exe, str(png), "stdout", "-l", "vie", "--psm", "3", "tsv"],
                              capture_output=True, timeout=timeout,
                              env={**os.environ, "OMP_THREAD_LIMIT": "1"}, check=False)
    if proc.returncode != 0:
        raise PageImageError("tesseract failed on the page")
    key: list[str] = []
    boxes: list[Box] = []
    for line in proc.stdout.decode("utf-8", "replace").splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) < 12 or not parts[11].strip():
            continue
        left, top, width, height = (float(x) for x in parts[6:10])
        for c in fold(parts[11]):
            key.append(c)
            boxes.append((left, top, left + width, top + height))
    return PageIndex("".join(key), boxes)


_ocr_cache: dict[tuple[str, int], PageIndex] = {}
_ocr_lock = threading.Lock()


def render_page(path: Path, page_number: int, marks: list[tuple[str, bool]], scanned: bool) -> bytes:
    """PNG of page `page_number` (1-based) with each (text, selected) of `marks` boxed."""
    import pypdfium2 as pdfium
    from PIL import ImageDraw

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise PageImageError(f"{path.name} cannot be opened as a PDF") from exc
    try:
        if not 1 <= page_number <= len(pdf):
            raise PageImageError(f"{path.name} has no page {page_number}")
        page = pdf[page_number - 1]
        bitmap = page.render(scale=RENDER_SCALE)
        image = bitmap.to_pil().convert("RGB")
        if scanned:
            index = _ocr_page(path, page, page_number)
            factor = RENDER_SCALE / OCR_SCALE
        else:
            index = text_layer_index(page, RENDER_SCALE)
            factor = 1.0
    finally:
        pdf.close()
    draw = ImageDraw.Draw(image, "RGBA")
    # Others first, the selected fact last so its outline is on top.
    for text, selected in sorted(marks, key=lambda m: m[1]):
        for left, top, right, bottom in index.find(text) or []:
            box = (left * factor - 2, top * factor - 2, right * factor + 2, bottom * factor + 2)
            if selected:
                draw.rectangle(box, fill=(255, 64, 64, 50), outline=(200, 0, 0, 255), width=3)
            else:
                draw.rectangle(box, fill=(255, 220, 0, 70))
    out = BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def _ocr_page(path: Path, page, page_number: int) -> PageIndex:
    key = (file_digest(path), page_number)
    with _ocr_lock:
        if key in _ocr_cache:
            return _ocr_cache[key]
    bitmap = page.render(scale=OCR_SCALE, grayscale=True)
    index = ocr_index(bitmap.to_pil())
    with _ocr_lock:
        _ocr_cache[key] = index
    return index


@lru_cache(maxsize=256)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def file_digest(path: Path) -> str:
    st = path.stat()
    return _digest(str(path), st.st_size, st.st_mtime_ns)


def locate(sha256: str, source_file: str, recorded: list[str], search_roots: list[Path]) -> Path | None:
    """The file with these bytes: a recorded location first, else a file of the same name under
    the archive roots (warehouses loaded before locations were recorded). Verified by hash."""
    for candidate in recorded:
        path = Path(candidate)
        if path.is_file() and file_digest(path) == sha256:
            return path
    stem, suffix = Path(source_file).stem, Path(source_file).suffix
    for root in search_roots:
        if not root.is_dir():
            continue
        for path in root.rglob(f"{stem}*{suffix}"):
            if path.is_file() and file_digest(path) == sha256:
                return path
    return None
