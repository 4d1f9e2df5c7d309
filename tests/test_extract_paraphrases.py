"""Language phenomena the fact extractor must handle however a clerk words them.

Every case is our own wording (never copied from a seed or a generated phrase set): two or
three paraphrases that must give the fact, and a near miss that must NOT give it. Each group
names the phenomenon it pins down, so a failure says which piece of grammar broke.
"""

from __future__ import annotations

import pytest

from commune_metrics.core.document import Document
from commune_metrics.extract.extractor import extract_facts
from commune_metrics.readers.normalize import normalize_text


def _facts(text: str, doc_type: str = "report") -> set[tuple[str, str, float]]:
    text = normalize_text(text)
    doc = Document("t.txt", "0", "txt", text, text, paginated=False)
    return {(f.metric, f.kind, round(f.value, 2)) for f in extract_facts(doc, doc_type)}


def _has(text: str, metric: str, value: float, kind: str = "actual", doc_type: str = "report") -> bool:
    return (metric, kind, round(value, 2)) in _facts(text, doc_type)


def _metric_values(text: str, metric: str, doc_type: str = "report") -> set[float]:
    return {v for m, _k, v in _facts(text, doc_type) if m == metric}


# --- a ratio whose label is itself a ratio ("đạt/tổng số"), ending the sentence --------------
RATIO_LABEL = [
    "Số tiêu chí chuyển đổi số đạt/tổng số tiêu chí: 9/13.",
    "Tiêu chí đã đạt trên tổng số tiêu chí của bộ chỉ số là 9/13.",
    "Kết quả tự đánh giá: xã đạt 9/13 tiêu chí.",
]


@pytest.mark.parametrize("text", RATIO_LABEL)
def test_ratio_label_part_is_met_whole_is_total(text: str) -> None:
    assert _has(text, "criteria.met", 9)
    assert _has(text, "criteria.total", 13)
    assert not _has(text, "criteria.total", 9)


def test_ratio_followed_by_a_date_is_not_a_ratio() -> None:
    assert not _metric_values("Xã đạt tiêu chí trước ngày 10/12/2025.", "criteria.met")


# --- each comma clause owns its number: a noun list does not run into the next clause --------
STAFF_CLAUSES = [
    "Biên chế được giao năm 2025 là 58 người, có mặt 51 người, lao động hợp đồng 7 người.",
    "Số biên chế giao 58 người, hiện có mặt 51 người, hợp đồng lao động 7 người.",
    "Được giao 58 biên chế; có mặt 51 người, người lao động hợp đồng 07 người.",
]


@pytest.mark.parametrize("text", STAFF_CLAUSES)
def test_comma_clause_owns_its_value(text: str) -> None:
    facts = _facts(text)
    assert ("staff.quota", "actual", 58) in facts
    assert ("staff.present", "actual", 51) in facts
    assert ("staff.contract", "actual", 7) in facts
    assert ("staff.contract", "actual", 51) not in facts
    assert ("staff.quota", "actual", 7) not in facts


def test_coordinated_nouns_still_join() -> None:
    # "cán bộ, công chức" is one noun list: the value keeps its clause after the list
    assert _has("Có 12 cán bộ, công chức được tập huấn kỹ năng số.", "staff.trained", 12)


# --- negation: "không muộn hơn hạn" is on time, the cue after a negator does not count --------
NEGATED_LATENESS = [
    "Xét về thời hạn, 1.240 hồ sơ được trả không muộn hơn ngày hẹn, chỉ 6 hồ sơ bị chậm.",
    "Có 1.240 hồ sơ hoàn thành không chậm so với thời hạn quy định, 06 hồ sơ trễ hẹn.",
    "Trong kỳ, 1240 hồ sơ giải quyết không bị trễ hạn; 6 hồ sơ giải quyết muộn.",
]


@pytest.mark.parametrize("text", NEGATED_LATENESS)
def test_negated_lateness_is_in_time(text: str) -> None:
    facts = _facts(text)
    assert ("dossiers.resolved_in_time", "actual", 1240) in facts
    assert ("dossiers.resolved_overdue", "actual", 6) in facts
    assert ("dossiers.resolved_overdue", "actual", 1240) not in facts


def test_lateness_without_negation_stays_overdue() -> None:
    text = "Có 14 hồ sơ hoàn thành muộn hơn ngày hẹn trả."
    assert _has(text, "dossiers.resolved_overdue", 14)
    assert not _metric_values(text, "dossiers.resolved_in_time")


@pytest.mark.parametrize("text", [
    "Kết quả: hoàn thành 930 hồ sơ; đang xử lý 41 hồ sơ.",
    "Đã hoàn thành giải quyết 930 hồ sơ, còn 41 hồ sơ đang giải quyết.",
])
def test_completed_dossiers_are_resolved(text: str) -> None:
    assert _has(text, "dossiers.resolved", 930)
    assert _has(text, "dossiers.in_progress", 41)


def test_not_completed_is_not_resolved() -> None:
    text = "Còn 41 hồ sơ chưa hoàn thành."
    assert not _metric_values(text, "dossiers.resolved")
    assert _has(text, "dossiers.in_progress", 41)


# --- ratio wholes of staff: trained / in post, in post / assigned quota ------------------------
@pytest.mark.parametrize("text", [
    "Lớp tập huấn kỹ năng số thu hút 33/41 cán bộ, công chức tham gia.",
    "Đến nay 33 trên tổng số 41 cán bộ, công chức đã được bồi dưỡng kỹ năng số.",
    "Số công chức được đào tạo về chuyển đổi số/tổng số công chức: 33/41.",
])
def test_trained_ratio_whole_is_staff_in_post(text: str) -> None:
    assert _has(text, "staff.trained", 33)
    assert _has(text, "staff.present", 41)


@pytest.mark.parametrize("text", [
    "Đội ngũ hiện có 47/53 cán bộ, công chức so với biên chế được giao.",
    "Số cán bộ, công chức có mặt so với biên chế giao: 47/53 người.",
    "Thực có 47 trên tổng số 53 biên chế được giao.",
])
def test_present_ratio_whole_is_quota(text: str) -> None:
    assert _has(text, "staff.present", 47)
    assert _has(text, "staff.quota", 53)
    assert not _has(text, "staff.quota", 47)


def test_plain_trained_count_has_no_whole() -> None:
    assert _metric_values("Có 33 cán bộ, công chức được tập huấn kỹ năng số.", "staff.present") == set()


# --- "tổng cộng" before "N <noun> <predicate>" quantifies; the predicate names the metric ------
@pytest.mark.parametrize("text", [
    "Tổng cộng 812 hồ sơ được giải quyết trước và đúng thời hạn.",
    "Tổng cộng có 812 hồ sơ giải quyết đúng hạn và trước hạn, đạt 97,5%.",
    "Cả kỳ, tổng cộng 812 hồ sơ được trả kết quả đúng hoặc trước hạn.",
])
def test_total_word_does_not_label_a_described_value(text: str) -> None:
    assert _has(text, "dossiers.resolved_in_time", 812)
    assert not _metric_values(text, "dossiers.received")


