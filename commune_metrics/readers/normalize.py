"""Turn extracted text into the normalized text every later stage reads.

What extraction leaves behind in these reports, and what we do about it:
- decomposed or oddly ordered diacritics -> Unicode NFC;
- the old tone placement ("hoà", "thuỷ", "uỷ", "khoẻ") -> the modern one ("hòa", "thủy", "ủy",
  "khỏe"), so the same word always has the same spelling for the cue-phrase rules;
- every visual line break -> a paragraph-level line: a line that does not end a sentence continues
  on the next one, unless the next one starts a list item, a numbered heading or a table row (a
  line ending in a colon continues only in lower case or with the number it labels);
- the blank line PDF/Word copy-paste puts after every line is dropped;
- bare page-number lines and running headers/footers are dropped.

Numbers are never split or glued: lines are joined with a single space (or with nothing only when
the line ends in a hyphen glued to a word, as in "02-" + "KH/BCĐTW").

The joining decision only depends on the text accumulated so far for the current output line and on
the next input line, so running the normalizer on its own output changes nothing (idempotence).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from commune_metrics.core.document import Document, PageSpan, RawDocument

# --- character level --------------------------------------------------------------------------

_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # grave, acute, tilde, hook, dot
# Word's symbol-font bullets arrive as private-use code points.
_PUA_BULLETS = {"\uf0b7", "\uf0a7", "\uf076", "\uf0d8", "\uf0fc", "\uf0a8", "\uf06c", "\uf06e"}
_DROP_CHARS = {"\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}
_LINE_BREAKS = {
    "\r\n": "\n", "\r": "\n", "\f": "\n", "\v": "\n", "\u2028": "\n", "\u2029": "\n", "\x85": "\n",
}


def _clean_char(ch: str) -> str:
    if ch == "\n":
        return ch
    if ch in _DROP_CHARS:
        return ""
    if ch in _PUA_BULLETS:
        return "•"
    if ch == "\t":
        return " "
    cat = unicodedata.category(ch)
    if cat == "Zs":
        return " "
    if cat in ("Cc", "Cs", "Co", "Cn"):
        return ""  # controls, lone surrogates, unmapped private use: extraction noise
    return ch


# Each character's cleanup depends on that character alone, so it is worked out once per
# distinct character and applied with str.translate (a page has ~100 distinct characters and
# ~3,000 in all: a loop over every character was a tenth of the pipeline's time).
_CHAR_FIXES: dict[int, str] = {}
_CHARS_SEEN: set[str] = set()


def _clean_chars(text: str) -> str:
    for old, new in _LINE_BREAKS.items():
        text = text.replace(old, new)
    new_chars = set(text) - _CHARS_SEEN
    for ch in new_chars:
        fixed = _clean_char(ch)
        if fixed != ch:
            _CHAR_FIXES[ord(ch)] = fixed
    _CHARS_SEEN.update(new_chars)
    return text.translate(_CHAR_FIXES) if _CHAR_FIXES else text


_COMPOSE_SAFE: dict[str, bool] = {}


def _stays_composed(ch: str) -> bool:
    """True when `ch` comes out of _compose unchanged whatever surrounds it: not a mark (marks
    and Hangul jamo combine with their neighbours) and unchanged on its own."""
    safe = _COMPOSE_SAFE.get(ch)
    if safe is None:
        jamo = "\u1100" <= ch <= "\u11ff" or "\u3130" <= ch <= "\u318f" or "\ua960" <= ch <= "\ua97f" \
            or "\ud7b0" <= ch <= "\ud7ff"
        safe = not jamo and not unicodedata.category(ch).startswith("M") and _compose_slow(ch) == ch
        _COMPOSE_SAFE[ch] = safe
    return safe


def _compose(text: str) -> str:
    """NFC, after putting shape marks (circumflex, breve, horn) before the tone mark.

    Legacy decomposed input sometimes writes the tone first ("e" + acute + circumflex); NFC alone
    would then leave "é" + a stray circumflex instead of "ế".
    """
    # Text already in that form (nearly every PDF page) is returned as is, checked per
    # distinct character instead of decomposing and re-composing every character.
    if all(_stays_composed(ch) for ch in set(text)):
        return text
    return _compose_slow(text)


def _compose_slow(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    if not any(unicodedata.combining(c) for c in decomposed):
        return unicodedata.normalize("NFC", decomposed)
    out: list[str] = []
    marks: list[str] = []
    for ch in decomposed:
        if unicodedata.combining(ch):
            marks.append(ch)
            continue
        if marks:
            out.extend(sorted(marks, key=lambda m: m in _TONE_MARKS))
            marks = []
        out.append(ch)
    if marks:
        out.extend(sorted(marks, key=lambda m: m in _TONE_MARKS))
    return unicodedata.normalize("NFC", "".join(out))


# Letters plus any stray combining marks, so a mark left uncomposed stays with its word.
_WORD = re.compile(r"(?:[^\W\d_]|[\u0300-\u036f])+")
# A word ending in o+a, o+e or u+y where the second vowel carries the tone.
_OLD_TONE_END = re.compile(r"([oOuU])([aAeEyY])([\u0300\u0301\u0303\u0309\u0323])$")


def _modern_tone(word: str) -> str:
    nfd = unicodedata.normalize("NFD", word)
    m = _OLD_TONE_END.search(nfd)
    if not m:
        return word
    first, second, tone = m.group(1), m.group(2), m.group(3)
    pair = (first + second).lower()
    if pair not in ("oa", "oe", "uy"):
        return word
    prefix = nfd[: m.start()]
    if first in "uU" and prefix[-1:] in ("q", "Q"):
        return word  # "qu" is a consonant: "quý" is already right
    if prefix and unicodedata.combining(prefix[-1]):
        return word  # "ươ", "ưa"...: the first vowel is not a bare o/u
    return unicodedata.normalize("NFC", prefix + first + tone + second)


# Where _modern_tone can change a word: o/u, then a/e/y carrying a tone mark, at the word's end.
_MAYBE_OLD_TONE = re.compile(
    "[oOuU](?:[àáảãạèéẻẽẹỳýỷỹỵÀÁẢÃẠÈÉẺẼẸỲÝỶỸỴ]|[aAeEyY][\u0300\u0301\u0303\u0309\u0323])"
    "(?![^\\W\\d_]|[\u0300-\u036f])"
)


# A whole word that ends like that: the only words _modern_tone can change. Substituting just
# these, not every word, keeps re.sub from building a list of every word of the text (on a
# 9 MB text that list was the normalizer's peak: ~150 MB).
_OLD_TONE_WORD = re.compile(
    "(?<![^\\W\\d_])(?<![\u0300-\u036f])(?:[^\\W\\d_]|[\u0300-\u036f])*" + _MAYBE_OLD_TONE.pattern
)


def _fix_tones(text: str) -> str:
    if not _MAYBE_OLD_TONE.search(text):  # most pages: no word to rewrite, skip the per-word pass
        return text
    return _OLD_TONE_WORD.sub(lambda m: _modern_tone(m.group(0)), text)


_SPACES = re.compile(r" {2,}")
_SPACES = re.compile(r" {2,}")
_SPACE_BEFORE_PUNCT = re.compile(r"(?<=[^\W\d_]) +(?=[,;:!?](?:\s|$))")


@dataclass(frozen=True, slots=True)  # slots: one per physical line, ~100 bytes less each
class _Line:
    text: str  # cleaned; "" for a blank line
    page: int = 0  # index into the document's pages
    indented: bool = False  # the raw line started with whitespace


def _clean_line(line: str) -> str:
    line = _SPACES.sub(" ", line.strip())
    return _SPACE_BEFORE_PUNCT.sub("", line)


def _clean_text(text: str, page: int = 0) -> list[_Line]:
    """Character-level cleanup; returns the physical lines, blank ones included."""
    text = _fix_tones(_compose(_clean_chars(text)))
    return [_Line(_clean_line(raw), page, raw[:1] == " ") for raw in text.split("\n")]


def _looks_raw(text: str) -> bool:
    """True when the text still carries layout (blank lines, padded lines) our output never has.

    Only such text may use layout to join lines (see _join), which keeps normalize_text idempotent.
    """
    lines = text.split("\n")
    return any(line != line.strip() or not line or "  " in line for line in lines) or "\r" in text


# --- page furniture ---------------------------------------------------------------------------

_BARE_NUMBER = re.compile(r"\d{1,3}")
_PAGE_LABEL = re.compile(
    r"(?:-\s*\d{1,4}\s*-|[–—]\s*\d{1,4}\s*[–—]|(?:trang|page)\s*\d{1,4}(?:\s*(?:/|of|trên)\s*\d{1,4})?)",
    re.IGNORECASE,
)


def _drop_page_numbers(lines: list[_Line]) -> list[_Line]:
    """Drop page-number lines and blank lines.

    "- 3 -" and "Trang 3" always go. A bare "3" goes when it sits at the edge of the text (page
    top/bottom) or next to a blank line (how a page break looks in copied text); a bare number
    inside running text ("... kinh phí\\n500\\ntriệu đồng") is a figure and stays.
    """
    keep: list[_Line] = []
    n = len(lines)
    for i, line in enumerate(lines):
        if not line.text:
            continue
        if _PAGE_LABEL.fullmatch(line.text):
            continue
        if _BARE_NUMBER.fullmatch(line.text):
            before_blank = i > 0 and not lines[i - 1].text
            after_blank = i + 1 < n and not lines[i + 1].text
            if before_blank or after_blank:
                continue
        keep.append(line)
    while keep and _BARE_NUMBER.fullmatch(keep[0].text):
        keep.pop(0)
    while keep and _BARE_NUMBER.fullmatch(keep[-1].text):
        keep.pop()
    return keep


def _furniture_key(line: str) -> str:
    return re.sub(r"\d+", "#", line.lower())


def _running_lines(pages: list[list[_Line]], edge: int = 2) -> set[str]:
    """Keys of lines that appear at the top or bottom of most pages (running headers/footers)."""
    if len(pages) < 3:
        return set()
    counts: Counter[str] = Counter()
    for lines in pages:
        edges = lines[:edge] + lines[-edge:]
        counts.update({_furniture_key(line.text) for line in edges})
    need = max(3, math.ceil(len(pages) * 0.6))
    return {key for key, c in counts.items() if c >= need}


def _drop_running_lines(lines: list[_Line], keys: set[str], edge: int = 2) -> list[_Line]:
    """Peel furniture off both ends of a page; a line further in only goes when the ones
    outside it went, so a repeated body line ("- Chủ trì thực hiện: ...") is never touched."""
    if not keys:
        return lines
    start, end = 0, len(lines)
    while start < min(edge, end) and _furniture_key(lines[start].text) in keys:
        start += 1
    while end > max(start, len(lines) - edge) and _furniture_key(lines[end - 1].text) in keys:
        end -= 1
    return lines[start:end]


# --- joining lines ----------------------------------------------------------------------------

_LIST_ITEM = re.compile(r"[-+*•–—●○▪■□◦✓➢►]")
_HEADING = re.compile(
    r"(?:\d{1,2}(?:\.\d{1,2})*\.|[IVXLC]{1,6}\.|[a-zđ]\)|\d{1,2}\)|\(\d{1,2}\)|\([a-zđ]\))(?:\s|$)"
)
_FULL_STOP = re.compile(r"[.!?…]['\"”’)\]]*$")
_SOFT_STOP = re.compile(r"[:;]['\"”’)\]]*$")
_NUMBER_ALONE = re.compile(r"\d{1,3}[.;]?\s*")
_GLUED_HYPHEN = re.compile(r"[^\W_]-$")
_LEADING_PUNCT = re.compile(r"[,;:!?](?:\s|$)")
_TABLE_CELL_SEP = " | "
_WRAPPED = 0.75  # a line at least this share of the usual line width was wrapped by the layout


def _starts_block(line: str) -> bool:
    return bool(_LIST_ITEM.match(line)) or bool(_HEADING.match(line)) or _TABLE_CELL_SEP in line


def _is_caps(line: str) -> bool:
    # Stops at the first lower-case letter: `line` is often a whole paragraph joined so far.
    letters = 0
    for c in line:
        if c.isalpha():
            if not c.isupper():
                return False
            letters += 1
    return letters >= 3


def _separator(current: str, nxt: str) -> str | None:
    """How the text rules glue `nxt` to the output line so far: "", " ", or None (new line).

    Only the start of `nxt` may matter: on a second run `nxt` is a whole joined line, and the
    choice must not change (idempotence).
    """
    if _TABLE_CELL_SEP in current or _TABLE_CELL_SEP in nxt or _LIST_ITEM.match(nxt):
        return None
    if _NUMBER_ALONE.fullmatch(nxt) and current[-1:].isalpha() and not _is_caps(current):
        # "lần lượt là 470, 32 và" + "18.", "trễ hạn" + "13.": a number alone after an unfinished
        # line ends its sentence; a heading "18." would have a title
        return " "
    if _starts_block(nxt):
        return None
    if _GLUED_HYPHEN.search(current):
        return ""
    if _LEADING_PUNCT.match(nxt) and current[-1:].isalpha():
        return ""  # as _SPACE_BEFORE_PUNCT would do within a line
    if _FULL_STOP.search(current):
        return None
    if _is_caps(current):
        return None  # an all-caps title or heading stands alone
    if _SOFT_STOP.search(current) and not nxt[0].islower():
        if current.endswith(":") and nxt[0].isdigit():
            return " "  # a label's value wrapped onto the next line ("kinh phí đã giải ngân:" + "390 triệu")
        return None
    if nxt[0].isupper():
        return None  # a capital after an unfinished line: title, heading or new paragraph...
    return " "


def _wrap_width(lines: list[_Line]) -> float:
    lengths = sorted(len(line.text) for line in lines)
    if len(lengths) < 5:
        return math.inf
    return lengths[int(len(lengths) * 0.9)] * _WRAPPED


def _layout_joins(previous: _Line, nxt: _Line, width: float, indent_means_paragraph: bool) -> bool:
    """...unless the layout shows a wrapped line: the previous line filled the width and the
    next one is not indented ("xã Chí" + "Minh tiến hành" in a justified paragraph)."""
    if indent_means_paragraph and nxt.indented:
        return False
    if _is_caps(previous.text) or _is_caps(nxt.text) or _SOFT_STOP.search(previous.text):
        return False
    return len(previous.text) >= width


def _join(lines: list[_Line], use_layout: bool) -> tuple[str, list[int]]:
    """Join physical lines into paragraph lines; also return where each input line starts.

    The text rules (_separator) see only the output line so far and the next line, so they make the
    same choice when run on their own output. Layout may only turn a break into a join, and only
    for text that still has layout (the output has none), so a second run changes nothing.
    """
    width = _wrap_width(lines) if use_layout else math.inf
    indent_means_paragraph = sum(line.indented for line in lines) < 0.3 * max(len(lines), 1)
    parts: list[str] = []
    starts: list[int] = []
    current = ""
    length = 0
    for i, line in enumerate(lines):
        if i == 0:
            sep = ""
        else:
            glue = _separator(current, line.text)
            if glue is None and use_layout and line.text[0].isupper() and not _starts_block(line.text):
                if not _FULL_STOP.search(current) and _TABLE_CELL_SEP not in current:
                    # a numbered heading on one line is followed by its body, not continued
                    one_heading = current == lines[i - 1].text and _HEADING.match(current)
                    if not one_heading and _layout_joins(lines[i - 1], line, width, indent_means_paragraph):
                        glue = " "
            sep = "\n" if glue is None else glue
        parts.append(sep)
        length += len(sep)
        starts.append(length)
        parts.append(line.text)
        length += len(line.text)
        current = line.text if i == 0 or sep == "\n" else current + sep + line.text
    return "".join(parts), starts


# --- public API -------------------------------------------------------------------------------


def normalize_text(text: str) -> str:
    """Normalize one piece of text (no page structure). Never raises on a str."""
    lines = _drop_page_numbers(_clean_text(text))
    joined, _ = _join(lines, use_layout=_looks_raw(text))
    return joined


def normalize(raw: RawDocument) -> Document:
    """Normalize a document page by page; the page map is in offsets of the normalized text."""
    page_lines = [_drop_page_numbers(_clean_text(page.text, p)) for p, page in enumerate(raw.pages)]
    if len(raw.pages) >= 3:  # PDF pages, or TXT pages split on form feeds
        keys = _running_lines(page_lines)
        page_lines = [_drop_running_lines(lines, keys) for lines in page_lines]
    flat = [line for lines in page_lines for line in lines]
    # Extracted PDF pages are always layout; a single TXT/DOCX body is treated like normalize_text.
    use_layout = raw.paginated or any(_looks_raw(page.text) for page in raw.pages)
    text, starts = _join(flat, use_layout)

    first_line_of_page: dict[int, int] = {}
    for idx, line in enumerate(flat):
        first_line_of_page.setdefault(line.page, idx)
    # A page left empty starts where the next page with text starts, so page_at never points at it.
    page_starts = [0] * len(raw.pages)
    cursor = len(text)
    for p in range(len(raw.pages) - 1, -1, -1):
        if p in first_line_of_page:
            cursor = starts[first_line_of_page[p]]
        page_starts[p] = cursor
    spans = [
        PageSpan(
            number=p + 1,
            start=page_starts[p],
            end=page_starts[p + 1] if p + 1 < len(raw.pages) else len(text),
            ocr=page.ocr,
        )
        for p, page in enumerate(raw.pages)
    ]
    return Document(
        source_name=raw.source_name,
        sha256=raw.sha256,
        file_type=raw.file_type,
        text=text,
        raw_text="\n\n".join(page.text for page in raw.pages),
        pages=spans,
        paginated=raw.paginated,
        encoding_fixed=raw.encoding_fixed,
    )
