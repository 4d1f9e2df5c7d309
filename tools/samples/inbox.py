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
    GoldFact,
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
from tools.samples.render import Block

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


# Written by hand, not generated: a commune that gives counts but no shares (17 of 40 computers
# with antivirus, 96 of 310 dossiers online, 11 of 24 staff trained), so `compare` has to
# derive its shares, and it is the laggard on antivirus coverage (42.5%).
LAGGARD = InboxItem("bc_meo_vac_thang10.pdf", 769, "report", "pdf")
LAGGARD_TEXT = """\
ỦY BAN NHÂN DÂN
XÃ MÈO VẠC
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
Số: 112/BC-UBND
Mèo Vạc, ngày 05 tháng 11 năm 2025
# BÁO CÁO
Kết quả thực hiện cải cách hành chính và chuyển đổi số tháng 10 năm 2025
Kính gửi: Sở Khoa học và Công nghệ tỉnh Tuyên Quang
Ủy ban nhân dân xã Mèo Vạc (tỉnh Tuyên Quang) báo cáo kết quả thực hiện tháng 10 năm 2025 như sau:
# I. KẾT QUẢ THỰC HIỆN
1. Hạ tầng số và an toàn thông tin
Toàn xã hiện có 40 máy tính phục vụ công tác chuyên môn. Số máy tính đã được cài đặt phần mềm \
phòng, chống mã độc là 17 máy.
2. Tiếp nhận và giải quyết hồ sơ thủ tục hành chính
Trong tháng, Bộ phận Một cửa tiếp nhận 310 hồ sơ, trong đó 96 hồ sơ trực tuyến.
Đã giải quyết 290 hồ sơ, trong đó quá hạn 12 hồ sơ.
3. Đội ngũ cán bộ, công chức
Số cán bộ, công chức hiện có là 24 người. Trong tháng, 11 cán bộ, công chức được tập huấn kỹ năng số.
# II. KHÓ KHĂN, VƯỚNG MẮC
Đường truyền Internet tại các thôn vùng cao chưa ổn định; nhiều máy tính đã cũ, chưa có kinh phí \
mua bản quyền phần mềm.
# III. ĐỀ XUẤT, KIẾN NGHỊ
Đề nghị Sở Khoa học và Công nghệ hỗ trợ kinh phí mua bản quyền phần mềm bảo vệ cho các máy còn lại.
Nơi nhận: Như trên; Lưu: VT.
TM. ỦY BAN NHÂN DÂN
CHỦ TỊCH
Vàng Mí Sử
"""
LAGGARD_FACTS = (
    ("computers.total", 40, "có 40 máy tính phục vụ công tác chuyên môn"),
    ("computers.antivirus", 17, "đã được cài đặt phần mềm phòng, chống mã độc là 17 máy"),
    ("dossiers.received", 310, "tiếp nhận 310 hồ sơ"),
    ("dossiers.received_online", 96, "96 hồ sơ trực tuyến"),
    ("dossiers.resolved", 290, "Đã giải quyết 290 hồ sơ"),
    ("dossiers.resolved_overdue", 12, "quá hạn 12 hồ sơ"),
    ("staff.present", 24, "hiện có là 24 người"),
    ("staff.trained", 11, "11 cán bộ, công chức được tập huấn kỹ năng số"),
)


def laggard_report() -> SampleDoc:
    blocks = [Block("heading", line[2:]) if line.startswith("# ") else Block("para", line)
              for line in LAGGARD_TEXT.splitlines() if line.strip()]
    facts = [GoldFact(metric, "actual", float(value), "eq", evidence, str(value))
             for metric, value, evidence in LAGGARD_FACTS]
    meta = {"doc": LAGGARD.name, "commune": "Mèo Vạc", "province": "Tuyên Quang",
            "ward_code": LAGGARD.ward_code, "doc_type": "report",
            "period_start": "2025-10-01", "period_end": "2025-10-31",
            "signer": "Vàng Mí Sử", "issued_on": "2025-11-05"}
    return SampleDoc(LAGGARD.name, meta, blocks, facts)


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
    out.append((laggard_report(), LAGGARD))  # last: the generated documents' random draws stay as they were
    return out


def build_inbox(out_dir: Path = INBOX_DIR, gold_path: Path = INBOX_GOLD) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    docs = compose_inbox()
    for doc, item in docs:
        write_document(doc, out_dir / doc.name, item.fmt, scan_dpi=SCAN_DPI)
    write_gold(gold_path, (doc for doc, _ in docs))
    return gold_path
