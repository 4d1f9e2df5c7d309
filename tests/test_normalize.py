"""The normalizer on small hand-made inputs (no seed text in the repo) and on the real seeds."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commune_metrics.core.document import RawDocument, RawPage
from commune_metrics.readers.normalize import normalize, normalize_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Tổng số hồ sơ là 5.676 hồ sơ.", "Tổng số hồ sơ là 5.676 hồ sơ."),
        ("trực tiếp 19,95 %, trực tuyến 80,05%.", "trực tiếp 19,95 %, trực tuyến 80,05%."),
        ("có 17/40 máy tính", "có 17/40 máy tính"),
        ("từ ngày 01/7/2025 đến nay", "từ ngày 01/7/2025 đến nay"),
        # a number at the end of a line stays apart from the word on the next line
        ("kinh phí khoảng 500\ntriệu đồng.", "kinh phí khoảng 500 triệu đồng."),
        ("kinh phí khoảng\n500\ntriệu đồng.", "kinh phí khoảng 500 triệu đồng."),
        ("tổng số\n5.676\n\nhồ sơ", "tổng số 5.676 hồ sơ"),
        ("đạt 19,95\n%", "đạt 19,95 %"),
        ("tăng từ 5.297\n5.676 hồ sơ", "tăng từ 5.297 5.676 hồ sơ"),
        ("ngày\n01/7/2025", "ngày 01/7/2025"),
        ("số 1.000\nhồ sơ/năm", "số 1.000 hồ sơ/năm"),
    ],
)
def test_numbers_are_never_split_or_merged(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("hoà", "hòa"),
        ("thuỷ", "thủy"),
        ("uỷ", "ủy"),
        ("khoẻ", "khỏe"),
        ("hoá", "hóa"),
        ("Uỷ", "Ủy"),
        ("HOÀ", "HÒA"),
        ("THUỶ", "THỦY"),
        ("luỹ", "lũy"),
        ("hoạ", "họa"),
        # the pair does not end the syllable: already right, left alone
        ("hoàn", "hoàn"),
        ("toàn", "toàn"),
        ("khoảng", "khoảng"),
        ("hoạch", "hoạch"),
        ("xoá", "xóa"),
        ("ngoài", "ngoài"),
        ("thuyền", "thuyền"),
        ("huỳnh", "huỳnh"),
        # "qu" is a consonant
        ("quý", "quý"),
        ("quỹ", "quỹ"),
        ("quả", "quả"),
        ("Quý", "Quý"),
        # modern placement is kept
        ("hòa", "hòa"),
        ("thủy", "thủy"),
    ],
)
def test_tone_placement(old: str, new: str) -> None:
    assert normalize_text(old) == new
    assert normalize_text(f"Đảng {old} xã") == f"Đảng {new} xã"


def test_decomposed_and_misordered_diacritics_are_composed() -> None:
    word = "Nghị quyết số 57, chuyển đổi số"
    assert normalize_text(unicodedata.normalize("NFD", word)) == word
    # tone mark before the circumflex (some legacy converters): still "ế"
    assert normalize_text("quy\u0065\u0301\u0302t") == "quyết"
    assert unicodedata.is_normalized("NFC", normalize_text("ho\u0061\u0300 thu\u0079\u0309"))
    assert normalize_text("ho\u0061\u0300 thu\u0079\u0309") == "hòa thủy"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # a broken sentence joins; the blank line after every line is dropped
        ("UBND xã đã triển khai\n\nkết nối cáp quang.\n\n", "UBND xã đã triển khai kết nối cáp quang."),
        # a sentence end keeps the paragraph break
        ("Câu thứ nhất.\n\nCâu thứ hai.", "Câu thứ nhất.\nCâu thứ hai."),
        # list items and headings start their own line
        ("các văn bản sau\n- Quyết định số 1\n+ Kế hoạch số 2\n* Công văn\n• Thông báo",
         "các văn bản sau\n- Quyết định số 1\n+ Kế hoạch số 2\n* Công văn\n• Thông báo"),
        ("nội dung chưa hết\n1. Về pháp lý", "nội dung chưa hết\n1. Về pháp lý"),
        ("nội dung chưa hết\n2.1. Cập nhật dữ liệu", "nội dung chưa hết\n2.1. Cập nhật dữ liệu"),
        ("nội dung chưa hết\nI. KẾT QUẢ", "nội dung chưa hết\nI. KẾT QUẢ"),
        ("nội dung chưa hết\na) Hồ sơ", "nội dung chưa hết\na) Hồ sơ"),
        ("nội dung chưa hết\n21) Cuối cùng", "nội dung chưa hết\n21) Cuối cùng"),
        # table rows are never glued to text
        ("bảng sau\nSTT | Chỉ tiêu | Kết quả\n1 | Hồ sơ | 5.676\nsau bảng",
         "bảng sau\nSTT | Chỉ tiêu | Kết quả\n1 | Hồ sơ | 5.676\nsau bảng"),
        # a hyphen glued to a word joins without a space
        ("Kế hoạch số 02-\n\nKH/BCĐTW ngày 19/6/2025", "Kế hoạch số 02-KH/BCĐTW ngày 19/6/2025"),
        ("Quyết định số 1995/QĐ-\nUBND ngày 26/9/2025.", "Quyết định số 1995/QĐ-UBND ngày 26/9/2025."),
        # a dash with a space is not a hyphenated word
        ("phòng Văn hóa -\nxã hội", "phòng Văn hóa - xã hội"),
        # runs of spaces, tabs and no-break spaces collapse
        ("tổng   số\t hồ\u00a0\u00a0sơ", "tổng số hồ sơ"),
        # a lone short title is not glued to the next paragraph
        ("BÁO CÁO\n\nKết quả thực hiện kế hoạch", "BÁO CÁO\nKết quả thực hiện kế hoạch"),
        ("1. Về pháp lý\nBáo cáo kết quả", "1. Về pháp lý\nBáo cáo kết quả"),
        ("\ufeffCRLF line\r\nendings.\r\n", "CRLF line endings."),
    ],
)
def test_line_joining(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_wrapped_line_ending_in_a_name_joins_with_the_capitalised_continuation() -> None:
    filler = "công tác chuyển đổi số được triển khai đồng bộ trên địa bàn xã"
    lines = [f"Dòng {i} {filler}" for i in range(6)]
    last = "Ủy ban nhân dân xã Chí Minh tiến hành rà soát, tổng hợp và báo cáo xã Chí"
    raw = "\n\n".join([*lines, last, "Minh nhé."])
    out = normalize_text(raw)
    assert "xã Chí Minh nhé." in out


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("giữa các bộ phận. Sự\n\n\n\n7\n\n \n\nphối hợp chặt chẽ", "giữa các bộ phận. Sự phối hợp chặt chẽ"),
        ("hết trang một.\n\n\n\n 2 \n\nTrang hai bắt đầu.", "hết trang một.\nTrang hai bắt đầu."),
        ("hết trang một.\n- 3 -\nTrang ba bắt đầu.", "hết trang một.\nTrang ba bắt đầu."),
        ("hết trang một.\nTrang 4\nTrang năm bắt đầu.", "hết trang một.\nTrang năm bắt đầu."),
        ("Văn bản.\n12", "Văn bản."),
        ("12\nVăn bản.", "Văn bản."),
    ],
)
def test_page_number_lines_are_dropped(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_running_headers_and_footers_are_dropped_but_body_repeats_stay() -> None:
    topics = ["hạ tầng số", "dữ liệu", "nhân lực", "tài chính", "an toàn thông tin"]
    pages = [
        RawPage(
            f"UBND XÃ VẠN TƯỜNG\nVề {topic}: đã triển khai {i * 7} việc.\n- Chủ trì thực hiện: Văn phòng.\n"
            f"Kết quả về {topic} đạt yêu cầu.\nBáo cáo số 12/BC-UBND - Trang {i}/5"
        )
        for i, topic in enumerate(topics, start=1)
    ]
    doc = normalize(RawDocument("x.pdf", "0" * 64, "pdf", pages))
    assert "UBND XÃ VẠN TƯỜNG" not in doc.text
    assert "Báo cáo số 12/BC-UBND" not in doc.text
    assert doc.text.count("- Chủ trì thực hiện: Văn phòng.") == 5  # inside each page: not furniture
    for i, topic in enumerate(topics, start=1):
        assert doc.page_at(doc.text.index(f"Về {topic}:")) == i
        assert doc.page_at(doc.text.index(f"Kết quả về {topic}")) == i


def test_page_map_is_in_normalized_offsets() -> None:
    pages = [RawPage("Trang một kết thúc giữa\n\ncâu"), RawPage(""), RawPage("tiếp tục ở trang ba.\n\n3")]
    doc = normalize(RawDocument("x.pdf", "0" * 64, "pdf", pages))
    assert doc.text == "Trang một kết thúc giữa câu tiếp tục ở trang ba."
    assert doc.page_at(doc.text.index("câu")) == 1
    assert doc.page_at(doc.text.index("tiếp tục")) == 3
    assert [p.number for p in doc.pages] == [1, 2, 3]
    assert doc.pages[-1].end == len(doc.text)


def test_unpaginated_documents_have_no_page_numbers() -> None:
    doc = normalize(RawDocument("x.txt", "0" * 64, "txt", [RawPage("Một câu.")], paginated=False))
    assert doc.page_at(0) is None


_NUMBER = re.compile(r"\d+(?:[.,/]\d+)*")


def test_seeds_are_fixed_points_and_keep_their_numbers(seed_paths) -> None:
    for path in seed_paths:
        raw = path.read_text(encoding="utf-8")
        once = normalize_text(raw)
        assert normalize_text(once) == once, path.name
        assert unicodedata.is_normalized("NFC", once)
        assert "\n\n" not in once and "  " not in once
        assert not any(line.strip().isdigit() for line in once.splitlines()), path.name
        # every figure of the source survives unchanged and in order; only page numbers go
        body = "\n".join(line for line in raw.splitlines() if not line.strip().isdigit())
        assert _NUMBER.findall(once) == _NUMBER.findall(body), path.name
        assert len(_NUMBER.findall(body)) < len(_NUMBER.findall(raw)) or path.name.startswith("002")


_ALPHABET = st.sampled_from(
    list("aăâeêoôơuưy hoà thuỷ quý 0123456789.,;:%/-|+*•()\n\n \t\r")
    + ["\u0301", "\u0300", "\u0309", "\u0323", "\u0303", "\u00a0", "\ufeff", "\x00", "\f", "Ủ", "Đ", "\ud7ff"]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_ALPHABET, max_size=80).map("".join))
def test_idempotent_and_never_crashes_on_vietnamese_like_text(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_idempotent_and_never_crashes_on_any_string(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["Báo cáo số 5.676", "hồ sơ trực tuyến", "1. Về pháp lý", "- Chủ trì;",
                                 "TỔNG HỢP", "đạt 19,95 %.", "02-", "KH/BCĐ", "", " ", "7", "Minh", "17/40"]),
                max_size=25).map("\n".join))
def test_idempotent_on_report_like_lines(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once
