"""Paths and resource limits. Every limit can be set by an environment variable so the
nightly job and tests can tighten them without code changes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
# The rules and the SQL ship inside the package, so an installed wheel finds them.
RULES_DIR = Path(os.environ.get("CM_RULES_DIR", PACKAGE_DIR / "rules"))


def _project_root() -> Path:
    """The source checkout when running from one (so `make run` and the tests use its data/),
    else the current directory: an installed wheel keeps its data where the user works."""
    checkout = PACKAGE_DIR.parent
    return checkout if (checkout / "pyproject.toml").is_file() else Path.cwd()


PROJECT_ROOT = _project_root()
DATA_DIR = Path(os.environ.get("CM_DATA_DIR", PROJECT_ROOT / "data"))
# Only this folder is drained (files moved out after their load commits); files given from
# anywhere else are read in place. CM_INBOX moves it, e.g. for the nightly job.
DEFAULT_INBOX = Path(os.environ.get("CM_INBOX", DATA_DIR / "raw" / "inbox"))
DEFAULT_WAREHOUSE = DATA_DIR / "warehouse" / "warehouse.duckdb"
# Reports (text, Word, OpenDocument), annexes (spreadsheets) and archives of these.
DOCUMENT_SUFFIXES = (".pdf", ".docx", ".doc", ".odt", ".txt")
SPREADSHEET_SUFFIXES = (".xlsx", ".xls", ".ods")
ARCHIVE_SUFFIXES = (".zip",)
SUPPORTED_SUFFIXES = DOCUMENT_SUFFIXES + SPREADSHEET_SUFFIXES + ARCHIVE_SUFFIXES


def serve_state_path(warehouse: Path) -> Path:
    """Where `serve` says it is running (pid, cron, API URL), for `status`: beside the warehouse
    it loads, so both commands agree without sharing Prefect's settings."""
    warehouse = Path(warehouse)
    return warehouse.with_name(warehouse.name + ".serve.json")


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


@dataclass(frozen=True)
class Limits:
    """Bounds that keep one hostile file from exhausting memory or time."""

    max_file_mb: float = 50.0
    max_pages: int = 500
    ocr_seconds_per_page: float = 60.0
    max_decompressed_mb: float = 200.0
    max_zip_ratio: float = 200.0
    # One non-image PDF stream (page content, font): PDFium spends ~20 MB RSS per inflated MB.
    max_pdf_stream_mb: float = 16.0
    # Bitmap size for OCR (an A2 page at 300 dpi is 35 MP); larger pages are rendered at a
    # lower resolution, or refused when that would fall under 100 dpi.
    max_ocr_megapixels: float = 40.0
    # Text one document may hold, in MB (millions of characters once extracted). Normalizing
    # and extracting take about 13x the text in memory and ~3 s per MB: 10 MB (about 3,000
    # dense pages) bounds one file at ~130 MB above a warm worker (docs/reliability.md). A TXT is
    # checked from its size before a byte is read, a PDF or DOCX once its text is extracted.
    max_text_mb: float = 10.0

    def max_bytes(self, suffix: str) -> int:
        """Largest file of this type read at all: a TXT's bytes are its text."""
        mb = min(self.max_file_mb, self.max_text_mb) if suffix.lower() == ".txt" else self.max_file_mb
        return int(mb * 1024 * 1024)

    @classmethod
    def from_env(cls) -> Limits:
        return cls(
            max_file_mb=_env_float("CM_MAX_FILE_MB", cls.max_file_mb),
            max_pages=int(_env_float("CM_MAX_PAGES", cls.max_pages)),
            ocr_seconds_per_page=_env_float("CM_OCR_SECONDS_PER_PAGE", cls.ocr_seconds_per_page),
            max_decompressed_mb=_env_float("CM_MAX_DECOMPRESSED_MB", cls.max_decompressed_mb),
            max_zip_ratio=_env_float("CM_MAX_ZIP_RATIO", cls.max_zip_ratio),
            max_pdf_stream_mb=_env_float("CM_MAX_PDF_STREAM_MB", cls.max_pdf_stream_mb),
            max_ocr_megapixels=_env_float("CM_MAX_OCR_MEGAPIXELS", cls.max_ocr_megapixels),
            max_text_mb=_env_float("CM_MAX_TEXT_MB", cls.max_text_mb),
        )
