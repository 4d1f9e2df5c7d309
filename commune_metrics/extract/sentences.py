"""Sentences of a normalized document, with the section heading each one sits under.

Our own splitter rather than underthesea's sent_tokenize: the normalized text already has one
paragraph per line, and a sentence only ends at ".", "!", "?" or "…" followed by a space and
a capital, bullet or digit, so "5.676", "19,95" and "02-KH/BCĐTW" are never cut. It is also
~100x faster and keeps exact character offsets, which evidence spans need.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

_END = regex.compile(r"(?<=[.!?…])[\"'”’)]*\s+(?=[\p{Lu}\-+*•–\d\"“(])")
# Words after which a dot does not end the sentence.
_ABBREV = regex.compile(r"(?:\b(?:TP|Tp|ThS|TS|PGS|GS|KS|BS|Th|St|Ths|v\.v|Đ/c|đ/c|ô|bà|ông|P|Q)\.)$")
_HEADING = regex.compile(
    r"\s*(?:[IVXLC]{1,6}\.|\d{1,2}(?:\.\d{1,2})*\.?|\d{1,2}\)|[a-zđ]\)|Phần\s+[IVX\d]+|Mục\s+[IVX\d]+)\s+\S",
)
_ROMAN = regex.compile(r"\s*[IVXLC]{1,6}\.\s")
_LIST_NUMBER = regex.compile(r"\s*(?:\d{1,2}(?:\.\d{1,2})*\.|[IVXLC]{1,6}\.|[a-zđ]\.)")


def part_start(text: str, start: int, end: int, marks: str) -> int:
    """Where the part of text[start:end] after the last of the `marks` begins (`start` when none):
    the phrase a value or a bracket stands in ("," ";" ":" "(" cut a sentence into such parts)."""
    return max(start, *(text.rfind(c, start, end) + 1 for c in marks))


@dataclass(frozen=True)
class Sentence:
    start: int  # offsets in Document.text
    end: int
    text: str
    heading: str  # nearest heading above (top-level and current), "" if none
    top_heading: str  # nearest Roman-numeral (top-level) heading


def _is_heading(line: str) -> bool:
    return (bool(_HEADING.match(line)) and len(line) <= 160 and " | " not in line
            and not line.rstrip().endswith((";", ",")))


def split_sentences(text: str) -> list[Sentence]:
    out: list[Sentence] = []
    heading = ""
    top = ""
    pos = 0
    for line in text.split("\n"):
        line_start = pos
        pos += len(line) + 1
        if not line.strip():
            continue
        if _is_heading(line):
            if _ROMAN.match(line):
                top = line.strip()
                heading = top
            else:
                heading = (top + " / " + line.strip()) if top else line.strip()
        cut = 0
        for m in _END.finditer(line):
            if _ABBREV.search(line[: m.start()]) or _LIST_NUMBER.fullmatch(line[cut : m.start()]):
                continue
            piece = line[cut : m.start()]
            if piece.strip():
                lead = len(piece) - len(piece.lstrip())
                out.append(Sentence(line_start + cut + lead, line_start + m.start(),
                                    piece.strip(), heading, top))
            cut = m.end()
        piece = line[cut:]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            s = line_start + cut + lead
            out.append(Sentence(s, s + len(piece.strip()), piece.strip(), heading, top))
    return out
