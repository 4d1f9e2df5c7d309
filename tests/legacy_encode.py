"""Test helper: write Unicode Vietnamese the way legacy fonts and code pages stored it.

The inverse of commune_metrics.readers.legacy_tables, so tests can make TCVN3, VNI and
Windows-1258 files from text they own and check the readers turn them back into the original.
"""

from __future__ import annotations

import unicodedata

from commune_metrics.readers.legacy_tables import TCVN3, VNI

_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def _inverse(table: dict[str, str]) -> dict[str, str]:
    inverse: dict[str, str] = {}
    for legacy, letter in sorted(table.items(), key=lambda kv: len(kv[0])):
        inverse.setdefault(letter, legacy)
    return inverse


_TO_TCVN3 = _inverse(TCVN3)
_TO_VNI = _inverse(VNI)


def tcvn3_surface(text: str) -> str:
    """What a .VnTime document shows when read as Windows-1252 ("B¸o c¸o"). Capitals without a
    TCVN3 code are typed lower-case, as in the .VnTimeH fonts."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        out.append(_TO_TCVN3.get(ch) or _TO_TCVN3.get(ch.lower()) or ch)
    return "".join(out)


def tcvn3_bytes(text: str) -> bytes:
    return tcvn3_surface(text).encode("cp1252", errors="replace")


def vni_surface(text: str) -> str:
    return "".join(_TO_VNI.get(ch, ch) for ch in unicodedata.normalize("NFC", text))


def vni_bytes(text: str) -> bytes:
    return vni_surface(text).encode("cp1252", errors="replace")


def cp1258_bytes(text: str) -> bytes:
    """Windows-1258: precomposed base letters (â, ê, ơ, ư, ă, đ...) followed by a combining tone."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        decomposed = unicodedata.normalize("NFD", ch)
        tones = [c for c in decomposed if c in _TONES]
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
        out.append(base + "".join(tones))
    return "".join(out).encode("cp1258", errors="replace")
