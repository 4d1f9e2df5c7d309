"""Vietnamese number writing: what parses as a value, and what must not."""

from __future__ import annotations

import pytest

from commune_metrics.extract.numbers import find_numbers, parse_number


@pytest.mark.parametrize(
    ("token", "value"),
    [("5.676", 5676), ("1.117", 1117), ("19,95", 19.95), ("90,16", 90.16), ("01", 1), ("02", 2),
     ("300.000.000", 300_000_000), ("1117", 1117), ("abc", None), ("5.67", None)],
)
def test_parse_number(token: str, value: float | None) -> None:
    assert parse_number(token) == value


def _values(text: str) -> list[tuple[float, str | None, str, float | None]]:
    return [(m.value, m.unit, m.qualifier, m.whole) for m in find_numbers(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tổng số hồ sơ tiếp nhận là 5.676 hồ sơ", [(5676, None, "eq", None)]),
        ("trực tiếp 19,95%, trực tuyến 80,05 % thủ tục", [(19.95, "percent", "eq", None),
                                                        (80.05, "percent", "eq", None)]),
        ("chiếm tỷ lệ 90,16 % (trong kỳ)", [(90.16, "percent", "eq", None)]),
        ("đúng hạn là 02; rút hồ sơ là 08)", [(2, None, "eq", None), (8, None, "eq", None)]),
        ("17/40 máy tính", [(17, None, "eq", 40)]),
        ("số tiêu chí đạt/tổng số tiêu chí: 10/12.", [(10, None, "eq", 12)]),
        ("đạt 10/12. Sau đó", [(10, None, "eq", 12)]),
        ("ước khoảng 500 triệu đồng", [(500_000_000, "vnd", "approx", None)]),
        ("1,2 tỷ đồng", [(1_200_000_000, "vnd", "eq", None)]),
        ("300.000.000 đồng", [(300_000_000, "vnd", "eq", None)]),
        ("1 tỷ 200 triệu đồng", [(1_200_000_000, "vnd", "eq", None)]),
        ("hơn 95% hồ sơ", [(95, "percent", "gt", None)]),
        ("trên 80% hồ sơ", [(80, "percent", "gt", None)]),
        ("ít nhất 30% tài liệu", [(30, "percent", "gte", None)]),
        ("tối thiểu 80% hồ sơ", [(80, "percent", "gte", None)]),
        ("từ 80% trở lên", [(80, "percent", "gte", None)]),
        ("dưới 10%", [(10, "percent", "lt", None)]),
        ("không quá 5 hồ sơ", [(5, None, "lte", None)]),
        ("tối đa 5 hồ sơ", [(5, None, "lte", None)]),
        ("khoảng 300 hồ sơ", [(300, None, "approx", None)]),
        ("gần 300 hồ sơ", [(300, None, "approx", None)]),
        ("259 đồng chí", [(259, None, "eq", None)]),  # "đồng chí" is a person, not money
        ("1117 hồ sơ/tháng", [(1117, None, "eq", None)]),
    ],
)
def test_values(text: str, expected: list) -> None:
    assert _values(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "ngày 19/6/2025 của Ban Chỉ đạo",
        "từ ngày 01/7/2025",
        "ngày 25/9",
        "Tính đến hết tháng 7/2025",
        "tháng 7",
        "năm 2025",
        "Quyết định số 651/QĐ-UBND",
        "Kế hoạch số 02-KH/BCĐTW",
        "Kế hoạch số 02- KH/BCĐTW",
        "Số: 12/BC-UBND",
        "Nghị định 178/NĐ-CP",
        "Đề án 06 của Chính phủ",
        "quản lý, điều hành1 tại địa phương",
        "Igate 2.0",
        "\n2.1. Cập nhật dữ liệu",
        "\n1) Chủ động rà soát",
        "2025-10-07T14:16:47+0700",
        "giai đoạn 2021-2025",
        "Ủy ban nhân dân xã Tân Phước 1 đã kiện toàn",
        "tại phường 1 Bảo Lộc",
        "thôn 3 và thôn 5",
    ],
)
def test_not_values(text: str) -> None:
    assert find_numbers(text) == []


def test_year_alone_is_flagged_but_a_count_of_that_size_is_kept() -> None:
    (m,) = find_numbers("tiếp nhận 2027 hồ sơ")
    assert m.value == 2027 and m.year_like


def test_spans_point_into_the_text() -> None:
    text = "Tổng nhu cầu kinh phí ước khoảng 500 triệu đồng, trong đó"
    (m,) = find_numbers(text)
    assert text[m.start : m.end] == "500 triệu đồng"
    assert text[m.lead : m.start].strip() == "ước khoảng"
