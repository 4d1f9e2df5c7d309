"""Document metadata: dates and periods, document type, commune, signer, and the bar on the seeds.

Example sentences here are invented for the tests; seed text is only read from ../shared."""

from __future__ import annotations

import json
import statistics
import time
from datetime import date
from pathlib import Path

import pytest

from commune_metrics.core.document import Document
from commune_metrics.extract.dates import Period, find_period, find_place_date, make_date
from commune_metrics.extract.metadata import detect_commune, detect_doc_type, detect_signer, extract_meta
from commune_metrics.readers.normalize import normalize_text


def _doc(text: str) -> Document:
    text = normalize_text(text)
    return Document(
        source_name="t.txt", sha256="0" * 64, file_type="txt", text=text, raw_text=text, paginated=False
    )


D = date

# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("day", "month", "year", "expected"),
    [
        ("01", "7", "2025", D(2025, 7, 1)),
        ("28", "7", "205", None),  # typo in the year
        ("31", "2", "2025", None),
        ("0", "7", "2025", None),
        ("15", "13", "2025", None),
        ("1", "7", "25", D(2025, 7, 1)),
        ("x", "7", "2025", None),
    ],
)
def test_make_date_validates(day: str, month: str, year: str, expected: date | None) -> None:
    assert make_date(day, month, year) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Xã đã tổng hợp số liệu (tính từ ngày 01/7/2025 đến ngày 25/9/2025) như sau.",
            Period(D(2025, 7, 1), D(2025, 9, 25)),
        ),
        ("Kết quả từ ngày 01/8/2025 đến 31/8/2025 được tổng hợp.", Period(D(2025, 8, 1), D(2025, 8, 31))),
        (
            "Số liệu từ ngày 01 tháng 7 năm 2025 đến ngày 30 tháng 9 năm 2025.",
            Period(D(2025, 7, 1), D(2025, 9, 30)),
        ),
        ("Báo cáo từ ngày 01/10 đến ngày 15/11/2025.", Period(D(2025, 10, 1), D(2025, 11, 15))),
        ("Kết quả thực hiện tháng 7/2025 của xã.", Period(D(2025, 7, 1), D(2025, 7, 31))),
        ("Kết quả thực hiện tháng 2 năm 2024 của xã.", Period(D(2024, 2, 1), D(2024, 2, 29))),
        ("Báo cáo kết quả quý III/2025.", Period(D(2025, 7, 1), D(2025, 9, 30))),
        ("Báo cáo kết quả quý 4 năm 2025.", Period(D(2025, 10, 1), D(2025, 12, 31))),
        ("Báo cáo kết quả quý IIl năm 2025.", Period(D(2025, 7, 1), D(2025, 9, 30))),  # OCR: l for I
        ("Sơ kết 6 tháng đầu năm 2025.", Period(D(2025, 1, 1), D(2025, 6, 30))),
        ("Sơ kết 6 tháng cuối năm 2025.", Period(D(2025, 7, 1), D(2025, 12, 31))),
        ("Kết quả 9 tháng đầu năm 2025.", Period(D(2025, 1, 1), D(2025, 9, 30))),
        (
            "Tính đến hết tháng 8/2025, xã đã niêm yết thủ tục.",
            Period(D(2025, 8, 1), D(2025, 8, 31), as_of=D(2025, 8, 31)),
        ),
        ("Số cán bộ có mặt tính đến ngày 15/9/2025 là 20 người.", Period(as_of=D(2025, 9, 15))),
        ("Quyết định số 12/QĐ-UBND ngày 28/7/205 của UBND xã.", Period()),
        (
            "Trong 01 tháng (tháng 8) xã tiếp nhận hồ sơ; Công văn ngày 02/8/2025.",
            Period(D(2025, 8, 1), D(2025, 8, 31)),
        ),
        # a full date is not a month
        ("Hội nghị ngày 05 tháng 8 năm 2025 đã triển khai.", Period()),
        ("Không có mốc thời gian nào.", Period()),
    ],
)
def test_find_period(text: str, expected: Period) -> None:
    assert find_period(text) == expected