def test_total_word_with_receiving_predicate_is_received() -> None:
    text = "Tổng cộng 905 hồ sơ đã được tiếp nhận trong kỳ."
    assert _has(text, "dossiers.received", 905)
    assert not _metric_values(text, "dossiers.resolved_in_time")


# --- a context governs the cue next to it, not one in a later clause ------------------------
@pytest.mark.parametrize("text", [
    "Có 09 hồ sơ đang giải quyết đã quá hạn, UBND xã đã gửi thư xin lỗi và hẹn lại ngày trả kết quả.",
    "09 hồ sơ đang xử lý bị quá hạn, bộ phận một cửa đã liên hệ công dân để trả kết quả sớm nhất.",
    "Hiện còn 09 hồ sơ đang giải quyết quá hạn; xã đã hẹn lại thời gian trả kết quả.",
])
def test_nearest_context_decides(text: str) -> None:
    assert _has(text, "dossiers.in_progress_overdue", 9)
    assert not _metric_values(text, "dossiers.resolved_overdue")


def test_resolved_late_stays_resolved_overdue() -> None:
    text = "Có 09 hồ sơ đã giải quyết quá hạn, UBND xã đã gửi thư xin lỗi công dân."
    assert _has(text, "dossiers.resolved_overdue", 9)
    assert not _metric_values(text, "dossiers.in_progress_overdue")


# --- "còn/vẫn trong hạn", "tiếp tục giải quyết": still running, so in progress ----------------
@pytest.mark.parametrize("text", [
    "Số hồ sơ chuyển kỳ sau tiếp tục giải quyết là 130 hồ sơ: 118 hồ sơ còn trong thời hạn, "
    "12 hồ sơ đã quá hạn.",
    "Về hồ sơ đang giải quyết, 118 hồ sơ vẫn còn trong hạn, 12 hồ sơ quá hạn.",
    "Có 130 hồ sơ tiếp tục xử lý sang kỳ sau (118 hồ sơ vẫn nằm trong thời hạn cho phép; 12 hồ sơ trễ hạn).",
])
def test_still_within_deadline_is_in_progress(text: str) -> None:
    facts = _facts(text)
    assert ("dossiers.in_progress_on_time", "actual", 118) in facts
    assert ("dossiers.in_progress_overdue", "actual", 12) in facts
    assert ("dossiers.resolved_in_time", "actual", 118) not in facts
    assert ("dossiers.resolved_overdue", "actual", 12) not in facts


def test_resolved_within_deadline_stays_resolved_in_time() -> None:
    text = "Trong kỳ đã giải quyết 740 hồ sơ trong thời hạn quy định."
    assert _has(text, "dossiers.resolved_in_time", 740)
    assert not _metric_values(text, "dossiers.in_progress_on_time")


# --- the label's head names the metric; a cue inside "giữa ... với ..." only modifies it ---------
@pytest.mark.parametrize("text", [
    "Mức độ liên thông giữa các phần mềm của phường với nền tảng dùng chung của tỉnh đạt 97%.",
    "Về chia sẻ dữ liệu, tỷ lệ kết nối giữa hệ thống của xã với các phần mềm dùng chung cấp tỉnh là 97%.",
    "Kết nối, liên thông 97% hệ thống thông tin của xã với nền tảng dùng chung của tỉnh.",
])
def test_head_noun_not_modifier_names_the_metric(text: str) -> None:
    assert _has(text, "network.interconnection_pct", 97)
    assert not _metric_values(text, "computers.shared_software_pct")


@pytest.mark.parametrize("text", [
    "Tỷ lệ máy tính được cài đặt các phần mềm dùng chung của tỉnh đạt 97%.",
    "97% máy tính của cán bộ đã cài đặt phần mềm dùng chung.",
])
def test_shared_software_as_head_stays_shared_software(text: str) -> None:
    assert _has(text, "computers.shared_software_pct", 97)
    assert not _metric_values(text, "network.interconnection_pct")


def test_count_of_software_is_not_a_metric() -> None:
    assert _facts("Xã đang vận hành 05 phần mềm dùng chung và 02 hệ thống thông tin.") == set()


# --- "N% <noun> <restriction> được <predicate>": the predicate names the metric --------------------
@pytest.mark.parametrize("text", [
    "Bảo đảm 95% máy tính nối mạng được cài đặt phần mềm phòng, chống mã độc.",
    "Có 95% máy tính có kết nối Internet tốc độ cao đã được cài phần mềm diệt virus có bản quyền.",
    "Phấn đấu 95 % máy tính kết nối mạng nội bộ đều được trang bị giải pháp chống mã độc tập trung.",
])
def test_predicate_not_restriction_names_the_metric(text: str) -> None:
    assert _metric_values(text, "computers.antivirus_pct") == {95}
    assert not _metric_values(text, "computers.high_speed_internet_pct")


def test_restriction_alone_still_names_the_metric() -> None:
    text = "Có 95% máy tính được kết nối Internet tốc độ cao."
    assert _has(text, "computers.high_speed_internet_pct", 95)
    assert not _metric_values(text, "computers.antivirus_pct")


# --- measure and collective words before the noun ("đội ngũ", "khối lượng", "số lượng") -------
@pytest.mark.parametrize("text", [
    "Công tác tập huấn kỹ năng số đã phủ 88% đội ngũ cán bộ, công chức của xã.",
    "Việc bồi dưỡng kỹ năng số được triển khai cho 88 % toàn thể đội ngũ công chức.",
    "Đào tạo chuyển đổi số đã bao phủ 88% lực lượng cán bộ, công chức đang công tác.",
])
def test_collective_noun_keeps_person_class(text: str) -> None:
    assert _has(text, "staff.trained_pct", 88)


@pytest.mark.parametrize("text", [
    "- Tổng số thôn, tổ dân phố trên địa bàn hiện nay là 21.",
    "+ Số thôn, khu phố của xã hiện tại là 21.",
])
def test_label_noun_after_a_bullet_decides_the_class(text: str) -> None:
    assert _has(text, "community.villages_total", 21)
    assert not _metric_values(text, "staff.present")


def test_bulleted_staff_label_stays_staff() -> None:
    assert _has("- Số cán bộ, công chức hiện có là 21.", "staff.present", 21)


