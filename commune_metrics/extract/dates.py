"""Dates in commune reports: the issue date, the reporting period and the as-of date.

Issue date: the place-date line under the national motto, "Minh Long, ngày 05 tháng 8 năm 2025".
A blank day ("ngày    tháng 10 năm 2025", left for the signer to fill in) gives None.

Reporting period. Every phrase that can name a period becomes a candidate with a score; the
best candidate wins (ties: the one repeated most, then the earliest). Decisions:
- An explicit range "từ ngày 01/7/2025 đến ngày 25/9/2025" is the strongest phrase; stronger
  still with "tính", inside parentheses, in the title block or in the closing "Trên đây là báo cáo".
- "quý III/2025" is the quarter, "6 tháng đầu năm 2025" January-June, "6 tháng cuối năm" July-
  December, "9 tháng đầu năm" January-September.
- "tháng 7/2025", "tháng 7 năm 2025" is the whole month (1st to last day). A month written
  without a year ("Trong 01 tháng (tháng 7)") counts only in a period context (in parentheses or
  after "trong"), and takes the document's year (issue date, else the most frequent year).
- "tính đến hết tháng 7/2025" is read as the report on that month: period = the whole month and
  as-of = its last day. (The communes of the 2025 list started work on 01/7/2025, so for the
  reports of that year "up to the end of July" and "July" are the same span; the gold encodes it
  so.)
- A report whose title line ends with "năm 2025" (and not "tháng 10 năm 2025", "quý III năm
  2025") covers the whole year; a month or quarter named in that title still wins.
- "tính đến ngày 15/9/2025" / "đến hết ngày ..." is only an as-of date, never a period: it
  dates a stock (staff in post), not a flow.
- "từ ngày 01/7/2025 đến nay" runs to the issue date; it is weak (often a side remark).
- Dates are validated: "28/7/205" (a typo) or 31/2 are rejected, never raised.
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date

MIN_YEAR, MAX_YEAR = 1990, 2100

# "01/7/2025", "01-7-2025", "01.7.2025", "01 tháng 7 năm 2025" (one capture group each, parsed by _parse)
_DMY = r"(\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*\d{2,4}(?!\d)|\d{1,2}\s+tháng\s+\d{1,2}\s+năm\s+\d{2,4}(?!\d))"
_DM_OR_DMY = (
    r"(\d{1,2}\s*[/.-]\s*\d{1,2}(?:\s*[/.-]\s*\d{2,4})?(?![\d/.-])"
    r"|\d{1,2}\s+tháng\s+\d{1,2}(?:\s+năm\s+\d{2,4})?)"
)

_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}


def make_date(day: int | str, month: int | str, year: int | str) -> date | None:
    """A valid date or None (bad day/month, or a year outside 1990-2100 such as "205")."""
    try:
        d, m, y = int(day), int(month), int(year)
    except (TypeError, ValueError):
        return None
    if 0 <= y < 100 and len(str(year).strip()) == 2:
        y += 2000  # "01/7/25"
    if not MIN_YEAR <= y <= MAX_YEAR:
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None


def month_span(month: int, year: int) -> tuple[date, date] | None:
    if not (1 <= month <= 12 and MIN_YEAR <= year <= MAX_YEAR):
        return None
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _parse(written: str | None, default_year: int | None = None) -> date | None:
    """Date from "01/7/2025" or "01 tháng 7 năm 2025"; "01/7" takes `default_year`."""
    if not written:
        return None
    nums = re.findall(r"\d+", written)
    if len(nums) == 3:
        return make_date(*nums)
    if len(nums) == 2 and default_year:
        return make_date(nums[0], nums[1], default_year)
    return None


# ---------------------------------------------------------------- issue date

_PLACE_DATE = re.compile(
    r"((?:[^\W_][\w'’]*[ \t]+){0,5}[^\W_][\w'’]*)[ \t]*,[ \t]*ngày[ \t]*(\d{1,2})?[ \t]*"
    r"tháng[ \t]*(\d{1,2})[ \t]*năm[ \t]*(\d{4})",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PlaceDate:
    place: str
    issued_on: date | None
    start: int  # offset of the place name


def _place_name(words: str) -> str | None:
    """The trailing place name: "Minh Long" from "Số: /BC-UBND Minh Long", "A Lưới 5", "Cư M’ta"."""
    tokens = words.split()
    letters = "".join(ch for ch in words if ch.isalpha())
    if letters.isupper() and len(letters) > 1:  # an upper-case line: keep it all ("MINH LONG")
        kept = tokens
    else:
        kept = []
        for tok in reversed(tokens):
            titled = tok[:1].isupper() and (len(tok) == 1 or not tok.isupper())
            if not (titled or tok.isdigit()):
                break
            kept.insert(0, tok)
    while kept and not kept[0][:1].isalpha():
        kept = kept[1:]
    return " ".join(kept) or None


def find_place_date(text: str, head_chars: int = 3000) -> PlaceDate | None:
    """The "X, ngày .. tháng .. năm ...." line: searched in the head, then in the tail."""
    tail_start = max(0, len(text) - head_chars)
    for region_start, region in ((0, text[:head_chars]), (tail_start, text[tail_start:])):
        for m in _PLACE_DATE.finditer(region):
            place = _place_name(m.group(1))
            if not place:
                continue
            issued = make_date(m.group(2), m.group(3), m.group(4)) if m.group(2) else None
            return PlaceDate(place=place, issued_on=issued, start=region_start + m.start(1))
    return None


def document_year(text: str, issued_on: date | None = None) -> int | None:
    """The year a month without a year refers to: the issue year, else the most frequent year."""
    if issued_on:
        return issued_on.year
    years = Counter(
        int(y) for y in re.findall(r"(?<!\d)\d{1,2}\s*/\s*\d{1,2}\s*/\s*(\d{4})(?!\d)", text)
        if MIN_YEAR <= int(y) <= MAX_YEAR
    )
    years.update(int(y) for y in re.findall(r"năm\s+(\d{4})(?!\d)", text) if MIN_YEAR <= int(y) <= MAX_YEAR)
    return years.most_common(1)[0][0] if years else None


# ---------------------------------------------------------------- period


@dataclass(frozen=True)
class Period:
    start: date | None = None
    end: date | None = None
    as_of: date | None = None


@dataclass(frozen=True)
class _Candidate:
    score: float
    start: date
    end: date | None
    pos: int


_RANGE = re.compile(
    rf"(tính\s+)?từ\s+(?:ngày\s+)?{_DM_OR_DMY}\s*(?:đến|tới|-|–)\s*(?:hết\s+)?(?:ngày\s+)?{_DMY}",
    re.IGNORECASE,
)
_RANGE_TO_NOW = re.compile(rf"(tính\s+)?từ\s+(?:ngày\s+)?{_DMY}\s*(?:đến|tới)\s+nay", re.IGNORECASE)
# Roman numerals as OCR reads them too: "IIl", "Il" (a lower-case L or a bar for I).
_QUARTER = re.compile(r"quý\s+([IVl|]{1,3}|[1-4])\s*(?:/|năm|-)\s*(\d{4})", re.IGNORECASE)
_HALF = re.compile(
    r"(6|sáu|9|chín)\s+tháng\s+(đầu|cuối)\s+năm\s*(\d{4})?", re.IGNORECASE
)
_UNTIL_END_OF_MONTH = re.compile(
    r"(?:tính\s+)?đến\s+hết\s+tháng\s+(\d{1,2})(?:\s*(?:/|-|năm)\s*(\d{4}))?", re.IGNORECASE
)
# "tháng 7/2025", "tháng 7 năm 2025"; not the month of a full date ("ngày 05 tháng 8 năm 2025").
_MONTH_YEAR = re.compile(r"\btháng\s+(\d{1,2})\s*(?:/|-|năm)\s*(\d{4})(?!\d)", re.IGNORECASE)
# Month without a year, only in a period context: "(tháng 7)", "trong tháng 7".
_MONTH_NO_YEAR = re.compile(
    r"(?:\(\s*tháng\s+(\d{1,2})\s*\)|\btrong\s+tháng\s+(\d{1,2})(?!\s*(?:/|-|năm)\s*\d))", re.IGNORECASE
)
# An annual report: its title line (right under "BÁO CÁO") ends with "năm 2025". Not when the year
# closes a month, quarter or half-year ("tháng 10 năm 2025", "quý III năm 2025", "6 tháng đầu năm").
_REPORT_TITLE = re.compile(r"^[ \t]*BÁO CÁO\b[^\n]*\n?([^\n]*)", re.MULTILINE)
_TITLE_YEAR = re.compile(
    r"(?<!tháng)(?<!đầu)(?<!cuối)(?<![\dIVXl])\s+năm\s+(\d{4})\s*[.;:)]?\s*$", re.IGNORECASE
)
_AS_OF = re.compile(rf"(?:tính\s+)?đến\s+(?:hết\s+)?ngày\s+{_DMY}", re.IGNORECASE)
_DAY_BEFORE_MONTH = re.compile(r"ngày\s*\d{0,2}\s*$", re.IGNORECASE)


def _context_bonus(text: str, start: int, end: int, title_chars: int) -> float:
    bonus = 0.0
    if start < title_chars:
        bonus += 2
    before = text[max(0, start - 120) : start].lower()
    if "(" in text[max(0, start - 3) : start + 1] and ")" in text[end : end + 3]:
        bonus += 1
    sentence = re.split(r"[.;:!?]\s|\n", before)[-1]
    if "trên đây là" in sentence or "kỳ báo cáo" in sentence:  # the closing line names the period
        bonus += 1
    return bonus


def find_period(
    text: str, issued_on: date | None = None, title_chars: int = 800
) -> Period:
    """Reporting period and as-of date of a report (see the module docstring for the rules)."""
    cands: list[_Candidate] = []
    range_spans: list[tuple[int, int]] = []
    as_of: date | None = None
    year = None  # computed lazily: only months without a year need it

    def add(score: float, start: date | None, end: date | None, m: re.Match[str]) -> None:
        if start is None or (end is not None and end < start):
            return
        bonus = _context_bonus(text, m.start(), m.end(), title_chars)
        cands.append(_Candidate(score + bonus, start, end, m.start()))

    for m in _RANGE.finditer(text):
        end = _parse(m.group(3))
        # "từ ngày 01/7 đến ngày 25/9/2025": the start takes the end's year
        start = _parse(m.group(2), end.year if end else None)
        add(5 + (1 if m.group(1) else 0), start, end, m)
        range_spans.append(m.span())
    for m in _RANGE_TO_NOW.finditer(text):
        add(2 + (1 if m.group(1) else 0), _parse(m.group(2)), issued_on, m)
    for m in _QUARTER.finditer(text):
        q = _ROMAN.get(re.sub(r"[l|]", "i", m.group(1)).lower())
        if q is None:
            continue
        y = int(m.group(2))
        span_start = month_span(3 * q - 2, y)
        span_end = month_span(3 * q, y)
        if span_start and span_end:
            add(4, span_start[0], span_end[1], m)
    for m in _HALF.finditer(text):
        y = int(m.group(3)) if m.group(3) else (year := year or document_year(text, issued_on))
        if not y:
            continue
        months = 6 if m.group(1).lower() in ("6", "sáu") else 9
        first = 1 if m.group(2).lower() == "đầu" else 13 - months
        a, b = month_span(first, y), month_span(first + months - 1, y)
        if a and b:
            add(4, a[0], b[1], m)
    for m in _UNTIL_END_OF_MONTH.finditer(text):
        y = int(m.group(2)) if m.group(2) else (year := year or document_year(text, issued_on))
        span = month_span(int(m.group(1)), y) if y else None
        if span:
            add(4, span[0], span[1], m)
            as_of = as_of or span[1]
    for m in _MONTH_YEAR.finditer(text):
        if _DAY_BEFORE_MONTH.search(text[max(0, m.start() - 12) : m.start()]):
            continue
        span = month_span(int(m.group(1)), int(m.group(2)))
        if span:
            add(3, span[0], span[1], m)
    for m in _MONTH_NO_YEAR.finditer(text):
        y = year = year or document_year(text, issued_on)
        span = month_span(int(m.group(1) or m.group(2)), y) if y else None
        if span:
            add(2, span[0], span[1], m)
    title = _REPORT_TITLE.search(text[:3000])
    if title:
        m = _TITLE_YEAR.search(title.group(0))
        if m and int(m.group(1)) in range(MIN_YEAR, MAX_YEAR + 1):
            y = int(m.group(1))
            cands.append(_Candidate(4 + 2, date(y, 1, 1), date(y, 12, 31), title.start()))
    for m in _AS_OF.finditer(text):
        if any(a <= m.start() < b for a, b in range_spans):
            continue  # the end of a range is not an as-of date
        as_of = as_of or _parse(m.group(1))

    if not cands:
        return Period(as_of=as_of)
    repeats = Counter((c.start, c.end) for c in cands)
    best = max(cands, key=lambda c: (c.score, repeats[(c.start, c.end)], -c.pos))
    return Period(start=best.start, end=best.end, as_of=as_of)
