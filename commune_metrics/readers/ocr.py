"""OCR of scanned pages with tesseract (Vietnamese model), run as a subprocess under a time limit."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from commune_metrics.core.errors import OcrError
from commune_metrics.core.lifecycle import preexec_die_with_parent

OCR_DPI = 300  # tesseract's sweet spot; 200 dpi scans are upsampled, which still helps it


def _tesseract() -> str:
    exe = shutil.which("tesseract")
    if not exe:
        raise OcrError("the page is scanned but tesseract is not installed (apt install tesseract-ocr-vie)")
    return exe


def ocr_image(image_path: Path, timeout: float, lang: str = "vie") -> str:
    """Text of one page image. Raises OcrError on timeout, missing tesseract or a failed run."""
    # One thread per tesseract: on 2 cores OpenMP threads fight each other and a batch may run
    # several files at once.
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    cmd = [_tesseract(), str(image_path), "stdout", "-l", lang, "--psm", "3"]
    try:
        # Dies with the worker that runs it: a killed run leaves no tesseract finishing its page.
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env, check=False,
                              preexec_fn=preexec_die_with_parent)
    except subprocess.TimeoutExpired as exc:
        raise OcrError(f"OCR took longer than {timeout:g} s on one page") from exc
    except OSError as exc:
        raise OcrError(f"could not run tesseract: {exc}") from exc
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        raise OcrError(f"tesseract failed (exit {proc.returncode}): {detail[0]}")
    return proc.stdout.decode("utf-8", "replace")


MIN_OCR_DPI = 100  # below this tesseract reads Vietnamese diacritics poorly: refuse instead


def ocr_pdfium_page(page, timeout: float, dpi: int = OCR_DPI, max_megapixels: float = 40.0) -> str:
    """Render a pypdfium2 page to a greyscale image and OCR it. The bitmap is bounded: a page
    too large for `max_megapixels` at `dpi` is rendered coarser, or refused under MIN_OCR_DPI
    (a 700-byte PDF can declare a 200 x 200 inch page: 3.6 GB at 300 dpi)."""
    width, height = page.get_size()  # points
    fit = 72 * (max_megapixels * 1e6 / max(width * height, 1.0)) ** 0.5
    if fit < dpi:
        if fit < MIN_OCR_DPI:
            raise OcrError(
                f"scanned page of {width / 72 * 2.54:.0f} x {height / 72 * 2.54:.0f} cm is too large to OCR "
                f"(over {max_megapixels:g} megapixels at {MIN_OCR_DPI} dpi)"
            )
        dpi = int(fit)
    bitmap = page.render(scale=dpi / 72, grayscale=True)
    try:
        image = bitmap.to_pil()
        with tempfile.TemporaryDirectory(prefix="cm-ocr-") as tmp:
            png = Path(tmp) / "page.png"
            image.save(png, dpi=(dpi, dpi))
            return ocr_image(png, timeout)
    finally:
        bitmap.close()