# --- a cue may reach across the value's own noun ("90% kết quả ... bản điện tử") --------------
@pytest.mark.parametrize("text", [
    "Bảo đảm 92% kết quả giải quyết TTHC được cấp dưới dạng bản điện tử.",
    "Có 92 % kết quả giải quyết thủ tục hành chính được trả dưới dạng điện tử cho người dân.",
    "Phấn đấu trên 92% kết quả xử lý hồ sơ được trả qua hình thức điện tử.",
])
def test_result_noun_with_electronic_predicate(text: str) -> None:
    assert _metric_values(text, "results.electronic_pct") == {92}


@pytest.mark.parametrize("text", [
    "Phấn đấu 92% văn bản đi, đến (trừ văn bản mật) được ký số, phát hành điện tử.",
    "Bảo đảm 92% văn bản đi và đến của xã được gửi nhận dưới dạng điện tử.",
])
def test_outgoing_documents_noun_with_electronic_predicate(text: str) -> None:
    assert _metric_values(text, "documents.electronic_pct") == {92}


def test_noun_alone_names_no_metric() -> None:
    # "kết quả" by itself, with a predicate about digitising, is not an electronic-results share
    assert not _metric_values("Có 92% kết quả giải quyết TTHC được số hóa.", "results.electronic_pct")


# --- "(bổ sung) có mục tiêu" is an earmarked transfer, not a target ----------------------------
@pytest.mark.parametrize("text", [
    "UBND tỉnh đã cấp bổ sung có mục tiêu cho xã 450 triệu đồng để thực hiện chuyển đổi số.",
    "Xã được hỗ trợ kinh phí có mục tiêu từ ngân sách tỉnh là 450.000.000 đồng.",
])
def test_earmarked_money_is_actual(text: str) -> None:
    assert _has(text, "budget.allocated_vnd", 450_000_000, kind="actual")


def test_a_real_target_is_still_a_target() -> None:
    text = "Mục tiêu năm 2026: 98% hồ sơ được giải quyết đúng hạn và trước hạn."
    assert _has(text, "dossiers.resolved_in_time_pct", 98, kind="target")


# --- a comma between two nouns lists them; it does not end the value's clause -----------------
@pytest.mark.parametrize("text", [
    "640 hồ sơ được tổ chức, công dân gửi qua Cổng dịch vụ công, còn 85 hồ sơ nộp trực tiếp tại quầy.",
    "Có 640 hồ sơ do cá nhân, tổ chức nộp qua môi trường mạng, 85 hồ sơ nộp qua bưu chính công ích.",
])
def test_noun_list_comma_keeps_the_clause(text: str) -> None:
    facts = _facts(text)
    assert ("dossiers.received_online", "actual", 640) in facts
    assert ("dossiers.received_offline", "actual", 85) in facts


def test_clause_comma_still_splits() -> None:
    text = "Tiếp nhận 640 hồ sơ, trực tuyến 85 hồ sơ."
    assert _has(text, "dossiers.received", 640)
    assert _has(text, "dossiers.received_online", 85)
    assert not _has(text, "dossiers.received_online", 640)


# --- "at any place" is location independence, a synonym of "không phụ thuộc địa giới" ----------
@pytest.mark.parametrize("text", [
    "Người dân có thể nộp hồ sơ tại bất kỳ điểm tiếp nhận nào trong tỉnh đối với 77% thủ tục.",
    "Có 77 % thủ tục hành chính được tiếp nhận ở bất cứ đâu trong tỉnh.",
    "Tỷ lệ TTHC giải quyết không phụ thuộc nơi cư trú của người dân đạt 77%.",
])
def test_any_place_is_location_independent(text: str) -> None:
    assert _metric_values(text, "procedures.location_independent_pct") == {77}


def test_any_procedure_is_not_a_place() -> None:
    text = "Bất kỳ thủ tục nào cũng được niêm yết công khai, đạt 77%."
    assert not _metric_values(text, "procedures.location_independent_pct")


# --- "trước khi X": X has not happened to the value ------------------------------------------
@pytest.mark.parametrize("text", [
    "Công dân đã xin rút 17 hồ sơ trước khi có kết quả.",
    "Có 17 hồ sơ được người nộp rút lại trước khi giải quyết xong.",
])
def test_before_clause_does_not_assert_its_event(text: str) -> None:
    assert _has(text, "dossiers.withdrawn", 17)
    assert not _metric_values(text, "dossiers.resolved")


def test_after_clause_still_asserts() -> None:
    assert _has("Có 17 hồ sơ đã có kết quả giải quyết.", "dossiers.resolved", 17)


# --- money: "ngân sách"/"kinh phí" only name it; the verb and its modality decide --------------
@pytest.mark.parametrize("text", [
    "Ngân sách bố trí cho chuyển đổi số trong năm là 640 triệu đồng.",
    "Kinh phí được phân bổ năm nay: 640 triệu đồng.",
    "Nguồn ngân sách xã đã bố trí 640 triệu đồng cho chuyển đổi số.",
])
def test_allocating_verb_decides_money(text: str) -> None:
    assert _metric_values(text, "budget.allocated_vnd") == {640_000_000}
    assert not _metric_values(text, "budget.requested_vnd")


@pytest.mark.parametrize("text", [
    "Tổng kinh phí xã dự kiến cần bố trí cho chuyển đổi số là 640 triệu đồng.",
    "Xã đề nghị cấp bổ sung 640 triệu đồng cho các nhiệm vụ chuyển đổi số.",
    "Nhu cầu kinh phí cần phân bổ cho năm 2026 khoảng 640 triệu đồng.",
])
def test_modal_of_need_makes_a_request(text: str) -> None:
    assert _metric_values(text, "budget.requested_vnd") == {640_000_000}
    assert not _metric_values(text, "budget.allocated_vnd")


# --- staff in post: "biên chế đang sử dụng" ---------------------------------------------------
@pytest.mark.parametrize("text", [
    "Biên chế đang sử dụng là 61 người.",
    "STT | Chỉ tiêu | Số lượng\n1 | Biên chế được giao | 70\n2 | Biên chế đang sử dụng | 61",
])
def test_posts_in_use_are_staff_present(text: str) -> None:
    assert _has(text, "staff.present", 61)
    assert not _has(text, "staff.quota", 61)


# --- the scope of a negator: its verb phrase, up to a word that opens another clause -----------
@pytest.mark.parametrize(("text", "metric"), [
    ("Số máy tính chưa cài phần mềm diệt virus là 6 máy.", "computers.antivirus"),
    ("Có 6 máy tính chưa được trang bị giải pháp phòng chống mã độc.", "computers.antivirus"),
    ("Số thôn chưa có Tổ công nghệ số cộng đồng: 6 thôn.", "community.tech_team_villages"),
    ("Số tiêu chí chưa đạt: 6 tiêu chí.", "criteria.met"),
])
def test_negated_verb_phrase_gives_no_fact(text: str, metric: str) -> None:
    facts = _facts(text)
    assert not _metric_values(text, metric)
    # the complement is not its whole either: no guess from the noun alone
    assert not any(v == 6 for _m, _k, v in facts)


