"""Numbers as Vietnamese reports write them, and the numbers that are not metric values.

Written forms: "5.676" (thousands dots), "19,95" / "90,16 %" (decimal comma), "02" (leading
zero), "17/40" (a ratio: part and whole), money ("500 triệu đồng", "1,2 tỷ đồng",
"300.000.000 đồng", "1 tỷ 200 triệu đồng") in VND, and the qualifier in front or behind
("hơn", "ít nhất", "từ ... trở lên", "dưới", "không quá", "khoảng"...).

Never values: dates ("01/7/2025", "ngày 25/9", "tháng 7", "năm 2025", "7/2025"), document
numbers ("Quyết định số 651/QĐ-UBND", "02-KH/BCĐTW", "Số: 12/BC-UBND", "Đề án 06"), heading
and list numbering ("2.1.", "3)"), versions ("2.0"), timestamps, and footnote digits glued to a
word ("điều hành1").

This is the grammar of numbers, so it lives in code; what the numbers mean (cue phrases) lives
in rules/metrics.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import regex

# A number token: thousands groups with dots, optional decimal comma. The look-arounds refuse
# digits glued to letters (footnote marks "hành1", codes "A4") and pieces of longer codes.
_NUM = r"(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?"
_TOKEN = regex.compile(rf"(?<![\p{{L}}\p{{N}}_.,/\-:+]){_NUM}(?![\p{{L}}\p{{N}}_])")

_MONEY_SCALE = {"tỷ": 1e9, "tỉ": 1e9, "triệu": 1e6, "nghìn": 1e3, "ngàn": 1e3}
_MONEY_AFTER = regex.compile(
    r"\s*(?P<scale>tỷ|tỉ|triệu|nghìn|ngàn)?"
    r"(?:\s+(?P<num2>" + _NUM + r")\s*(?P<scale2>triệu|nghìn|ngàn))?"
    r"\s*(?P<cur>đồng(?!\s+chí)|VNĐ|VND|vnđ|vnd|đ)?(?![\p{L}])",
    regex.IGNORECASE,
)
_PERCENT_AFTER = regex.compile(r"\s*(?:%|phần\s+trăm(?![\p{L}]))", regex.IGNORECASE)
_RATIO_AFTER = regex.compile(
    r"(?:\s*/\s*(?:tổng\s+số\s+)?|\s+(?:trên(?:\s+tổng\s+số)?|trong\s+(?:tổng\s+)?số)\s+)"
    # the whole may end a sentence ("... đạt/tổng số: 10/12."), but not continue as a decimal,
    # a date or a code ("10/12,5", "10/12/2025", "10/12.3")
    r"(" + _NUM + r")(?![\p{L}\p{N}_/%]|[,.]\d)"
)

# Document types whose name alone before a number makes it a reference ("Đề án 06", "Kế hoạch 02").
_DOC_TYPES = (
    r"quyết\s+định|kế\s+hoạch|công\s+văn|nghị\s+quyết|nghị\s+định|kết\s+luận|thông\s+tư|chỉ\s+thị|"
    r"đề\s+án|tờ\s+trình|thông\s+tri|luật|điều|khoản|phụ\s+lục|biểu|mẫu"
)
# Words that are a reference only with "số": "báo cáo số 12", "chương trình số 3".
_DOC_TYPES_WITH_SO = (
    r"chương\s+trình|báo\s+cáo|thông\s+báo|hướng\s+dẫn|quy\s+định|văn\s+bản|dự\s+án|quy\s+chế|mục|"
    r"tiêu\s+chí|giấy\s+phép|hợp\s+đồng"
)
# "Quyết định số 651", "Đề án 06", "Số: 12", "Nghị định 178"
_DOC_REF_BEFORE = regex.compile(
    rf"(?:(?<![\p{{L}}])(?:{_DOC_TYPES})\s*(?:số\s*)?|(?<![\p{{L}}])(?:{_DOC_TYPES_WITH_SO})\s+số\s*"
    rf"|(?:^|\n)[ \t]*số\s*:\s*|(?<![\p{{L}}])số\s+(?=\d+\s*[/\-]))$",
    regex.IGNORECASE,
)
# "651/QĐ-UBND", "02-KH/BCĐTW", "02- KH", "178/NĐ-CP", "206/QĐTTg"
_DOC_CODE_AFTER = regex.compile(r"\s?[/\-]\s?\p{Lu}")
_YEAR = regex.compile(r"(?:19|20)\d\d")
_DOT_DECIMAL_PERCENT = regex.compile(r"\.(\d{1,2})(?=\s?%)")
_DIGITS = regex.compile(r"\d+")
_LIST_GOES_ON = regex.compile(r"\s*(?:,|và|&|hoặc)\s*\d{1,2}(?!\d)")  # "thứ 2, 4": more list items follow
_DATE_AFTER = regex.compile(
    r"/\d{1,2}/\d{2,4}|/\d{4}(?!\d)|-\d{1,2}-\d{2,4}|-\d{2}T|:\d\d|\s?[-–]\s?(?:19|20)\d\d(?!\d)"
)
_HEADING_BEFORE = regex.compile(r"(?:^|\n)[ \t]*(?:[-+*•]\s*)?(?:\(?\d{1,2}(?:\.\d{1,2})*)?$")
_HEADING_AFTER = regex.compile(r"(?:\.\d{1,2})*(?:\.|\))(?=\s|$)")

# Qualifiers written before a value; longest phrases first so "không dưới" wins over "dưới".
_QUALIFIERS_BEFORE: tuple[tuple[str, str], ...] = (
    ("không vượt quá", "lte"), ("không quá", "lte"), ("tối đa", "lte"), ("nhiều nhất", "lte"),
    ("không dưới", "gte"), ("không ít hơn", "gte"), ("ít nhất", "gte"), ("tối thiểu", "gte"),
    ("ước khoảng", "approx"), ("ước đạt", "approx"), ("ước tính", "approx"), ("xấp xỉ", "approx"),
    ("khoảng", "approx"), ("gần", "approx"), ("ước", "approx"), ("chừng", "approx"),
    ("cao hơn", "gt"), ("nhiều hơn", "gt"), ("hơn", "gt"), ("trên", "gt"), ("vượt", "gt"),
    ("chưa đến", "lt"), ("chưa tới", "lt"), ("ít hơn", "lt"), ("dưới", "lt"),
)
_QUAL_BEFORE = regex.compile(
    r"(?<![\p{L}])(?P<q>" + "|".join(regex.escape(p).replace(r"\ ", r"\s+") for p, _ in _QUALIFIERS_BEFORE)
    + r")\s*$",
    regex.IGNORECASE,
)
_QUAL_LOOKUP = {p: q for p, q in _QUALIFIERS_BEFORE}
_QUAL_AFTER = regex.compile(
    r"\s*(?:[\p{L}\s]{0,30}?\s)?(?P<q>trở\s+lên|trở\s+xuống)(?![\p{L}])", regex.IGNORECASE
)


@dataclass(frozen=True)
class NumberMention:
    """One value written in the text. A ratio "17/40" is one mention with `whole` set."""

    start: int  # span of the written value ("17/40", "90,16 %", "500 triệu đồng")
    end: int
    value: float
    unit: str | None  # "percent", "vnd" or None (a plain count)
    qualifier: str = "eq"
    whole: float | None = None  # the 40 of "17/40"
    text: str = ""
    lead: int = -1  # where the qualifier words begin (== start when there are none)
    year_like: bool = False  # "2027": a year unless a noun follows ("2027 hồ sơ")

    @property
    def is_ratio(self) -> bool:
        return self.whole is not None

    @property
    def begin(self) -> int:
        """Where the value's written words begin: its qualifier ("hơn", "gần") or else its digits."""
        return self.lead if self.lead >= 0 else self.start


