"""Text similarity for document identity: is a new file a version of a loaded document?

Two signals, both on text folded the same way (NFC, lower case, punctuation dropped):
- the subject (trích yếu): word-bigram Dice coefficient of the two subjects, without the
  reporting unit's name and without annotations in parentheses; 0 when their numbers differ;
- the body: MinHash of word 5-grams (128 hashes), whose share of equal slots estimates the
  Jaccard similarity of the two texts' 5-gram sets. Kept per version in the warehouse, so
  comparing a new file costs 128 integer comparisons per candidate, not a re-read.

The thresholds (SUBJECT_THRESHOLD, BODY_THRESHOLD) were measured by tools/identity_threshold.py;
docs/identity.md records the numbers.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

# Measured on corrected re-sends (must match) and different documents (must not), see docs/identity.md.
# Subjects: re-sends >= 0.667, different documents <= 0.559 (189 documents, docs/identity.md).
SUBJECT_THRESHOLD = 0.62
# Texts: re-sends >= 0.703, different documents <= 0.453.
BODY_THRESHOLD = 0.60

_SHINGLE = 5
_HASHES = 128
# Fixed odd multipliers and offsets of the hash family: a signature must compare equal across
# processes and runs, so no random seed.
_PARAMS = [
    (int.from_bytes(hashlib.sha256(f"a{i}".encode()).digest()[:8], "big") | 1,
     int.from_bytes(hashlib.sha256(f"b{i}".encode()).digest()[:8], "big"))
    for i in range(_HASHES)
]
_TOKEN = re.compile(r"\w+")


def fold(text: str) -> str:
    """Lower-cased NFC words separated by single spaces; punctuation dropped ('02-KH/BCĐTW'
    becomes '02 kh bcđtw', so a re-typed dash or slash does not count as a difference)."""
    return " ".join(_TOKEN.findall(unicodedata.normalize("NFC", text).casefold()))


# A re-send annotation, "(bổ sung)", "(thay thế báo cáo số 12)", is not part of the subject.
_PARENTHESES = re.compile(r"\([^()]*\)")
# The reporting unit closing a subject ("... trên địa bàn xã Chí Minh [tháng 9 năm 2025]"): the
# documents compared always share the unit, so its words carry no evidence, and a re-send that
# drops or adds it must still match. Folded text (lower case, no punctuation).
_PLACE = re.compile(
    r"(?:trên địa bàn |tại |của )?(?:ubnd |ủy ban nhân dân |uỷ ban nhân dân )?(?:xã|phường|đặc khu|thị trấn)"
    r"(?: \w+){1,4}?(?= tháng| quý| năm| giai đoạn| từ| đến| 6 tháng| 9 tháng|$)"
)


def subject_words(subject: str) -> list[str]:
    """The subject's words as compared: folded, without annotations in parentheses or the unit."""
    return _PLACE.sub("", fold(_PARENTHESES.sub(" ", subject))).split()


def _bigrams(words: Sequence[str]) -> set[tuple[str, ...]]:
    if len(words) < 2:
        return {tuple(words)} if words else set()
    return {tuple(words[i:i + 2]) for i in range(len(words) - 1)}


def _numbers(subject: str) -> list[int]:
    return sorted(int(n) for n in re.findall(r"\d+", _PARENTHESES.sub(" ", subject)))


def subject_similarity(a: str | None, b: str | None) -> float | None:
    """Dice coefficient of the folded subjects' word bigrams (0..1); None when either is missing.
    Subjects whose numbers differ ("tháng 7" / "tháng 8", "số 12" / "số 13") are different
    documents whatever their words: 0 (one subject lacking a number of the other is not a
    difference: a re-send may add a forgotten one). Numbers compare as values (19/6 = 19/06)."""
    if not a or not b:
        return None
    x_numbers, y_numbers = Counter(_numbers(a)), Counter(_numbers(b))
    # a number dropped may be a typo; a number changed is another document
    if not (x_numbers <= y_numbers or y_numbers <= x_numbers):
        return 0.0
    x, y = _bigrams(subject_words(a)), _bigrams(subject_words(b))
    if not x or not y:
        return None
    return 2 * len(x & y) / (len(x) + len(y))


def _stable_hash(shingle: str) -> int:
    return int.from_bytes(hashlib.blake2b(shingle.encode("utf-8"), digest_size=8).digest(), "big")


def text_signature(text: str) -> list[int]:
    """MinHash signature of the text's word 5-grams (an empty text gives an empty signature)."""
    import numpy as np  # numpy: 128 hashes x thousands of shingles in ~ms, not ~0.3 s of Python

    words = fold(text).split()
    if not words:
        return []
    n = min(_SHINGLE, len(words))
    hashes = np.fromiter({_stable_hash(" ".join(words[i:i + n])) for i in range(len(words) - n + 1)},
                         dtype=np.uint64)
    a = np.array([p[0] for p in _PARAMS], dtype=np.uint64)[:, None]
    b = np.array([p[1] for p in _PARAMS], dtype=np.uint64)[:, None]
    with np.errstate(over="ignore"):  # arithmetic modulo 2**64 is the point
        return [int(v) for v in (a * hashes[None, :] + b).min(axis=1)]


def body_similarity(a: Sequence[int] | None, b: Sequence[int] | None) -> float | None:
    """Estimated Jaccard similarity of two texts from their signatures; None when either is missing."""
    if not a or not b or len(a) != len(b):
        return None
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)