def test_explicit_range_beats_month_and_to_now() -> None:
    text = (
        "BÁO CÁO\nKết quả chuyển đổi số\nTrong tháng 8/2025 xã tổ chức tập huấn."
        " Văn bản từ ngày 01/7/2025 đến nay. Tổng hợp (tính từ ngày 01/7/2025 đến ngày 20/9/2025) như sau."
    )
    assert find_period(text) == Period(D(2025, 7, 1), D(2025, 9, 20))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "BÁO CÁO\nTổng kết công tác chuyển đổi số năm 2025\nTrong tháng 3/2025 xã tập huấn.",
            Period(D(2025, 1, 1), D(2025, 12, 31)),
        ),
        (
            "BÁO CÁO\nKết quả cải cách hành chính tháng 10 năm 2025\nNội dung.",
            Period(D(2025, 10, 1), D(2025, 10, 31)),
        ),
        (
            "BÁO CÁO\nKết quả cải cách hành chính quý III năm 2025\nNội dung.",
            Period(D(2025, 7, 1), D(2025, 9, 30)),
        ),
        ("BÁO CÁO\nSơ kết 6 tháng đầu năm 2025\nNội dung.", Period(D(2025, 1, 1), D(2025, 6, 30))),
        # the year of a referenced document in the intro is not the report's year
        ("BÁO CÁO\nKết quả chuyển đổi số\nThực hiện Kế hoạch chuyển đổi số năm 2025 của tỉnh.", Period()),
    ],
)
def test_annual_report_title(text: str, expected: Period) -> None:
    assert find_period(text) == expected


def test_range_to_now_ends_at_issue_date() -> None:
    p = find_period("Các văn bản ban hành từ ngày 01/7/2025 đến nay.", issued_on=D(2025, 10, 2))
    assert (p.start, p.end) == (D(2025, 7, 1), D(2025, 10, 2))


def test_month_without_year_takes_issue_year() -> None:
    p = find_period("Trong tháng 3 xã tiếp nhận 20 hồ sơ.", issued_on=D(2026, 4, 2))
    assert (p.start, p.end) == (D(2026, 3, 1), D(2026, 3, 31))


@pytest.mark.parametrize(
    ("text", "place", "issued"),
    [
        (
            "ỦY BAN NHÂN DÂN\nXÃ AN BÌNH\nSố: 12/BC-UBND\nAn Bình, ngày 05 tháng 8 năm 2025\nBÁO CÁO",
            "An Bình",
            D(2025, 8, 5),
        ),
        ("Số: /BC-UBND Tân Lập, ngày  tháng 10 năm 2025", "Tân Lập", None),  # day left blank
        ("Không có dòng địa danh, ngày tháng.", None, None),
        ("Số: 7/BC-UBND\nA Lưới 5, ngày 25 tháng 11 năm 2025", "A Lưới 5", D(2025, 11, 25)),
        ("Cư M’ta, ngày 06 tháng 10 năm 2025", "Cư M’ta", D(2025, 10, 6)),
        ("XÃ AN BÌNH, ngày 31 tháng 02 năm 2025", "XÃ AN BÌNH", None),  # no such day
    ],
)
def test_place_date_line(text: str, place: str | None, issued: date | None) -> None:
    pd = find_place_date(text)
    assert (pd.place if pd else None) == place
    assert (pd.issued_on if pd else None) == issued


# ---------------------------------------------------------------- document type


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("ỦY BAN NHÂN DÂN\nXÃ AN BÌNH\nBÁO CÁO\nKết quả thực hiện Kế hoạch số 02-KH/BCĐTW", "report"),
        ("KẾ HOẠCH\nTriển khai chuyển đổi số năm 2026", "plan"),
        ("BÁO CÁO KẾT QUẢ CẢI CÁCH HÀNH CHÍNH\nThực hiện Kế hoạch số 12/KH-UBND ...", "report"),
        # the report mentions plans, in sentence case: still a report
        ("BÁO CÁO\nThực hiện Kế hoạch số 12/KH-UBND, UBND xã ban hành Kế hoạch triển khai.", "report"),
        ("Số: 15/KH-UBND\nTriển khai chuyển đổi số năm 2026", "plan"),
        ("Số: 15/BC-UBND\nKết quả tháng 8", "report"),
        ("QUYẾT ĐỊNH\nVề việc thành lập Ban Chỉ đạo", "other"),
        # a reference to another plan's number is not this document's number
        ("Thực hiện Kế hoạch số 15/KH-UBND của tỉnh, xã đã triển khai.", "other"),
    ],
)
def test_doc_type(text: str, kind: str) -> None:
    assert detect_doc_type(text) == kind


