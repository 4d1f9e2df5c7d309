"""The small sample inbox committed under data/raw/samples/ for `make run`, with its truth in
data/raw/samples_gold.jsonl. Rebuild with `python -m tools.samples --inbox`.

Chosen to exercise the pipeline end to end: text PDFs with and without tables, DOCX, TXT, one
scanned PDF, one plan; communes from several provinces, including a name that exists in many
provinces ("Tân Thành") reported twice for different months, and one wrong sum.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from commune_metrics.core.config import DATA_DIR
from tools.samples.generator import (
    Coverage,
    Period,
    SampleDoc,
    communes,
    compose_document,
    month_period,
    quarter3_period,
    write_document,
    write_gold,
)
from tools.samples.phrasebook import load_phrase_set

INBOX_DIR = DATA_DIR / "raw" / "samples"
INBOX_GOLD = DATA_DIR / "raw" / "samples_gold.jsonl"
INBOX_SEED = 2025
SCAN_DPI = 130  # 90 dpi misread digits ("726" -> "72B"); 130 reads cleanly and stays small


@dataclass(frozen=True)
class InboxItem:
    name: str
    ward_code: int
    doc_type: str
    fmt: str
    phrases: str = "dev"
    table: bool = False
    period: Callable[[random.Random], Period] | None = None
    inconsistent: bool = False


ITEMS: tuple[InboxItem, ...] = (
    InboxItem("bc_tan_thanh_thang7.pdf", 15661, "report", "pdf", table=True,
              period=lambda r: month_period(7, r)),
    InboxItem("bc_tan_thanh_thang8.docx", 15661, "report", "docx", table=True,
              period=lambda r: month_period(8, r), inconsistent=True),
    InboxItem("bc_hai_chau_quy3.txt", 20242, "report", "txt", phrases="heldout", table=True,
              period=quarter3_period),
    InboxItem("kh_ba_to_2026.pdf", 21484, "plan", "pdf"),
    InboxItem("bc_chi_minh_thang9_scan.pdf", 12271, "report", "scan", period=lambda r: month_period(9, r)),
    InboxItem("bc_sa_pa_thang10.pdf", 3006, "report", "pdf", phrases="heldout", table=True,
              period=lambda r: month_period(10, r)),
    InboxItem("bc_moc_chau.docx", 3980, "report", "docx"),
    InboxItem("bc_ba_dinh_thang11.txt", 4, "report", "txt", period=lambda r: month_period(11, r)),
)


def compose_inbox() -> list[tuple[SampleDoc, InboxItem]]:
    by_code = {c.ward_code: c for c in communes()}
    rng = random.Random(INBOX_SEED)
    coverage = Coverage()
    out = []
    for item in ITEMS:
        doc_rng = random.Random(rng.getrandbits(64))
        period = item.period(doc_rng) if item.period else None
        doc = compose_document(item.name, doc_rng, load_phrase_set(item.phrases), coverage,
                               by_code[item.ward_code], item.doc_type, with_table=item.table,
                               period=period, inconsistent=item.inconsistent or None)
        out.append((doc, item))
    return out


def build_inbox(out_dir: Path = INBOX_DIR, gold_path: Path = INBOX_GOLD) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    docs = compose_inbox()
    for doc, item in docs:
        write_document(doc, out_dir / doc.name, item.fmt, scan_dpi=SCAN_DPI)
    write_gold(gold_path, (doc for doc, _ in docs))
    return gold_path
