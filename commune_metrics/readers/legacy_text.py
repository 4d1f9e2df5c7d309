"""Find legacy Vietnamese text (TCVN3, VNI, Windows-1258) and convert it to Unicode.

Detection is by content: Vietnamese is written in syllables of a known shape (onset, vowel
cluster, final consonant, at most one tone). Of the words that hold a non-ASCII character,
real Vietnamese has nearly all (>= 0.97 on the seeds) in that shape; the same text in a
legacy encoding read as Windows-1252 has few ("B¸o", "Th«ng", "Baùo"). A table is chosen
when converting with it makes the text Vietnamese and converting with the other does not;
conversion is applied line by line, only where it turns a line into better Vietnamese, so a
document mixing Unicode and legacy lines (a Unicode header over a .VnTime body) comes out
whole. Text that is neither Vietnamese nor any table's Vietnamese is undecidable.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from commune_metrics.core.errors import EncodingError
from commune_metrics.readers.legacy_tables import PDF_GLYPH_FIXES, TCVN3, VNI, convert

_ONSET = "(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|b|c|d|đ|g|h|k|l|m|n|p|r|s|t|v|x)?"
# Rhymes: vowel clusters ending in a glide take no final consonant; ă, â, iê/yê, uô, ươ need one.
_OPEN = ("uyu|uya|iêu|yêu|oai|oay|oao|oeo|uây|uôi|ươi|ươu|ai|ao|au|ay|âu|ây|eo|êu|ia|iu|oi|ôi|ơi|ui|ưi|ưu"
         "|ua|ưa")
_CLOSED = "uyê|iê|yê|uô|ươ|oă|uâ|oo|ă|â"
_EITHER = "oa|oe|uê|uy|uơ|a|e|ê|i|o|ô|ơ|u|ư|y"
_CODA = "(?:ch|ng|nh|c|m|n|p|t)"
_SYLLABLE = re.compile(f"{_ONSET}(?:(?:{_OPEN})|(?:{_CLOSED}){_CODA}|(?:{_EITHER}){_CODA}?)")
_STOP = re.compile(r"(?:c|ch|p|t)$")
_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
_EDGE_PUNCT = "\"'()[]{}<>.,;:!?…“”‘’-–—/*%"

GOOD = 0.85  # share of syllable-shaped words above which text reads as Vietnamese
MIN_WORDS = 8  # fewer non-ASCII words than this: too little to judge, keep as is
UNDECIDABLE_BELOW = 0.5

_UNDECIDABLE = (
    "{name}: the text is not readable Vietnamese in Unicode, TCVN3 (ABC), VNI or Windows-1258 "
    "({share:.0%} of its accented words are Vietnamese syllables); open it in Word and save it "
    "as Unicode (or convert it with Unikey's toolkit) and drop it again"
)


@lru_cache(maxsize=65536)
def _is_syllable(word: str) -> bool:
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = sum(ch in _TONE_MARKS for ch in decomposed)
    if tones > 1:
        return False
    bare = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONE_MARKS))
    if not _SYLLABLE.fullmatch(bare):
        return False
    # after a stop (c, ch, p, t) only the rising and the heavy tone exist
    return not (_STOP.search(bare) and any(ch in decomposed for ch in ("\u0300", "\u0303", "\u0309")))


def _words(text: str) -> list[str]:
    """Words holding a non-ASCII character, edge punctuation stripped."""
    out = []
    for raw in text.split():
        word = raw.strip(_EDGE_PUNCT)
        if word and not word.isascii():
            out.append(word)
    return out


def vietnamese_share(text: str) -> tuple[float, int]:
    """(share of non-ASCII words that are Vietnamese syllables, how many such words)."""
    words = _words(text)
    if not words:
        return 1.0, 0
    good = sum(1 for w in words if w.isalpha() and _is_syllable(w))
    return good / len(words), len(words)


_WORD_RE = re.compile(r"\w+")


def _heading_word(word: str) -> bool:
    """A converted word that was typed in capitals: its ASCII letters (TCVN3 has capitals for
    unaccented letters only) are all capitals and are not just the first letter ('BáO', 'ĐộC')."""
    letters = [(i, c) for i, c in enumerate(word) if c.isascii() and c.isalpha()]
    return bool(letters) and all(c.isupper() for _, c in letters) and (len(letters) > 1 or letters[0][0] > 0)


def _upper_headings(text: str) -> str:
    """TCVN3 has no upper-case accented letters: a heading in .VnTimeH is typed with the
    lower-case bytes and drawn in capitals, and a capital Ứ, Ủ, Ấ... opening a sentence is typed
    as the small letter. Give the capitals back: to words typed in capitals ('BáO' -> 'BÁO'), to
    every word of a line mostly in capitals ('Xã MINH LONG'), to a word whose only ASCII letter
    is its initial when a neighbour is such a word ('Kế HOẠCH'), and to a sentence's first letter."""
    out = []
    previous_ends = True
    for line in text.split("\n"):
        words = list(_WORD_RE.finditer(line))
        texts = [m.group(0) for m in words]
        heading = [_heading_word(w) and any(c.islower() for c in w) for w in texts]
        # capital words, not acronyms (UBND, HĐND, TT have no vowel): MINH, LONG, BAN
        capitals = sum(1 for w, h in zip(texts, heading, strict=True)
                       if h or (w.isupper() and len(w) > 2 and any(c in "AEIOUY" for c in w)))
        heading_line = len(texts) >= 2 and capitals >= 0.6 * len(texts)
        pieces, last = [], 0
        for i, m in enumerate(words):
            word = m.group(0)
            initial_only = (word[:1].isascii() and word[:1].isupper() and not word.isascii()
                            and word[1:].islower())
            beside = (i > 0 and heading[i - 1]) or (i + 1 < len(words) and heading[i + 1])
            if heading[i] or (heading_line and not word.isascii()) or (initial_only and beside):
                word = word.upper()
            elif not word[:1].isascii() and word[:1].islower():
                before = line[:m.start()].rstrip()
                if (not before and previous_ends) or before.endswith((".", "!", "?")):
                    word = word[:1].upper() + word[1:]
            pieces.append(line[last:m.start()] + word)
            last = m.end()
        fixed = "".join(pieces) + line[last:]
        out.append(fixed)
        if fixed.strip():
            previous_ends = fixed.rstrip().endswith((".", ":", "!", "?"))
    return "\n".join(out)