def test_negation_stops_at_a_new_clause() -> None:
    text = "Số hồ sơ không được giải quyết do không đủ điều kiện: 4 hồ sơ."
    assert _has(text, "dossiers.withdrawn", 4)
    # a comma ends the scope too
    text = "Xã không để xảy ra sai sót, tiếp nhận trực tuyến 500 hồ sơ."
    assert _has(text, "dossiers.received_online", 500)


def test_affirmed_verb_phrase_still_counts() -> None:
    assert _has("Số máy tính đã cài phần mềm diệt virus là 6 máy.", "computers.antivirus", 6)


# --- "tổng số hồ sơ <qualifier>": the qualifier, not the generic total, names the metric -------
@pytest.mark.parametrize(("text", "metric"), [
    ("Tổng số hồ sơ trễ hạn là 7 hồ sơ, đều đã có văn bản xin lỗi.", "dossiers.resolved_overdue"),
    ("Tổng số hồ sơ đang giải quyết là 7 hồ sơ.", "dossiers.in_progress"),
    ("Tổng số hồ sơ giải quyết đúng hẹn: 7 hồ sơ.", "dossiers.resolved_on_time"),
])
def test_qualified_total_is_not_received(text: str, metric: str) -> None:
    assert _has(text, metric, 7)
    assert not _metric_values(text, "dossiers.received")


def test_plain_total_is_received() -> None:
    assert _has("Tổng số hồ sơ tiếp nhận trong kỳ là 7.120 hồ sơ.", "dossiers.received", 7120)


# --- synonyms: one wording in the rules finds the clerk's other wordings ----------------------
@pytest.mark.parametrize("text", [
    "Số hồ sơ còn tồn đọng, đã vượt thời hạn xử lý là 9 hồ sơ.",
    "Đang giải quyết 80 hồ sơ, trong đó 9 hồ sơ vượt quá thời hạn.",
    "Hồ sơ chưa có kết quả đã vượt hạn: 9 hồ sơ.",
])
def test_exceeding_the_deadline_is_overdue(text: str) -> None:
    assert _has(text, "dossiers.in_progress_overdue", 9)
    assert not _has(text, "dossiers.in_progress", 9)


def test_resolved_after_exceeding_the_deadline() -> None:
    assert _has("Có 9 hồ sơ giải quyết vượt thời hạn do phải xác minh.", "dossiers.resolved_overdue", 9)
    # near miss: within the deadline is not past it
    assert not _has("Có 9 hồ sơ đang giải quyết, chưa vượt thời hạn.", "dossiers.in_progress_overdue", 9)


@pytest.mark.parametrize("text", [
    "Số TTHC thực hiện trực tuyến toàn trình là 120 thủ tục.",
    "Xã cung cấp 120 thủ tục hành chính dưới dạng DVC trực tuyến toàn trình.",
])
def test_abbreviation_and_full_name_are_one_cue(text: str) -> None:
    assert _has(text, "procedures.online_full", 120)


# --- a verb after "hạn" belongs to the deadline noun ("thời hạn giải quyết"), not the clause ---
@pytest.mark.parametrize("text", [
    "Số hồ sơ chuyển kỳ sau là 50 hồ sơ (chưa đến hạn: 41 hồ sơ; đã quá thời hạn giải quyết: 9 hồ sơ).",
    "Còn tồn 50 hồ sơ, trong đó 9 hồ sơ đã quá hạn trả kết quả.",
    "Hồ sơ đang xử lý: 50 hồ sơ (9 hồ sơ trễ hạn giải quyết).",
])
def test_deadline_noun_does_not_assert_resolution(text: str) -> None:
    assert _has(text, "dossiers.in_progress_overdue", 9)
    assert not _has(text, "dossiers.resolved_overdue", 9)


def test_resolution_verb_before_the_deadline_still_asserts() -> None:
    # near miss: "giải quyết quá hạn" -- the verb comes first, the dossier was resolved late
    text = "Đã giải quyết 300 hồ sơ, trong đó 9 hồ sơ giải quyết quá hạn."
    assert _has(text, "dossiers.resolved_overdue", 9)


# --- an aspect marker ("đã", "đang") starts another predicate: the negator's scope ends -------
def test_negation_scope_ends_at_an_aspect_marker() -> None:
    assert _has("Số hồ sơ chưa trả kết quả nhưng đã quá hạn là 9 hồ sơ.", "dossiers.in_progress_overdue", 9)
    assert _has("Máy tính chưa nâng cấp, đang cài phần mềm diệt virus: 9 máy.", "computers.antivirus", 9)
    # near miss: the cue right after the negator stays negated
    assert not _has("Số máy tính chưa cài phần mềm diệt virus: 9 máy.", "computers.antivirus", 9)


# --- a partitive label ("Trong số ...:") names the whole; the value's own predicate names it ---
@pytest.mark.parametrize("text", [
    "Trong số thủ tục thuộc thẩm quyền của phường: 140 thủ tục đủ điều kiện cung cấp trực tuyến toàn trình.",
    "Trong tổng số TTHC công bố tại xã, 140 thủ tục được cung cấp dưới dạng toàn trình.",
    "- Trong các thủ tục niêm yết tại Trung tâm: 140 thủ tục là dịch vụ công trực tuyến toàn trình.",
])
def test_partitive_label_names_the_whole(text: str) -> None:
    assert _has(text, "procedures.online_full", 140)
    assert not _has(text, "procedures.published", 140)


def test_plain_label_before_colon_still_names_the_value() -> None:
    # near miss: no partitive, the label before the colon is the metric
    text = "Số thủ tục thuộc thẩm quyền giải quyết của xã: 140 thủ tục, đều được niêm yết."
    assert _has(text, "procedures.published", 140)


# --- attending a class: "lớp/khóa <topic>" -- the class is the head, its topic a modifier -----
@pytest.mark.parametrize("text", [
    "Trong năm, phường cử 14 cán bộ đi học lớp chuyển đổi số do huyện mở.",
    "Có 14 công chức tham dự khóa bồi dưỡng về công nghệ thông tin.",
    "14 cán bộ, công chức đã theo học lớp an toàn thông tin cơ bản.",
])
def test_attending_a_class_is_training(text: str) -> None:
    assert _has(text, "staff.trained", 14)
    assert not _has(text, "staff.it_officers", 14)


def test_a_share_after_the_class_clause_is_the_trained_share() -> None:
    text = "Xã cử 14 công chức đi học lớp kỹ năng số, đạt tỷ lệ 70% cán bộ, công chức."
    assert _has(text, "staff.trained_pct", 70)