def parse_number(token: str) -> float | None:
    """'5.676' -> 5676, '19,95' -> 19.95, '02' -> 2; None if it is not a Vietnamese number."""
    token = token.strip()
    if not regex.fullmatch(_NUM, token):
        return None
    whole, _, frac = token.partition(",")
    value = float(whole.replace(".", ""))
    if frac:
        value += float("0." + frac)
    return value


def _clause_before(text: str, start: int) -> str:
    """The text of the clause before `start` (back to ; . or a line break, at most 80 chars)."""
    window = text[max(0, start - 80) : start]
    cut = max(window.rfind(";"), window.rfind(". "), window.rfind("\n"))
    return window[cut + 1 :]


def _qualifier(text: str, start: int, end: int) -> tuple[str, int]:
    window = text[max(0, start - 30) : start]
    m = _QUAL_BEFORE.search(window)
    if m:
        q = _QUAL_LOOKUP.get(regex.sub(r"\s+", " ", m.group("q").lower()), "eq")
        return q, start - (len(window) - m.start("q"))
    after = _QUAL_AFTER.match(text, end, min(len(text), end + 40))
    if after:
        return ("gte" if "lên" in after.group("q").lower() else "lte"), start
    return "eq", start


def _default_grammar() -> Any:
    from commune_metrics.extract.rules import get_rules  # the words are data (rules/grammar.yaml)

    return get_rules().grammar