def _tcvn3(text: str) -> str:
    for glyph, byte in PDF_GLYPH_FIXES.items():
        text = re.sub(rf"(?<=\w){glyph}|{glyph}(?=\w)", byte, text)
    return _upper_headings(convert(text, TCVN3))


def _vni(text: str) -> str:
    return convert(text, VNI)


CONVERTERS = {"tcvn3": _tcvn3, "vni": _vni}


def _line_by_line(text: str, converter) -> str:
    out = []
    for line in text.split("\n"):
        if line.isascii():
            out.append(line)
            continue
        converted = converter(line)
        before, _ = vietnamese_share(line)
        after, _ = vietnamese_share(converted)
        # the document's encoding is decided: convert unless it makes the line worse (a line
        # already in Unicode gets worse: "công" would become "cơng" through VNI)
        out.append(converted if after >= before else line)
    return "\n".join(out)


def _cp1258_style(text: str) -> bool:
    """Tones as combining marks after precomposed â/ê/ô/ơ/ư/ă (how Windows-1258 stores them; macOS
    NFD decomposes those too, so it does not look like this)."""
    tones = sum(text.count(m) for m in _TONE_MARKS)
    shapes = sum(text.count(m) for m in ("\u0302", "\u0306", "\u031b"))
    return tones >= MIN_WORDS and shapes == 0


def fix_text(text: str, name: str) -> tuple[str, str | None]:
    """(Unicode text, the encoding converted from or None). Raises EncodingError when the text
    is legacy-looking but no table makes it Vietnamese."""
    if _cp1258_style(text):
        return unicodedata.normalize("NFC", text), "cp1258"
    share, count = vietnamese_share(text)
    if count < MIN_WORDS or share >= GOOD:
        return text, None
    best: tuple[float, str, str] | None = None
    for encoding, converter in CONVERTERS.items():
        converted = _line_by_line(text, converter)
        score, _ = vietnamese_share(converted)
        if best is None or score > best[0]:
            best = (score, encoding, converted)
    assert best is not None
    if best[0] >= GOOD and best[0] - share >= 0.2:
        return best[2], best[1]
    if share < UNDECIDABLE_BELOW:
        raise EncodingError(_UNDECIDABLE.format(name=name, share=max(share, best[0])))
    return text, None


def _cp1252_char(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D: undefined there, Latin-1 then
        return chr(byte)


# Latin-1 text -> what Windows-1252 shows (they differ only in 0x80-0x9F).
_LATIN1_TO_CP1252 = {b: _cp1252_char(b) for b in range(0x80, 0xA0)}


def _cp1252(data: bytes) -> str:
    """Bytes as Windows-1252 shows them (how legacy fonts' bytes surface in any program)."""
    return data.decode("latin-1").translate(_LATIN1_TO_CP1252)


def fix_pages(pages: list[str], name: str) -> tuple[list[str], str | None]:
    """fix_text over a document's pages at once (one decision for the document)."""
    fixed, encoding = fix_text("\f".join(pages), name)
    if encoding is None:
        return pages, None
    out = fixed.split("\f")
    return (out, encoding) if len(out) == len(pages) else (pages, None)


def decode_legacy_bytes(data: bytes, name: str) -> tuple[str, str]:
    """Text of a file that is not UTF-8: the best of Windows-1258, TCVN3 and VNI, by content."""
    candidates: list[tuple[float, str, str]] = []
    try:
        text = unicodedata.normalize("NFC", data.decode("cp1258"))
        candidates.append((vietnamese_share(text)[0], "cp1258", text))
    except UnicodeDecodeError:
        pass
    surface = _cp1252(data)
    for encoding, converter in CONVERTERS.items():
        text = converter(surface)
        candidates.append((vietnamese_share(text)[0], encoding, text))
    score, encoding, text = max(candidates, key=lambda c: c[0])
    if score < GOOD:
        raise EncodingError(_UNDECIDABLE.format(name=name, share=score) + " (it is not UTF-8 either)")
    return text, encoding


def convert_font_run(text: str, font: str | None) -> tuple[str, str | None]:
    """A Word run in a legacy font: .Vn* fonts are TCVN3 (.Vn*H draw capitals), VNI* fonts VNI."""
    if not font:
        return text, None
    if font.startswith(".Vn") or font.startswith("Vn") and font[2:3].isupper():
        converted = convert(text, TCVN3)
        return (converted.upper() if font.endswith("H") else converted), "tcvn3"
    if font.upper().startswith("VNI"):
        return convert(text, VNI), "vni"
    return text, None
