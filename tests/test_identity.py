"""Document identity (issue 13): unit + type + period + number, else subject, else text;
versions by issue date then arrival; the same text under any name is unchanged."""

from __future__ import annotations

import os
import re
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from commune_metrics.core.model import DocMeta
from commune_metrics.core.similarity import (
    BODY_THRESHOLD,
    SUBJECT_THRESHOLD,
    body_similarity,
    subject_similarity,
    text_signature,
)
from commune_metrics.evaluate import Prediction, load_gold, score
from commune_metrics.extract.doc_identity import detect_doc_number, detect_subject
from commune_metrics.ingest.inbox import ingest


def _ingest(paths: list[Path], tmp_path: Path, **kw):
    return ingest(
        paths,
        warehouse=tmp_path / "w.duckdb",
        archive_root=tmp_path / "raw",
        settle_seconds=0,
        inbox=tmp_path / "inbox",
        **kw,
    )


def _q(tmp_path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# -- the number and the subject ------------------------------------------------------------


def test_number_is_the_documents_own_never_a_reference_nor_a_blank() -> None:
    head = "ỦY BAN NHÂN DÂN XÃ A CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nSố: 87 /BC-UBND\n" "A, ngày 5 tháng 8\n"
    assert detect_doc_number(head) == "87/BC-UBND"
    assert detect_doc_number("Số: 12/2025/QĐ-UBND\n") == "12/2025/QĐ-UBND"
    assert detect_doc_number("Số:      /BC-UBND\nBÁO CÁO\n") is None  # left blank for the clerk
    assert detect_doc_number("BÁO CÁO\nThực hiện Kế hoạch số 02-KH/BCĐTW và Công văn số 68/CV-UBND\n") is None


def test_subject_is_the_text_under_the_title_up_to_the_body() -> None:
    text = (
        "ỦY BAN NHÂN DÂN XÃ A\nSố: 5/BC-UBND\nBÁO CÁO\nKết quả chuyển đổi số tháng 7 năm 2025\n"
        "Kính gửi: Ủy ban nhân dân tỉnh\nThực hiện Kế hoạch số 9/KH-UBND, UBND xã báo cáo như sau:\n"
    )
    assert detect_subject(text) == "Kết quả chuyển đổi số tháng 7 năm 2025"
    glued = "BÁO CÁO\nCông tác cải cách hành chính tháng 11 năm 2025 Kính gửi: Sở Nội vụ\n1. Kết quả\n"
    assert detect_subject(glued) == "Công tác cải cách hành chính tháng 11 năm 2025"
    assert detect_subject("CÔNG VĂN\nV/v báo cáo số liệu dịch vụ công\n") == "báo cáo số liệu dịch vụ công"
    assert detect_subject("Một bài tin không có tiêu đề văn bản.\n") is None


def test_thresholds_separate_resends_from_other_reports_of_the_month() -> None:
    original = (
        "Kết quả giải quyết thủ tục hành chính và chuyển đổi số tháng 7 năm 2025 trên địa bàn xã Tân Thành"
    )
    resends = [
        original.replace("thủ tục", "thủ tuc"),  # typo fixed (here: made) in one word
        original + " (bổ sung)",
        original.replace(" trên địa bàn xã Tân Thành", ""),
        original.upper(),
    ]
    others = [
        "Tình hình triển khai Nghị quyết số 57-NQ/TW và vận hành hệ thống thông tin tháng 7 năm 2025",
        "Sơ kết công tác phòng, chống thiên tai tháng 7 năm 2025 trên địa bàn xã Tân Thành",
    ]
    assert all(subject_similarity(original, r) >= SUBJECT_THRESHOLD for r in resends)
    assert all(subject_similarity(original, o) < SUBJECT_THRESHOLD for o in others)
    body = " ".join(
        f"Trong tuần {i}, bộ phận một cửa tiếp nhận {100 + i} hồ sơ, giải quyết {90 + i}." for i in range(60)
    )
    corrected = body.replace("tiếp nhận 130 hồ sơ", "tiếp nhận 131 hồ sơ")
    other = " ".join(
        f"Xã tổ chức {i} lớp tập huấn cho {20 + i} cán bộ về an toàn thông tin mạng." for i in range(60)
    )
    assert body_similarity(text_signature(body), text_signature(corrected)) >= BODY_THRESHOLD
    assert body_similarity(text_signature(body), text_signature(other)) < BODY_THRESHOLD


# -- the seeds -------------------------------------------------------------------------------


def test_five_seeds_are_five_current_documents_and_score_as_extracted(
    tmp_path: Path, seed_paths: list[Path], gold_file: Path
) -> None:
    summary = _ingest([seed_paths[0].parent], tmp_path)
    assert summary.counts["loaded"] == 5
    rows = _q(tmp_path, "SELECT source_file, replaces FROM documents WHERE status = 'loaded' ORDER BY 1")
    assert [r[0] for r in rows] == [p.name for p in seed_paths] and all(r[1] is None for r in rows)
    # 000 and 004: two different reports of one commune and month, both current with all facts
    per_doc = dict(_q(tmp_path, "SELECT source_file, count(*) FROM facts GROUP BY 1"))
    assert per_doc[seed_paths[0].name] >= 10 and per_doc[seed_paths[4].name] >= 10
    assert {p.name for p in seed_paths} == {p.name for p in seed_paths[0].parent.iterdir()}  # read in place

    # the warehouse views score like the extraction did (eval never saw the warehouse)
    gold = load_gold(gold_file)
    preds: dict[str, list[Prediction]] = {}
    for doc, metric, kind, value, evidence, extractor in _q(
        tmp_path, "SELECT source_file, metric, kind, value, evidence, extractor FROM facts"
    ):
        preds.setdefault(doc, []).append(Prediction(doc, metric, kind, value, evidence, extractor))
    metas = {
        r[0]: {
            "doc_type": r[1],
            "commune": r[2],
            "province": r[3],
            "ward_code": r[4],
            "period_start": r[5],
            "period_end": r[6],
            "signer": r[7],
        }
        for r in _q(
            tmp_path,
            "SELECT source_file, doc_type, commune, province, ward_code, period_start,"
            " period_end, signer FROM documents",
        )
    }
    report = score(
        gold,
        preds,
        {k: {f: (str(v) if isinstance(v, date) else v) for f, v in m.items()} for k, m in metas.items()},
    )
    assert report["overall"]["f1"] >= 0.97, report["misses"][:5]
    assert all(m["accuracy"] == 1.0 for m in report["metadata"].values()), report["metadata"]


def test_a_corrected_resend_of_seed_002_replaces_it_with_history(
    tmp_path: Path, seed_paths: list[Path]
) -> None:
    original = seed_paths[2]
    _ingest([original], tmp_path)
    text = original.read_text(encoding="utf-8")
    # one figure of the body changed (the second half: well past the subject)
    figure = next(m for m in re.finditer(r"\b\d{2,4}\b", text)
                  if m.start() > len(text) // 2 and text[m.end():m.end() + 1] not in "/-")
    fixed = text[: figure.start()] + str(int(figure.group()) + 1) + text[figure.end() :]
    box = tmp_path / "inbox"
    box.mkdir()
    (box / "bao_cao_da_sua.txt").write_text(fixed, encoding="utf-8")
    summary = _ingest([box], tmp_path)
    [outcome] = summary.outcomes
    assert (outcome.outcome, outcome.version, outcome.replaced_file) == ("loaded", 2, original.name)
    assert outcome.why.startswith("same subject")
    from commune_metrics.cli import format_outcome

    assert f"v2, replaces {original.name}: same subject" in format_outcome(outcome)
    assert _q(tmp_path, "SELECT source_file, replaces, version FROM documents WHERE status='loaded'") == [
        ("bao_cao_da_sua.txt", original.name, 2)
    ]
    assert _q(tmp_path, "SELECT count(*), count(*) FILTER (WHERE is_current) FROM document_history") == [
        (2, 1)
    ]


def test_the_same_plan_under_five_names_is_one_document(tmp_path: Path, seed_paths: list[Path]) -> None:
    plan = seed_paths[1].read_bytes()
    box = tmp_path / "inbox"
    box.mkdir()
    (box / "ke_hoach.txt").write_bytes(plan)
    (box / "ke hoach (1).txt").write_bytes(plan)  # same bytes
    (box / "KH_CDS_final.txt").write_bytes(plan.replace(b"\n", b"\r\n"))  # other bytes, same text
    (box / "kh-ban-chuan.txt").write_bytes(b"\xef\xbb\xbf" + plan)  # with a BOM
    (box / "z_kh_sua.txt").write_bytes(plan + "\nNơi nhận: lưu.\n".encode())  # a line added: a new version
    summary = _ingest([box], tmp_path)
    assert sorted(o.outcome for o in summary.outcomes) == [
        "loaded",
        "loaded",
        "unchanged",
        "unchanged",
        "unchanged",
    ]
    assert _q(tmp_path, "SELECT count(*) FROM documents WHERE status = 'loaded'") == [(1,)]
    assert any((o.reason or "").startswith("same text as") for o in summary.outcomes)


def _report(number: str | None, issued: str, subject: str, received: int) -> str:
    head = "ỦY BAN NHÂN DÂN\nXÃ TÂN THÀNH\n" + (f"Số: {number}\n" if number else "")
    return (
        f"{head}Tân Thành, {issued} năm 2025\nBÁO CÁO\n{subject}\n"
        f"Thực hiện chỉ đạo của tỉnh, UBND xã Tân Thành báo cáo như sau:\n"
        f"Trong tháng 7 năm 2025, Bộ phận Một cửa tiếp nhận {received} hồ sơ, trong đó 84 hồ sơ trực tuyến.\n"
    )


SUBJECT = "Kết quả giải quyết thủ tục hành chính tháng 7 năm 2025"


def test_original_and_correction_dropped_together_are_ordered_by_issue_date_not_name(tmp_path: Path) -> None:
    box = tmp_path / "inbox"
    box.mkdir()
    # the correction's name sorts first; its issue date is later
    (box / "a_ban_sua.txt").write_text(
        _report("87/BC-UBND", "ngày 20 tháng 8", SUBJECT, 125), encoding="utf-8"
    )
    (box / "b_ban_goc.txt").write_text(
        _report("87/BC-UBND", "ngày 05 tháng 8", SUBJECT, 120), encoding="utf-8"
    )
    summary = _ingest([box], tmp_path)
    by = {o.source_file: o for o in summary.outcomes}
    assert by["b_ban_goc.txt"].current is False and by["b_ban_goc.txt"].replaced_file == "a_ban_sua.txt"
    assert by["b_ban_goc.txt"].why == "same số 87/BC-UBND"
    assert _q(tmp_path, "SELECT source_file, version, replaces FROM documents WHERE status='loaded'") == [
        ("a_ban_sua.txt", 2, "b_ban_goc.txt")
    ]
    assert _q(tmp_path, "SELECT value FROM facts WHERE metric = 'dossiers.received'") == [(125.0,)]


def test_without_issue_dates_the_later_arrival_wins_whatever_the_names(tmp_path: Path) -> None:
    box = tmp_path / "inbox"
    box.mkdir()
    first = box / "z_goc.txt"
    second = box / "a_sua.txt"
    first.write_text(_report(None, "ngày   tháng 8", SUBJECT, 120), encoding="utf-8")  # date left blank
    second.write_text(_report(None, "ngày   tháng 8", SUBJECT + " (bổ sung)", 125), encoding="utf-8")
    now = time.time()
    os.utime(first, (now - 3600, now - 3600))
    os.utime(second, (now - 60, now - 60))
    _ingest([box], tmp_path)
    assert _q(tmp_path, "SELECT source_file, replaces FROM documents WHERE status='loaded'") == [
        ("a_sua.txt", "z_goc.txt")
    ]


def test_a_number_decides_before_the_subject(tmp_path: Path) -> None:
    box = tmp_path / "inbox"
    box.mkdir()
    (box / "bc1.txt").write_text(_report("87/BC-UBND", "ngày 05 tháng 8", SUBJECT, 120), encoding="utf-8")
    # same subject, another number: another report of the month
    (box / "bc2.txt").write_text(_report("88/BC-UBND", "ngày 06 tháng 8", SUBJECT, 7), encoding="utf-8")
    # same number, subject re-typed entirely: the same document
    (box / "bc3.txt").write_text(
        _report("87/BC-UBND", "ngày 09 tháng 8", "Báo cáo bổ sung số liệu hồ sơ", 121), encoding="utf-8"
    )
    _ingest([box], tmp_path)
    assert sorted(
        _q(tmp_path, "SELECT source_file, doc_number, replaces FROM documents WHERE status='loaded'")
    ) == [("bc2.txt", "88/BC-UBND", None), ("bc3.txt", "87/BC-UBND", "bc1.txt")]


def test_meta_without_number_subject_or_text_falls_back_to_the_slot() -> None:
    from commune_metrics.warehouse.identity import Version, match_version

    v = Version(1, "k", "a.txt", "2025-07-01..2025-07-31", None, None, None, None, 1, None)
    meta = DocMeta(
        doc_type="report", ward_code=1, period_start=date(2025, 7, 1), period_end=date(2025, 7, 31)
    )
    assert match_version(meta, None, [v]).why == "same unit, type and period"
    other_period = DocMeta(
        doc_type="report", ward_code=1, period_start=date(2025, 8, 1), period_end=date(2025, 8, 31)
    )
    assert match_version(other_period, None, [v]) is None


@pytest.mark.parametrize("name", ["bc.txt"])
def test_identity_columns_are_in_the_documents_view(tmp_path: Path, name: str) -> None:
    box = tmp_path / "inbox"
    box.mkdir()
    (box / name).write_text(_report("87/BC-UBND", "ngày 05 tháng 8", SUBJECT, 120), encoding="utf-8")
    _ingest([box], tmp_path)
    assert _q(tmp_path, "SELECT doc_number, subject, encoding_fixed, replaces FROM documents") == [
        ("87/BC-UBND", SUBJECT, None, None)
    ]
