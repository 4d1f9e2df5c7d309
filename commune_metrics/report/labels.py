"""Vietnamese labels for metric codes and report columns.

Metric labels come from the metric catalog (the warehouse's `metrics` table, filled from
rules/ on every open); a code without a label is shown as the code itself.
"""

from __future__ import annotations

import duckdb

KIND_LABELS = {"actual": "thực hiện", "target": "mục tiêu"}
QUALIFIER_LABELS = {
    "eq": "",
    "gt": "hơn",
    "gte": "ít nhất",
    "lt": "dưới",
    "lte": "tối đa",
    "approx": "khoảng",
}
UNIT_LABELS = {"count": "số lượng", "percent": "%", "vnd": "đồng"}
SCOPE_LABELS = {"commune": "của xã", "province": "của tỉnh"}  # whose target (view target_gaps)
# Whom a fact is about (facts.scope); comparisons use "self" (and undecided) only.
FACT_SCOPE_LABELS = {
    "self": "của chính xã/phường",
    "sub_unit": "của đơn vị cấp dưới (thôn, tổ, bộ phận)",
    "other_unit": "của đơn vị khác",
    "higher_level": "của cấp trên (huyện, tỉnh)",
    "earlier_period": "của kỳ trước",
    "unknown": "chưa rõ",
}
REVIEW_STATUS_LABELS = {
    "confirmed": "đã xác nhận",
    "corrected": "đã sửa",
    "rejected": "đã loại",
    "held": "chờ rà soát",
}
DOC_TYPE_LABELS = {"report": "báo cáo", "plan": "kế hoạch", "other": "khác"}
DOC_STATUS_LABELS = {"loaded": "đã nạp", "quarantined": "không đọc được"}
RATE_STATUS_LABELS = {"ok": "quy đổi được", "unknown_period": "không rõ kỳ báo cáo"}
BOOL_LABELS = {True: "có", False: "không"}

COLUMN_LABELS = {
    "fact_id": "Mã số liệu",
    "ward_code": "Mã xã/phường",
    "commune": "Xã/phường",
    "province": "Tỉnh/thành phố",
    "online_share": "Tỷ lệ hồ sơ trực tuyến (%)",
    "overdue_share": "Tỷ lệ hồ sơ giải quyết quá hạn (%)",
    "antivirus_coverage": "Tỷ lệ máy tính có phần mềm diệt virus (%)",
    "staff_trained_share": "Tỷ lệ cán bộ được tập huấn (%)",
    "dossiers_received": "Tổng hồ sơ tiếp nhận",
    "computers_total": "Số máy tính",
    "staff_present": "Số cán bộ hiện có",
    "documents": "Số văn bản",
    "latest_period_end": "Kỳ báo cáo mới nhất (đến ngày)",
    "source_file": "Tệp nguồn",
    "doc_type": "Loại văn bản",
    "metric": "Mã chỉ tiêu",
    "metric_label": "Chỉ tiêu",
    "kind": "Loại số liệu",
    "value": "Giá trị (sau hiệu chỉnh)",
    "original_value": "Giá trị trích xuất",
    "unit": "Đơn vị",
    "qualifier": "Điều kiện",
    "period_start": "Từ ngày",
    "period_end": "Đến ngày",
    "page": "Trang",
    "char_start": "Vị trí đầu",
    "char_end": "Vị trí cuối",
    "evidence": "Câu dẫn chứng",
    "extractor": "Quy tắc trích xuất",
    "confidence": "Độ tin cậy",
    "corrected": "Đã hiệu chỉnh",
    "rejected": "Bị loại",
    "correction_note": "Ghi chú hiệu chỉnh",
    "corrected_by": "Người hiệu chỉnh",
    "rule": "Quy tắc kiểm tra",
    "metrics": "Các chỉ tiêu liên quan",
    "expected": "Giá trị ghi trong văn bản",
    "actual": "Giá trị tính từ các thành phần",
    "difference": "Chênh lệch",
    "message": "Nội dung",
    "target_value": "Mục tiêu",
    "target_qualifier": "Điều kiện mục tiêu",
    "actual_value": "Thực hiện",
    "gap": "Chênh lệch (thực hiện - mục tiêu)",
    "met": "Đạt",
    "target_scope": "Mục tiêu của",
    "target_file": "Văn bản đặt mục tiêu",
    "target_evidence": "Câu nêu mục tiêu",
    "actual_file": "Văn bản báo cáo",
    "actual_evidence": "Câu nêu kết quả",
    "actual_period_end": "Kỳ báo cáo (đến ngày)",
    "period_days": "Số ngày của kỳ",
    "period_known": "Biết kỳ báo cáo",
    "per_30_days": "Quy đổi 30 ngày",
    "rate_status": "Trạng thái quy đổi",
    "doc_sha256": "Mã băm tệp (SHA-256)",
    "target_fact_id": "Mã số liệu mục tiêu",
    "actual_fact_id": "Mã số liệu thực hiện",
    "scope": "Số liệu của",
    "review_status": "Kết quả rà soát",
    "corrected_at": "Thời điểm hiệu chỉnh",
    "corrected_why": "Lý do hiệu chỉnh",
    "original_metric": "Mã chỉ tiêu trích xuất",
    "held_for_review": "Chờ rà soát",
    "online_share_derived": "Tỷ lệ trực tuyến tính từ số đếm",
    "overdue_share_derived": "Tỷ lệ quá hạn tính từ số đếm",
    "antivirus_coverage_derived": "Tỷ lệ diệt virus tính từ số đếm",
    "staff_trained_share_derived": "Tỷ lệ tập huấn tính từ số đếm",
    "online_share_period_end": "Kỳ của tỷ lệ trực tuyến (đến ngày)",
    "overdue_share_period_end": "Kỳ của tỷ lệ quá hạn (đến ngày)",
    "antivirus_coverage_period_end": "Kỳ của tỷ lệ diệt virus (đến ngày)",
    "staff_trained_share_period_end": "Kỳ của tỷ lệ tập huấn (đến ngày)",
    "reason": "Lý do",
    "code": "Mã lỗi",
    "attempts": "Số lần thử",
    "first_at": "Lần đầu",
    "at": "Lần gần nhất",
    "version": "Phiên bản",
    "loaded_at": "Thời điểm nạp",
    "superseded_at": "Thời điểm bị thay thế",
    "replaced_by": "Thay bằng tệp",
    "replaced_by_version": "Thay bằng phiên bản",
}


def column_label(column: str) -> str:
    return COLUMN_LABELS.get(column, column)


def metric_labels(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    labels: dict[str, str] = {}
    try:
        for code, label in con.execute("SELECT code, label_vi FROM metrics").fetchall():
            if label:
                labels[code] = label
    except duckdb.Error:
        pass
    if not labels:
        try:
            from commune_metrics.extract.rules import load_catalog

            labels = {m.code: m.label_vi for m in load_catalog() if m.label_vi}
        except ImportError:
            pass
    return labels
