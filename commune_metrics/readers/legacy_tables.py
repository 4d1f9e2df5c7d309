"""Legacy Vietnamese encodings as the characters they surface as, mapped back to Unicode.

Text typed before Unicode was common used 8-bit fonts: a file keeps the font's byte values,
and whatever reads it (Word, a PDF text layer, a TXT saved as "ANSI") shows them as
Windows-1252 characters ("B¸o c¸o" is TCVN3 for "Báo cáo", "Baùo caùo" is VNI).

- TCVN3 (ABC; fonts .VnTime, .VnArial; .VnTimeH... draw the same bytes in upper case):
  one byte per letter. Table from TCVN 5712:1993 (VN3), written out below byte by byte.
- VNI (VNI-Times, VNI-Helve...): a base letter followed by one mark byte (tone, or shape +
  tone); đ ơ ư and the i-family letters and ỵ are single bytes. Built from the mark bytes.
- Windows-1258: Python's cp1258 codec; it stores tones as combining marks, which the
  normalizer composes (NFC).

docs/legacy-encodings.md compares these tables with viparse's and records the choice.
"""

from __future__ import annotations

import unicodedata

# -- TCVN3 --------------------------------------------------------------------------------------

_TCVN3_BYTES = {
    0xA1: "Ă", 0xA2: "Â", 0xA3: "Ê", 0xA4: "Ô", 0xA5: "Ơ", 0xA6: "Ư", 0xA7: "Đ",
    0xA8: "ă", 0xA9: "â", 0xAA: "ê", 0xAB: "ô", 0xAC: "ơ", 0xAD: "ư", 0xAE: "đ",
    0xB5: "à", 0xB6: "ả", 0xB7: "ã", 0xB8: "á", 0xB9: "ạ",
    0xBB: "ằ", 0xBC: "ẳ", 0xBD: "ẵ", 0xBE: "ắ", 0xC6: "ặ",
    0xC7: "ầ", 0xC8: "ẩ", 0xC9: "ẫ", 0xCA: "ấ", 0xCB: "ậ",
    0xCC: "è", 0xCE: "ẻ", 0xCF: "ẽ", 0xD0: "é", 0xD1: "ẹ",
    0xD2: "ề", 0xD3: "ể", 0xD4: "ễ", 0xD5: "ế", 0xD6: "ệ",
    0xD7: "ì", 0xD8: "ỉ", 0xDC: "ĩ", 0xDD: "í", 0xDE: "ị",
    0xDF: "ò", 0xE1: "ỏ", 0xE2: "õ", 0xE3: "ó", 0xE4: "ọ",
    0xE5: "ồ", 0xE6: "ổ", 0xE7: "ỗ", 0xE8: "ố", 0xE9: "ộ",
    0xEA: "ờ", 0xEB: "ở", 0xEC: "ỡ", 0xED: "ớ", 0xEE: "ợ",
    0xEF: "ù", 0xF1: "ủ", 0xF2: "ũ", 0xF3: "ú", 0xF4: "ụ",
    0xF5: "ừ", 0xF6: "ử", 0xF7: "ữ", 0xF8: "ứ", 0xF9: "ự",
    0xFA: "ỳ", 0xFB: "ỷ", 0xFC: "ỹ", 0xFD: "ý", 0xFE: "ỵ",
}
# The character each byte shows as (Latin-1 and Windows-1252 agree from 0xA0 up).
TCVN3: dict[str, str] = {bytes([b]).decode("latin-1"): u for b, u in _TCVN3_BYTES.items()}

# -- VNI ----------------------------------------------------------------------------------------

_TONES = {"ù": "\u0301", "ø": "\u0300", "û": "\u0309", "õ": "\u0303", "ï": "\u0323"}
_CIRCUMFLEX = {"â": "", "á": "\u0301", "à": "\u0300", "å": "\u0309", "ã": "\u0303", "ä": "\u0323"}
_BREVE = {"ê": "", "é": "\u0301", "è": "\u0300", "ú": "\u0309", "ü": "\u0303", "ë": "\u0323"}
# Letters that are one byte in VNI (no base + mark).
_VNI_SINGLE = {"ñ": "đ", "Ñ": "Đ", "ô": "ơ", "Ô": "Ơ", "ö": "ư", "Ö": "Ư",
               "æ": "ỉ", "Æ": "Ỉ", "ó": "ĩ", "Ó": "Ĩ", "ò": "ị", "Ò": "Ị", "î": "ỵ", "Î": "Ỵ"}


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _vni_table() -> dict[str, str]:
    table: dict[str, str] = dict(_VNI_SINGLE)
    for upper in (False, True):
        def case(s: str, up: bool = upper) -> str:
            return s.upper() if up else s

        for base in "aeiouy":
            for mark, tone in _TONES.items():
                table[case(base) + case(mark)] = case(_nfc(base + tone))
        for base in "aeo":
            for mark, tone in _CIRCUMFLEX.items():
                table[case(base) + case(mark)] = case(_nfc(base + "\u0302" + tone))
        for mark, tone in _BREVE.items():
            table[case("a") + case(mark)] = case(_nfc("a\u0306" + tone))
        for base, letter in (("ô", "ơ"), ("ö", "ư")):
            for mark, tone in _TONES.items():
                table[case(base) + case(mark)] = case(_nfc(letter + tone))
    return table


VNI: dict[str, str] = _vni_table()

# PDF text layers of .VnTime documents: the font's 0xAD (ư) comes out as U+2212 MINUS SIGN and
# 0xB7 (ã) as U+2219 BULLET OPERATOR (viparse's finding, checked on our own PDFs); only next
# to a letter are they letters.
PDF_GLYPH_FIXES = {"\u2212": "\u00ad", "\u2219": "\u00b7"}


def convert(text: str, table: dict[str, str]) -> str:
    """Replace legacy sequences (longest first, one left-to-right pass); NFC at the end."""
    longest = max(len(k) for k in table)
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        for size in range(min(longest, n - i), 0, -1):
            piece = text[i:i + size]
            if piece in table:
                out.append(table[piece])
                i += size
                break
        else:
            out.append(text[i])
            i += 1
    return _nfc("".join(out))