def _is_not_a_value(text: str, start: int, end: int, token: str, g: Any, has_unit: bool = False) -> bool:
    line_start = text.rfind("\n", 0, start) + 1
    before = text[max(line_start, start - 40) : start]
    after = text[end : end + 12]
    if _DATE_AFTER.match(after) or _DOC_CODE_AFTER.match(after):
        return True
    if regex.match(r"\.\d", after):  # "2.0", "2.1.3": versions and section numbers
        return True
    if before.endswith("[") and after.startswith("]"):  # "27/12/2025[1]": a footnote mark
        return True
    if g.page_counter.fullmatch(text, line_start, start):
        line_end = text.find("\n", end)
        if not text[end : line_end if line_end >= 0 else len(text)].strip():
            return True  # "Đang online: 94" alone on its line: a portal's visitor counter
    if has_unit:  # "đợt 2" is a name, "đợt này 500 triệu đồng" is money: a unit settles it
        return False
    if _DOC_REF_BEFORE.search(before):
        return True
    name = g.name_before.search(before)
    if name and any(c.isdigit() for c in name.group(0)) and len(token.replace(".", "")) > 2:
        name = None  # "mức độ 3 và 410 hồ sơ": a list of levels holds small numbers, not 410
    time = g.time_before.search(before)
    listed = len(_DIGITS.findall(time.group(0))) if time else 0
    if listed and (len(token.replace(".", "")) > 2 or (listed == 1 and not _LIST_GOES_ON.match(after))):
        # "thứ 2, 4, 6" is a list of days; "tháng 7, 300 hồ sơ" and "trong tháng 7, 12 hồ sơ"
        # are a month and then a count
        time = None
    if time or name or g.proper_name_before.search(before):
        return True
    if regex.match(r"[-/]\d{1,2}(?![\d/])", after) and g.time_of_day.search(before):
        return True  # "sáng 13-10": a day and a month
    if _HEADING_BEFORE.search(before) and _HEADING_AFTER.match(after):
        return True  # "1.", "2.1.", "3)" opening a line
    if regex.match(r"\)\s", after) and regex.search(r"(?:^|\n|[:;.]\s)\s*$", before) and "(" not in before:
        return True  # "... gồm: 1) ..., 2) ..." enumeration
    return False


def find_numbers(text: str, start: int = 0, end: int | None = None, g: Any = None) -> list[NumberMention]:
    """Every value mention in text[start:end], in order; spans are offsets into `text`. `g` is the
    compiled grammar (rules/grammar.yaml; the process's default when not given)."""
    end = len(text) if end is None else end
    g = g or _default_grammar()
    out: list[NumberMention] = []
    pos = start
    while True:
        m = _TOKEN.search(text, pos, end)
        if not m:
            break
        s, e = m.span()
        token = m.group(0)
        pos = e
        value = parse_number(token)
        if value is None:
            continue
        dot = _DOT_DECIMAL_PERCENT.match(text, e, end)
        if dot and "," not in token and "." not in token:
            # "96.8%": a point before one or two digits and a percent sign is a decimal point (a
            # thousands point takes three digits), as some reports write it
            value += float("0." + dot.group(1))
            e = dot.end()
            token = text[s:e]
            pos = e
        ratio = _RATIO_AFTER.match(text, e, end)
        if ratio:
            whole = parse_number(ratio.group(1))
            before = text[max(0, s - 20) : s]
            looks_like_date = (
                whole is not None
                and 1 <= value <= 31
                and 1 <= whole <= 12
                and g.time_of_day.search(before)
            )
            whole_token = ratio.group(1)
            if (
                looks_like_date
                or _DATE_AFTER.match(text, ratio.end(), end)
                or (_YEAR.fullmatch(whole_token) and value <= 12)
                or g.time_before.search(before)
            ):
                pos = ratio.end()
                continue
            if _DOC_CODE_AFTER.match(text, ratio.end(), end) or _DOC_REF_BEFORE.search(before):
                pos = ratio.end()
                continue
            qual, lead = _qualifier(text, s, ratio.end())
            out.append(NumberMention(s, ratio.end(), value, None, qual, whole, text[s : ratio.end()], lead))
            pos = ratio.end()
            continue
        pct = _PERCENT_AFTER.match(text, e, end)
        money = _MONEY_AFTER.match(text, e, end)
        scale_word = (money.group("scale") or "").lower() if money else ""
        # "triệu"/"tỷ" alone multiply: money only with a currency word, or with a money word
        # earlier in the clause ("kinh phí ... 500 triệu"); "3,5 triệu người" counts people
        is_money = bool(money) and bool(money.group("cur") or (
            scale_word in ("tỷ", "tỉ", "triệu") and g.money_before.search(_clause_before(text, s))))
        has_unit = bool(pct) or is_money
        if _is_not_a_value(text, s, e, token, g, has_unit):
            continue
        unit: str | None = None
        stop = e
        if pct:
            unit, stop = "percent", pct.end()
        else:
            if money and is_money:
                value = value * _MONEY_SCALE.get(scale_word, 1.0)
                if money.group("num2"):
                    extra = parse_number(money.group("num2")) or 0.0
                    value += extra * _MONEY_SCALE[money.group("scale2").lower()]
                unit, stop = "vnd", money.end()
            elif money and scale_word:  # "1,5 nghìn hồ sơ", "3,5 triệu người": a count in thousands
                value = value * _MONEY_SCALE[scale_word]
                stop = e + len(text[e:].split(money.group("scale"), 1)[0]) + len(money.group("scale"))
        qual, lead = _qualifier(text, s, stop)
        year_like = unit is None and "." not in token and "," not in token and bool(_YEAR.fullmatch(token))
        out.append(NumberMention(s, stop, value, unit, qual, None, text[s:stop], lead, year_like))
        pos = stop
    return out