# ---------------------------------------------------------------- commune


def test_commune_from_upper_case_header_across_lines() -> None:
    text = "ỦY BAN NHÂN DÂN\nXÃ HƯỚNG PHÙNG\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nBÁO CÁO\nNội dung."
    name, commune, _ = detect_commune(text)
    assert name == "Hướng Phùng" and commune is not None and commune.ward_code == 19441


def test_issuer_preferred_over_other_communes_mentioned() -> None:
    text = (
        "BÁO CÁO\nKết quả chuyển đổi số\nỦy ban nhân dân xã Hướng Phùng báo cáo như sau: xã đã học tập "
        "kinh nghiệm của xã Minh Long và xã Minh Long, xã Vạn Tường."
    )
    name, commune, _ = detect_commune(text)
    assert name == "Hướng Phùng" and commune is not None and commune.province == "Quảng Trị"


@pytest.mark.parametrize(
    "intro",
    [
        "Ủy ban nhân dân xã Hướng Phùng, tỉnh Quảng Trị báo cáo như sau:",
        "UBND xã Hướng Phùng (tỉnh Quảng Trị) báo cáo như sau:",
        "Ủy ban nhân dân xã Hướng Phùng thuộc tỉnh Quảng Trị kính báo cáo như sau:",
    ],
)
def test_issuer_verb_after_a_province_phrase(intro: str) -> None:
    # the other commune is mentioned more often, but only in passing
    text = f"BÁO CÁO\nKết quả chuyển đổi số\n{intro} học tập xã Minh Long, xã Minh Long, xã Minh Long."
    assert detect_commune(text)[0] == "Hướng Phùng"


def test_duplicate_commune_unresolved_without_context() -> None:
    meta = extract_meta(_doc("BÁO CÁO\nKết quả\nUBND xã Chí Minh báo cáo kết quả như sau: đạt 10 hồ sơ."))
    assert meta.commune == "Chí Minh"
    assert meta.ward_code is None and meta.province is None


def test_duplicate_commune_resolved_by_named_province() -> None:
    meta = extract_meta(
        _doc(
            "BÁO CÁO\nKết quả\nUBND xã Chí Minh báo cáo: phần mềm một cửa của tỉnh Hưng Yên vận hành ổn định."
        )
    )
    assert (meta.commune, meta.province, meta.ward_code) == ("Chí Minh", "Hưng Yên", 12271)


@pytest.mark.parametrize(
    ("text", "official", "province"),
    [
        # the clerk's tone placement differs from the list's: the list's spelling is reported
        ("BÁO CÁO\nKết quả\nUBND phường Hòa Bình, thành phố Hải Phòng báo cáo như sau:", "Hoà Bình",
         "Thành phố Hải Phòng"),
        ("BÁO CÁO\nKết quả\nUBND xã Sơn Thuỷ, tỉnh Thanh Hóa báo cáo như sau:", "Sơn Thủy", "Thanh Hóa"),
    ],
)
def test_resolved_commune_takes_the_official_spelling(text: str, official: str, province: str) -> None:
    meta = extract_meta(_doc(text))
    assert (meta.commune, meta.province) == (official, province)


def test_official_spelling_is_the_resolved_communes_own() -> None:
    # near miss: the same name in another province is listed with the old tone placement -- the
    # spelling follows the commune resolved, not one fixed style
    meta = extract_meta(_doc("BÁO CÁO\nKết quả\nUBND xã Sơn Thủy, tỉnh Tuyên Quang báo cáo như sau:"))
    assert (meta.commune, meta.province) == ("Sơn Thuỷ", "Tuyên Quang")


def test_commune_name_broken_across_lines() -> None:
    name, commune, _ = detect_commune("BÁO CÁO\nỦy ban nhân dân xã Hướng\nPhùng báo cáo như sau:")
    assert name == "Hướng Phùng" and commune is not None


def test_place_date_line_names_the_commune() -> None:
    name, commune, _ = detect_commune("Số: 3/BC-UBND\n", issued_place=("Hướng Phùng", 0))
    assert name == "Hướng Phùng" and commune is not None


