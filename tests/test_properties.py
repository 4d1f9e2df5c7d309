"""Property tests for the number parser and the normalizer: any Unicode string is survivable,
normalization is idempotent, a formatted number parses back to itself, and dates or document
numbers never become values. Example counts stay modest so the suite stays fast."""

from __future__ import annotations

import math
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commune_metrics.core.document import RawDocument, RawPage
from commune_metrics.extract.numbers import find_numbers, parse_number
from commune_metrics.readers.normalize import normalize, normalize_text

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text that looks like the reports: Vietnamese letters, digits, punctuation used in figures,
# line breaks and page furniture, mixed with arbitrary Unicode.
VI_LETTERS = "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
REPORT_ALPHABET = VI_LETTERS + VI_LETTERS.upper() + "0123456789 .,;:/%-()\n\t\u00a0\u200b\ufeff\u0301\u0303"
report_text = st.text(alphabet=REPORT_ALPHABET, max_size=300)
any_text = st.text(max_size=300)


def vn_int(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def vn_decimal(n: int, cents: int) -> str:
    return f"{vn_int(n)},{cents:02d}"


# -- never crash ---------------------------------------------------------------------------

@FAST
@given(st.one_of(any_text, report_text))
def test_normalize_text_never_raises(text: str) -> None:
    assert isinstance(normalize_text(text), str)


@FAST
@given(st.lists(st.one_of(any_text, report_text), min_size=1, max_size=4), st.booleans())
def test_normalize_document_keeps_a_consistent_page_map(pages: list[str], paginated: bool) -> None:
    doc = normalize(RawDocument("x.pdf", "0" * 64, "pdf", [RawPage(p) for p in pages], paginated=paginated))
    previous_end = 0
    for span in doc.pages:
        assert 0 <= span.start <= span.end <= len(doc.text)
        assert span.start >= previous_end
        previous_end = span.end
    for offset in (0, len(doc.text) // 2, max(0, len(doc.text) - 1)):
        page = doc.page_at(offset)
        assert page is None or 1 <= page <= len(pages)


@FAST
@given(st.one_of(any_text, report_text))
def test_find_numbers_never_raises_and_spans_are_inside(text: str) -> None:
    for m in find_numbers(text):
        assert 0 <= m.start < m.end <= len(text)
        assert math.isfinite(m.value) and m.value >= 0
        assert m.text == text[m.start:m.end]


@FAST
@given(any_text)
def test_parse_number_never_raises(token: str) -> None:
    value = parse_number(token)
    assert value is None or (math.isfinite(value) and value >= 0)


# -- idempotence ---------------------------------------------------------------------------

@FAST
@given(st.one_of(any_text, report_text))
def test_normalization_is_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


# -- round trips ---------------------------------------------------------------------------

@FAST
@given(st.integers(min_value=0, max_value=10**12))
def test_formatted_integer_parses_back(n: int) -> None:
    assert parse_number(vn_int(n)) == n


@FAST
@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=99))
def test_formatted_decimal_parses_back(n: int, cents: int) -> None:
    assert math.isclose(parse_number(vn_decimal(n, cents)), n + cents / 100, rel_tol=1e-12)


@FAST
@given(st.integers(min_value=13, max_value=10**9).filter(lambda n: not 1900 <= n <= 2100))
def test_count_in_a_sentence_is_found_with_its_value(n: int) -> None:
    text = f"Tổng số hồ sơ tiếp nhận là {vn_int(n)} hồ sơ."
    values = [m.value for m in find_numbers(normalize_text(text))]
    assert values == [n]


@FAST
@given(st.integers(min_value=0, max_value=100), st.integers(min_value=0, max_value=99))
def test_percentage_is_found_with_its_value(n: int, cents: int) -> None:
    text = f"Tỷ lệ hồ sơ trực tuyến đạt {vn_decimal(n, cents)}%."
    mentions = find_numbers(normalize_text(text))
    assert len(mentions) == 1 and mentions[0].unit == "percent"
    assert math.isclose(mentions[0].value, n + cents / 100, rel_tol=1e-12)


# -- never a value -------------------------------------------------------------------------

dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2035, 12, 31))


@FAST
@given(dates, st.sampled_from(["ngày {d}/{m}/{y}", "ngày {d} tháng {m} năm {y}", "{d}/{m}/{y}",
                               "tháng {m}/{y}", "năm {y}", "đến hết ngày {d}/{m}"]))
def test_dates_are_never_values(day, form: str) -> None:
    written = form.format(d=f"{day.day:02d}" if day.day < 10 and "/" in form else day.day,
                          m=day.month, y=day.year)
    text = normalize_text(f"Báo cáo kết quả {written}, đơn vị đã triển khai.")
    assert find_numbers(text) == [], (written, find_numbers(text))


@FAST
@given(st.integers(min_value=1, max_value=9999),
       st.sampled_from(["Quyết định số {n}/QĐ-UBND", "Số: {n}/BC-UBND", "Kế hoạch số {n}-KH/BCĐTW",
                        "Công văn số {n}/UBND-VP", "Nghị quyết số {n}/NQ-CP",
                        "Thông tư số {n}/2024/TT-BTTTT"]))
def test_document_numbers_are_never_values(n: int, form: str) -> None:
    text = normalize_text(f"Căn cứ {form.format(n=n)} của cấp trên, xã triển khai thực hiện.")
    assert find_numbers(text) == [], (text, find_numbers(text))