def test_officer_in_charge_of_the_topic_is_not_training() -> None:
    # near miss: the same topic without a class is the officers' job
    text = "Xã bố trí 2 công chức phụ trách chuyển đổi số."
    assert _has(text, "staff.it_officers", 2)
    assert not _has(text, "staff.trained", 2)


# --- "tương ứng N": a value restating the one before in another unit takes its label ----------
@pytest.mark.parametrize("text", [
    "Hồ sơ dịch vụ công một phần chiếm 40%, tương ứng 1.240 hồ sơ.",
    "Số hồ sơ nộp trực tuyến một phần chiếm tỷ lệ 40% tổng số hồ sơ trực tuyến, tương đương với 1.240 hồ sơ.",
    "Tỷ lệ hồ sơ trực tuyến một phần đạt 40%, ứng với 1240 hồ sơ.",
])
def test_restated_count_takes_the_share_label(text: str) -> None:
    assert _has(text, "dossiers.online_partial_pct", 40)
    assert _has(text, "dossiers.received_online_partial", 1240)


def test_restated_share_takes_the_count_label() -> None:
    text = "Có 1.240 hồ sơ được nộp theo hình thức trực tuyến một phần, tương ứng 40%."
    assert _has(text, "dossiers.online_partial_pct", 40)


def test_a_value_with_its_own_label_is_not_a_restatement() -> None:
    # near miss: "trực tiếp 420 hồ sơ" has its own label after the comma
    text = "Hồ sơ trực tuyến một phần chiếm 40%, trực tiếp 420 hồ sơ."
    assert _has(text, "dossiers.received_offline", 420)
    assert not _has(text, "dossiers.received_online_partial", 420)


# --- an office named by verbs ("Bộ phận tiếp nhận và trả kết quả") is a name, not a predicate --
@pytest.mark.parametrize("text", [
    "Lũy kế từ đầu năm, Bộ phận tiếp nhận và trả kết quả của phường đã nhận 1.530 hồ sơ.",
    "Bộ phận Tiếp nhận và Trả kết quả xã tiếp nhận tổng cộng 1.530 hồ sơ trong kỳ.",
    "Trong kỳ, tại Bộ phận tiếp nhận và trả kết quả TTHC, xã đã tiếp nhận 1530 hồ sơ.",
])
def test_office_name_verbs_do_not_name_the_metric(text: str) -> None:
    assert _has(text, "dossiers.received", 1530)
    assert not _has(text, "dossiers.resolved", 1530)


def test_office_name_still_names_its_staff_and_its_own_verbs_count() -> None:
    assert _has("Bộ phận tiếp nhận và trả kết quả có 4 công chức.", "staff.onestop_officers", 4)
    # near miss: the office's own predicate "đã trả kết quả" is a resolution
    assert _has("Bộ phận tiếp nhận và trả kết quả đã trả kết quả 1.530 hồ sơ.", "dossiers.resolved", 1530)


# --- a place ("tại bộ phận một cửa") is an adjunct: the activity before it names the metric ----
@pytest.mark.parametrize("text", [
    "Việc số hóa hồ sơ, kết quả giải quyết TTHC tại Bộ phận một cửa đạt 85%.",
    "Công tác số hóa thành phần hồ sơ tại quầy tiếp nhận của xã đạt tỷ lệ 85%.",
    "Tỷ lệ số hóa kết quả giải quyết thủ tục tại Trung tâm phục vụ hành chính công là 85%.",
])
def test_place_adjunct_does_not_name_the_metric(text: str) -> None:
    assert _has(text, "dossiers.digitized_pct", 85)
    assert not _has(text, "dossiers.offline_pct", 85)


@pytest.mark.parametrize("text", [
    "Số hồ sơ tiếp nhận tại bộ phận một cửa là 157 hồ sơ.",
    "Có 157 hồ sơ được nộp tại quầy của Bộ phận một cửa.",
])
def test_place_as_the_only_qualifier_is_the_desk_channel(text: str) -> None:
    # near miss: with no other cue, the place is the channel (at the desk, not online)
    assert _has(text, "dossiers.received_offline", 157)
    assert not _has(text, "dossiers.received", 157)


@pytest.mark.parametrize("text", [
    "Tại Bộ phận một cửa, trong kỳ đã tiếp nhận 5.000 hồ sơ, trong đó trực tuyến 3.000 hồ sơ.",
    "Trong năm, ở Trung tâm phục vụ hành chính công, xã tiếp nhận 5.000 hồ sơ.",
])
def test_place_framing_the_clause_is_not_the_label(text: str) -> None:
    assert _has(text, "dossiers.received", 5000)
    assert not _has(text, "dossiers.received_offline", 5000)


# --- a year-like figure linked to a counting label is a count, not a year ---------------------
@pytest.mark.parametrize("text", [
    "Phân theo mức độ dịch vụ, số hồ sơ toàn trình là 2031, số hồ sơ một phần là 1.120.",
    "Số hồ sơ nộp trực tuyến toàn trình: 2031.",
    "Hồ sơ dịch vụ công toàn trình bằng 2031 trong kỳ.",
])
def test_year_like_count_after_a_counting_label(text: str) -> None:
    assert _has(text, "dossiers.received_online_full", 2031)


@pytest.mark.parametrize("text", [
    "Thời gian hoàn thành việc số hóa hồ sơ là 2027.",
    "Mốc hoàn thành cung cấp toàn trình các thủ tục là 2027.",
])
def test_year_after_a_time_label_stays_a_year(text: str) -> None:
    # near miss: the label names a time, so 2027 is a year
    assert not any(v == 2027 for _m, _k, v in _facts(text))


# --- respectively: a coordinated label shared out over the values after it, in order --------
RESPECTIVELY = [
    "Hồ sơ nộp trực tuyến và hồ sơ nộp trực tiếp chiếm tỷ lệ tương ứng 64% và 36%.",
    "Tỷ lệ hồ sơ trực tuyến, hồ sơ trực tiếp lần lượt là 64% và 36%.",
    "Trong năm, hồ sơ qua mạng và hồ sơ trực tiếp theo thứ tự chiếm 64 % và 36 % tổng số hồ sơ.",
]


@pytest.mark.parametrize("text", RESPECTIVELY)
def test_respectively_shares_the_label_out_in_order(text: str) -> None:
    assert _has(text, "dossiers.online_pct", 64)
    assert _has(text, "dossiers.offline_pct", 36)
    assert not _has(text, "dossiers.online_pct", 36)


def test_respectively_needs_as_many_label_parts_as_values() -> None:
    # one label part for two values: nothing is shared out, 36 is not the desk's share
    text = "Hồ sơ nộp trực tuyến tăng tương ứng 64% và 36% so với hai năm trước."
    assert not _has(text, "dossiers.offline_pct", 36)