def test_commune_missing_from_the_list_keeps_its_name_unresolved() -> None:
    text = "UBND XÃ NÚI XANH THẲM\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nBÁO CÁO\nUBND xã báo cáo như sau."
    meta = extract_meta(_doc(text))
    assert (meta.commune, meta.ward_code, meta.province) == ("Núi Xanh Thẳm", None, None)


def test_place_date_line_with_division_word() -> None:
    name, commune, _ = detect_commune("Nội dung.", issued_place=("Xã Hướng Phùng", 0))
    assert name == "Hướng Phùng" and commune is not None


def test_no_commune() -> None:
    assert detect_commune("BÁO CÁO\nCông tác chuyển đổi số của cơ quan.")[0] is None


# ---------------------------------------------------------------- signer


@pytest.mark.parametrize(
    ("tail", "signer"),
    [
        ("Nơi nhận:\n- Như trên;\n- Lưu: VT.\nTM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH\nNguyễn Văn An", "Nguyễn Văn An"),
        (
            "Nơi nhận:\n- Lưu: VT.\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\n(Đã ký)\nLò Thị Hồng Nhung",
            "Lò Thị Hồng Nhung",
        ),
        ("TM. ỦY BAN NHÂN DÂN CHỦ TỊCH Trần Quang Huy\nNơi nhận:\n- Lưu: VT.", "Trần Quang Huy"),
        ("TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH\nHOÀNG ĐỨC THẮNG", "Hoàng Đức Thắng"),
        ("TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH\nĐặng Hữu Lực 2025-10-07T14:16:47+0700", "Đặng Hữu Lực"),
        ("Nơi nhận:\n- Như trên;\n- Lưu: VT.\nTM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH", None),  # not signed yet
        ("Trên đây là báo cáo của xã./.", None),
        # two columns flattened: titles beside the "Nơi nhận" list, name below
        ("Nơi nhận: KT. CHỦ TỊCH\n- Như trên; PHÓ CHỦ TỊCH\n- Lưu: VT.\nVõ Minh Trung", "Võ Minh Trung"),
        ("TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH\n- Như trên;\n- Lưu: VT.", None),
    ],
)
def test_signer(tail: str, signer: str | None) -> None:
    assert detect_signer("BÁO CÁO\nNội dung báo cáo.\n" + tail) == signer


# ---------------------------------------------------------------- seeds


def _gold_meta(gold_file: Path) -> dict[str, dict]:
    out = {}
    for line in gold_file.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line) if line.strip() else {}
        if "doc_meta" in rec:
            out[rec["doc_meta"]["doc"]] = rec["doc_meta"]
    return out


def test_seed_metadata_matches_gold(seed_paths: list[Path], gold_file: Path) -> None:
    from commune_metrics.readers import load_document

    gold = _gold_meta(gold_file)
    assert len(gold) == 5
    wrong = []
    for path in seed_paths:
        meta = extract_meta(load_document(path))
        g = gold[path.name]
        got = {
            "commune": meta.commune,
            "province": meta.province,
            "ward_code": meta.ward_code,
            "doc_type": meta.doc_type,
            "period_start": meta.period_start.isoformat() if meta.period_start else None,
            "period_end": meta.period_end.isoformat() if meta.period_end else None,
            "signer": meta.signer,
        }
        wrong += [(path.name, k, v, g[k]) for k, v in got.items() if v != g[k]]
    assert wrong == []


def test_extract_meta_is_fast(seed_paths: list[Path]) -> None:
    from commune_metrics.readers import load_document

    docs = [load_document(p) for p in seed_paths]
    longest = max(docs, key=lambda d: len(d.text))
    # about 7 pages of report text: the longest seed, padded with its own body
    text = longest.text
    while len(text) < 25_000:
        text = text[: len(text) // 2] + "\n" + longest.text
    big = Document(longest.source_name, longest.sha256, "txt", text, text, paginated=False)
    extract_meta(big)  # warm-up: gazetteer, rules, tagger
    timings = []
    for _ in range(5):
        t0 = time.perf_counter()
        extract_meta(big)
        timings.append(time.perf_counter() - t0)
    assert statistics.median(timings) < 0.1, timings