# --- loanwords and abbreviations: "vi-rút" is virus, "CBCC" counts staff --------------------
LOANWORDS = [
    ("Có 17 máy đã cài phần mềm diệt vi-rút.", "computers.antivirus", 17),
    ("Số máy tính được cập nhật phần mềm phòng chống vi rút: 17 máy.", "computers.antivirus", 17),
    ("Đội ngũ CBCC của xã gồm 41 người.", "staff.present", 41),
    ("Đội ngũ cán bộ, công chức hiện gồm 41 người trên tổng số 45 biên chế.", "staff.present", 41),
    ("30/41 CBCC đã được tập huấn kỹ năng số.", "staff.present", 41),
]


@pytest.mark.parametrize(("text", "metric", "value"), LOANWORDS)
def test_loanwords_and_abbreviations(text: str, metric: str, value: float) -> None:
    assert _has(text, metric, value)


def test_vi_rut_computers_are_not_the_total() -> None:
    assert not _has("Có 17 máy đã cài phần mềm diệt vi-rút.", "computers.total", 17)
    # near miss: a staff body that is only planned is still a staff body, but a quota is not present
    assert not _has("Đội ngũ CBCC gồm 41 người trên tổng số 45 biên chế.", "staff.present", 45)


# --- parallel labels: the second repeats only the modifier and keeps the first's head noun --
PARALLEL_HEAD = [
    "Hồ sơ DVC toàn trình là 210, DVC một phần là 95.",
    "Hồ sơ dịch vụ công trực tuyến toàn trình là 210, trực tuyến một phần là 95.",
    "Hồ sơ DVC toàn trình: 210, DVC một phần: 95.",
    "Số hồ sơ dịch vụ công toàn trình là 210, dịch vụ công một phần là 95.",
]


@pytest.mark.parametrize("text", PARALLEL_HEAD)
def test_parallel_label_keeps_the_head_noun(text: str) -> None:
    assert _has(text, "dossiers.received_online_full", 210)
    assert _has(text, "dossiers.received_online_partial", 95)
    assert not _metric_values(text, "procedures.online_partial_or_direct")


def test_parallel_label_with_its_own_head_noun_keeps_it() -> None:
    # near miss: the second label names another head noun, so its value counts procedures
    text = "Hồ sơ toàn trình là 210, thủ tục một phần là 95."
    assert _has(text, "procedures.online_partial_or_direct", 95)
    assert not _has(text, "dossiers.received_online_partial", 95)


# --- "trường hợp" (case) counts people when the case is something that befalls staff -------
PERSON_CASES = [
    ("Trong năm có 5 trường hợp cán bộ nghỉ hưu, thôi việc.", 5),
    ("Đã giải quyết chế độ cho 03 trường hợp nghỉ hưu trước tuổi.", 3),
    ("Tháng này phát sinh 2 trường hợp nghỉ việc theo nguyện vọng.", 2),
]


@pytest.mark.parametrize(("text", "value"), PERSON_CASES)
def test_cases_of_retiring_are_staff_who_left(text: str, value: float) -> None:
    assert _has(text, "staff.retired", value)


def test_cases_of_dossiers_are_not_staff() -> None:
    # near miss: a case of a dossier is no person, and never the staff in post
    text = "Trong tháng có 6 trường hợp phải bổ sung hồ sơ."
    assert not _metric_values(text, "staff.present")
    assert not _metric_values(text, "staff.retired")
    assert _has("Có 4 trường hợp đang giải quyết đã quá hạn.", "dossiers.in_progress_overdue", 4)


# --- a bare share in parentheses after a part count is the part's share ----------------------
PART_SHARES = [
    ("Toàn xã có 60 máy tính; số máy đã cài phần mềm diệt vi-rút: 45 máy (đạt 75%).",
     "computers.antivirus_pct", 75),
    ("Có 45/60 máy tính được cài phần mềm chống mã độc (tỷ lệ 75%).", "computers.antivirus_pct", 75),
    ("Xã có 20 thôn; Tổ công nghệ số cộng đồng đã hoạt động tại 15 thôn (chiếm 75% tổng số thôn).",
     "community.tech_team_villages_pct", 75),
    ("Tổ CNSCĐ được kiện toàn ở 12 thôn, tổ dân phố (đạt 80%).", "community.tech_team_villages_pct", 80),
    ("Đã có 30 cán bộ, công chức được tập huấn kỹ năng số (đạt 60%).", "staff.trained_pct", 60),
]


@pytest.mark.parametrize(("text", "metric", "value"), PART_SHARES)
def test_share_in_parentheses_after_a_part(text: str, metric: str, value: float) -> None:
    assert _has(text, metric, value)


def test_share_in_parentheses_needs_a_part_and_says_nothing_more() -> None:
    # near misses: a share of a whole (all computers) has no part metric; a share of a plan is not
    # the share of the part
    assert not _metric_values("Xã hiện có 40 máy tính (đạt 90%).", "computers.antivirus_pct")
    assert not _metric_values("Đã cài phần mềm diệt virus cho 36 máy (đạt 90% kế hoạch năm).",
                              "computers.antivirus_pct")


# --- abbreviations of the community digital team --------------------------------------------
def test_tech_team_abbreviation_names_the_team() -> None:
    text = "Phấn đấu 100% thôn, tổ dân phố có Tổ CNSCĐ hoạt động hiệu quả."
    assert _has(text, "community.tech_team_villages_pct", 100, kind="target")
    # near miss: villages with something else are not villages with the team
    text = "Phấn đấu 100% thôn có nhà văn hóa đạt chuẩn."
    assert not _metric_values(text, "community.tech_team_villages_pct")


# --- a fronted topic ("Đối với doanh nghiệp, ...") restricts the figures of its clause -------
BUSINESS_TOPIC = [
    "Đối với hộ kinh doanh, 64% thủ tục liên quan được giải quyết trực tuyến.",
    "Đối với doanh nghiệp, khoảng 64% TTHC có liên quan được thực hiện trên môi trường điện tử.",
    "Riêng đối với doanh nghiệp và hộ kinh doanh, hơn 64% thủ tục được xử lý qua mạng.",
]


@pytest.mark.parametrize("text", BUSINESS_TOPIC)
def test_business_topic_makes_the_share_a_business_one(text: str) -> None:
    assert _has(text, "procedures.business_online_pct", 64)
    assert not _metric_values(text, "dossiers.online_pct")


def test_other_topic_leaves_the_share_general() -> None:
    # near miss: a topic of citizens says nothing of businesses
    text = "Đối với người dân, 64% thủ tục được giải quyết trực tuyến."
    assert _has(text, "dossiers.online_pct", 64)
    assert not _metric_values(text, "procedures.business_online_pct")


# --- documents received ("tiếp nhận") are documents, not dossiers ----------------------------
EDOCS_RECEIVED = [
    "Tỷ lệ văn bản tiếp nhận, phát hành dưới dạng điện tử: 96%.",
    "Văn bản điện tử trên tổng số văn bản đi, đến của UBND xã đạt 96%.",
    "Văn bản tiếp nhận và phát hành trên môi trường mạng chiếm 96%.",
]


@pytest.mark.parametrize("text", EDOCS_RECEIVED)
def test_documents_received_are_documents(text: str) -> None:
    assert _has(text, "documents.electronic_pct", 96)


def test_dossiers_received_are_not_documents() -> None:
    # near miss: receiving dossiers is the one-stop shop, not the document flow
    text = "Tỷ lệ hồ sơ điện tử trong tổng số hồ sơ tiếp nhận: 80%."
    assert not _metric_values(text, "documents.electronic_pct")


# --- documents as the object of what staff do: the share is one of staff -----------------------
STAFF_DOING_DOCS = [
    "Khoảng 92% cán bộ, công chức xử lý văn bản đến trên phần mềm quản lý văn bản.",
    "Tỷ lệ lãnh đạo, CBCC ký số văn bản đi bằng chữ ký số cá nhân: 92%.",
    "Gần 92% lãnh đạo, công chức giải quyết hồ sơ công việc trên hệ thống, có dùng chữ ký số.",
]


@pytest.mark.parametrize("text", STAFF_DOING_DOCS)
def test_documents_as_object_of_staff_work(text: str) -> None:
    assert _has(text, "staff.edoc_usage_pct", 92)


def test_documents_as_subject_are_not_staff() -> None:
    # near miss: the documents themselves are signed -- a share of documents
    text = "Văn bản đi được ký số đạt 95%."
    assert not _metric_values(text, "staff.edoc_usage_pct")
    assert _has(text, "documents.electronic_pct", 95)


# --- installing the common software on computers ------------------------------------------
SHARED_SOFTWARE = [
    "Bảo đảm 100% máy tính làm việc của công chức phải được cài đủ phần mềm quản lý văn bản và một cửa"
    " điện tử.",
    "100% máy tính được cài đặt đầy đủ các phần mềm dùng chung của tỉnh.",
]


@pytest.mark.parametrize("text", SHARED_SOFTWARE)
def test_installing_common_software(text: str) -> None:
    assert _has(text, "computers.shared_software_pct", 100, kind="target", doc_type="plan")


def test_installing_antivirus_is_not_common_software() -> None:
    # near miss: an antivirus is software too, but not the common one
    text = "100% máy tính được cài đầy đủ phần mềm diệt virus có bản quyền."
    assert not _metric_values(text, "computers.shared_software_pct", doc_type="plan")


# --- a value wrapped onto the next line by the layout ---------------------------------------
WRAPPED_VALUES = [
    ("- Kinh phí được giao: 300 triệu đồng; kinh phí đã giải ngân:\n120 triệu đồng.",
     "budget.disbursed_vnd", 120e6),
    ("Hồ sơ đang giải quyết: 40 (trong hạn: 31; đã trễ hạn:\n09).", "dossiers.in_progress_overdue", 9),
    ("Số hồ sơ trước hạn, đúng hạn và quá hạn lần lượt là 310, 25 và\n14.\n2. Về nhân lực",
     "dossiers.resolved_overdue", 14),
    ("Đã giải quyết 300 hồ sơ, cụ thể: trước hạn 270, đúng hạn 21, quá hạn\n09.\n3. Hạ tầng số",
     "dossiers.resolved_overdue", 9),
]


@pytest.mark.parametrize(("text", "metric", "value"), WRAPPED_VALUES)
def test_value_wrapped_onto_next_line(text: str, metric: str, value: float) -> None:
    assert _has(text, metric, value)


def test_heading_after_a_colon_is_not_a_wrapped_value() -> None:
    # near miss: a numbered heading with its title starts a new paragraph
    text = "Kết quả cụ thể như sau:\n2. Có 15 máy tính được trang bị mới."
    assert normalize_text(text).count("\n") == 1


# --- a topic header before a colon labels the figure after it ("Về ...: còn N") -------------
TOPIC_HEADER = [
    "Về số hồ sơ chưa giải quyết xong: hiện còn 37 hồ sơ, trong đó 30 hồ sơ vẫn trong hạn.",
    "- Về hồ sơ chưa có kết quả: còn lại 37 hồ sơ.",
    "Đối với hồ sơ đang xử lý: còn 37 hồ sơ chuyển sang tháng sau.",
]


@pytest.mark.parametrize("text", TOPIC_HEADER)
def test_topic_header_before_colon_labels_the_value(text: str) -> None:
    assert _has(text, "dossiers.in_progress", 37)


def test_plain_label_before_colon_still_yields_to_the_words_after_it() -> None:
    # near miss: no topic word, the words after the colon name the figure
    text = "Kết quả giải quyết TTHC: tiếp nhận 37 hồ sơ."
    assert _has(text, "dossiers.received", 37)
    assert not _metric_values(text, "dossiers.in_progress")


# --- passive progressive with the agent in between ("đang được ... thụ lý") -----------------
PASSIVE_PROGRESSIVE = [
    "Hiện 58 hồ sơ đang được công chức chuyên môn thụ lý.",
    "Có 58 hồ sơ đang được các phòng giải quyết theo quy định.",
    "58 hồ sơ đang được xử lý tại các bộ phận.",
]


@pytest.mark.parametrize("text", PASSIVE_PROGRESSIVE)
def test_passive_progressive_is_in_progress(text: str) -> None:
    assert _has(text, "dossiers.in_progress", 58)


def test_passive_past_is_not_in_progress() -> None:
    # near miss: "đã được giải quyết" is finished
    assert not _metric_values("Có 58 hồ sơ đã được các phòng giải quyết xong.", "dossiers.in_progress")


# --- a bare "hiện có" among staff figures counts staff -------------------------------------
STAFF_PRESENT_BARE = [
    "Nhân sự: biên chế giao 31 hiện có 27 hợp đồng 2.",
    "Về biên chế, được giao 31, hiện có 27.",
]


@pytest.mark.parametrize("text", STAFF_PRESENT_BARE)
def test_bare_hien_co_among_staff_is_staff_present(text: str) -> None:
    assert _has(text, "staff.present", 27)
    assert not _metric_values(text, "computers.total")


def test_hien_co_computers_stays_computers() -> None:
    # near miss: the noun says machines
    text = "Cơ quan hiện có 27 máy tính phục vụ công tác chuyên môn."
    assert _has(text, "computers.total", 27)
    assert not _metric_values(text, "staff.present")


# --- a ratio of online dossiers: the part online, the whole received ------------------------
ONLINE_RATIO = [
    "Nhận trực tuyến 310/455 hồ sơ.",
    "Số hồ sơ tiếp nhận trực tuyến là 310/455 hồ sơ, đạt 68,13%.",
]


@pytest.mark.parametrize("text", ONLINE_RATIO)
def test_online_ratio_whole_is_received(text: str) -> None:
    assert _has(text, "dossiers.received_online", 310)
    assert _has(text, "dossiers.received", 455)


def test_online_ratio_whole_is_not_online() -> None:
    # near miss: the whole is never itself online
    assert 455 not in _metric_values("Nhận trực tuyến 310/455 hồ sơ.", "dossiers.received_online")


# --- short forms: CNS (digital transformation), Tổ CNS cộng đồng, paper = offline -------------
def test_cns_abbreviation_is_digital_transformation() -> None:
    assert _has("Số công chức chuyên trách CNS của xã: 03 người.", "staff.it_officers", 3)
    assert _has("Cán bộ phụ trách CĐS: 03 người.", "staff.it_officers", 3)
    # near miss: trained in it, not in charge of it
    assert not _metric_values("Có 03 người được tập huấn về CNS.", "staff.it_officers")


TEAM_SHORT = [
    ("Xã có 12 thôn; Tổ CNS cộng đồng đã thành lập ở 10 thôn.", "community.tech_team_villages", 10),
    ("Tổ CNS cộng đồng đã hoạt động tại 83,33% thôn, tổ dân phố.", "community.tech_team_villages_pct", 83.33),
]


@pytest.mark.parametrize(("text", "metric", "value"), TEAM_SHORT)
def test_tech_team_short_form(text: str, metric: str, value: float) -> None:
    assert _has(text, metric, value)
    assert value not in _metric_values(text, "community.villages_total")


def test_team_target_over_residential_areas() -> None:
    text = "Phấn đấu 100% địa bàn dân cư có Tổ CNS cộng đồng hoạt động."
    assert _has(text, "community.tech_team_villages_pct", 100, kind="target", doc_type="plan")
    # near miss: the villages are counted, not the teams
    assert not _metric_values("Xã có 12 thôn, tổ dân phố.", "community.tech_team_villages")


PAPER_SHARE = [
    "Tỷ lệ hồ sơ nộp giấy chiếm 31,5%.",
    "Hồ sơ trực tuyến chiếm 68,5%; hồ sơ giấy chiếm 31,5%.",
]


@pytest.mark.parametrize("text", PAPER_SHARE)
def test_paper_dossiers_are_offline(text: str) -> None:
    assert _has(text, "dossiers.offline_pct", 31.5)
    assert 31.5 not in _metric_values(text, "dossiers.online_pct")


def test_online_share_stays_online() -> None:
    # near miss: submitted over the network
    assert _has("Hồ sơ nộp qua mạng chiếm 68,5%.", "dossiers.online_pct", 68.5)


# --- a rate per service is not a count of fully-online dossiers -----------------------------
PER_SERVICE = [
    "Bình quân mỗi DVC toàn trình có ít nhất 600 hồ sơ phát sinh trong năm.",
    "Mỗi dịch vụ công trực tuyến toàn trình phát sinh trung bình 600 hồ sơ/năm.",
]


@pytest.mark.parametrize("text", PER_SERVICE)
def test_rate_per_service_is_not_full_online_count(text: str) -> None:
    assert _has(text, "dossiers.online_per_service_per_year", 600, kind="target", doc_type="plan")
    assert not _metric_values(text, "dossiers.received_online_full", doc_type="plan")


def test_full_online_count_without_a_rate() -> None:
    # near miss: no "mỗi"/"bình quân": a count of fully-online dossiers
    assert _has("Tiếp nhận 600 hồ sơ trực tuyến toàn trình.", "dossiers.received_online_full", 600)


# --- records kept on a software are electronic documents, not archives ----------------------
def test_records_kept_on_software_are_electronic() -> None:
    text = "Tỷ lệ hồ sơ công việc được lập và lưu trữ trên hệ thống quản lý văn bản đạt 91%."
    assert _has(text, "documents.electronic_pct", 91)
    assert not _metric_values(text, "archives.digitized_pct")


def test_archive_records_stay_archives() -> None:
    # near miss: the archive holdings digitized
    assert _has("Đã số hóa 91% tài liệu lưu trữ của xã.", "archives.digitized_pct", 91)


# --- a share after a comma, with the whole named after it ---------------------------------
def test_comma_share_of_a_count_takes_the_parts_share() -> None:
    text = "Hồ sơ dịch vụ công một phần: 210 hồ sơ, chiếm 42,5% tổng số hồ sơ trực tuyến."
    assert _has(text, "dossiers.online_partial_pct", 42.5)
    assert 42.5 not in _metric_values(text, "dossiers.online_pct")


def test_share_with_its_own_label_keeps_it() -> None:
    # near miss: the share names its own part
    text = "Hồ sơ dịch vụ công một phần: 210 hồ sơ; hồ sơ trực tuyến chiếm 42,5% tổng số hồ sơ."
    assert _has(text, "dossiers.online_pct", 42.5)


# --- "phòng, chống" is one pair; the share in parentheses still closes the part -------------
def test_share_after_prevent_and_combat_pair() -> None:
    text = "Có 45 máy được cài phần mềm phòng, chống mã độc (đạt 75%)."
    assert _has(text, "computers.antivirus_pct", 75)
    # near miss: "phòng, ban" is no antivirus
    assert not _metric_values("Các phòng, ban đang sử dụng 45 máy tính.", "computers.antivirus")


# --- a count restated in parentheses after a share ----------------------------------------
def test_count_restated_in_parentheses_after_share() -> None:
    text = "Hồ sơ nộp trực tiếp tại quầy chiếm 12% (tương ứng 150 hồ sơ)."
    assert _has(text, "dossiers.received_offline", 150)
    # near miss: a count in parentheses with its own label
    text = "Hồ sơ nộp trực tiếp tại quầy chiếm 12% (đã giải quyết 150 hồ sơ)."
    assert 150 not in _metric_values(text, "dossiers.received_offline")


# --- an information system named after its task, and results returned to the account ------
def test_system_name_is_a_channel_not_resolving() -> None:
    text = "Trong đó qua Hệ thống thông tin giải quyết TTHC của tỉnh 920 hồ sơ."
    assert _has(text, "dossiers.received_online", 920)
    assert not _metric_values(text, "dossiers.resolved")


def test_results_returned_to_the_citizens_account() -> None:
    text = "Gần 88% kết quả giải quyết TTHC được trả về tài khoản VNeID của công dân."
    assert _has(text, "results.electronic_pct", 88)
    # near miss: user accounts created, not results
    assert not _metric_values("Đã kích hoạt 88% tài khoản VNeID mức 2.", "results.electronic_pct")
