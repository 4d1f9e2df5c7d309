"""The 2025 two-level administrative list (34 provinces, 3,321 communes/wards) as a gazetteer.

Data comes from the `vietnam-provinces` package, which ships it as JSON inside the wheel, so
nothing is downloaded. The JSON is read once per process (lazy singleton) instead of importing
the package's 390 kB generated lookup module.

Naming conventions (they match the gold files):
- `Commune.name` drops the division word ("Xã", "Phường", "Đặc khu"): "Chí Minh".
- `Commune.province` is the package's province name as is: centrally-run cities keep
  "Thành phố" ("Thành phố Hải Phòng"); provinces carry no "Tỉnh" ("Quảng Ngãi").

Matching is done on a folded key (`name_key`): lower case, NFC, old-style tone placement
("hoà", "thuỷ") moved to the new style ("hòa", "thủy"), apostrophes unified and dashes dropped,
because documents mix both spellings and the list uses only one.

Names repeat: 238 full names ("Xã Chí Minh" in Hải Phòng and in Hưng Yên) occur more than once.
`resolve` decides between them only from evidence in the text -- a named province ("tỉnh Quảng
Ngãi", "Thành ủy Hải Phòng") or, when the candidates differ in kind, a clear majority of generic
"thành phố" vs "tỉnh" words -- and otherwise returns None rather than guess.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from vietnam_provinces import NESTED_DIVISIONS_JSON_PATH

from commune_metrics.core.config import RULES_DIR
from commune_metrics.extract.schemas import MetadataFile, load_rule_file

DIVISION_WORDS = {"xã": "xã", "phường": "phường", "đặc khu": "đặc khu"}
CITY_TYPE = "thành phố trung ương"

_TONES = "\u0300\u0301\u0303\u0309\u0323"
# Old-style tone placement on the second vowel of an open "oa/oe/uy" syllable ("hoà", "thuỷ");
# "qu" is a consonant, so "quý" is already new style and must stay.
_OLD_TONE = re.compile(rf"(?<![qQ])([oOuU])([aeyAEY])([{_TONES}])(?![^\W\d_]|[\u0300-\u036f])")
_APOSTROPHES = re.compile(r"[’‘`´ʼ]")
_DASHES = re.compile(r"\s*[-–—]\s*")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-case, NFC text with tone marks in new-style position and unified apostrophes."""
    nfd = unicodedata.normalize("NFD", text)
    nfd = _OLD_TONE.sub(r"\1\3\2", nfd)
    return _APOSTROPHES.sub("'", unicodedata.normalize("NFC", nfd)).lower()


def name_key(name: str) -> str:
    """Key for comparing place names: folded, dashes dropped, single spaces."""
    return _SPACES.sub(" ", _DASHES.sub(" ", fold(name))).strip()


def split_division(name: str) -> tuple[str | None, str]:
    """("xã", "Chí Minh") from "Xã Chí Minh"; (None, name) when no division word leads."""
    stripped = name.strip()
    low = fold(stripped)
    for word, kind in DIVISION_WORDS.items():
        if low.startswith(word + " "):
            return kind, stripped[len(word) + 1 :].strip()
    return None, stripped


@dataclass(frozen=True)
class Commune:
    ward_code: int
    name: str  # without the division word
    full_name: str  # as in the 2025 list: "Xã Chí Minh"
    division_type: str  # "xã" | "phường" | "đặc khu"
    province: str  # "Thành phố Hải Phòng", "Quảng Ngãi"
    province_code: int
    province_type: str  # "tỉnh" | "thành phố trung ương"

    @property
    def in_city(self) -> bool:
        return self.province_type == CITY_TYPE


@dataclass(frozen=True)
class Province:
    code: int
    name: str
    short_name: str  # without "Thành phố": "Hải Phòng"
    division_type: str


@dataclass(frozen=True)
class _ProvinceRules:
    named_prefixes: tuple[str, ...]
    dominance: float
    min_generic: int
    generic_dominance: float
    generic_exclude: tuple[str, ...]


class Gazetteer:
    def __init__(self, provinces_json: list[dict], rules: _ProvinceRules) -> None:
        self.provinces: list[Province] = []
        self.communes: list[Commune] = []
        for p in provinces_json:
            short = re.sub(r"^Thành phố\s+", "", p["name"])
            self.provinces.append(Province(p["code"], p["name"], short, p["division_type"]))
            for w in p["wards"]:
                full = _SPACES.sub(" ", w["name"]).strip()  # the list has a few double spaces
                kind, bare = split_division(full)
                self.communes.append(
                    Commune(
                        ward_code=int(w["code"]),
                        name=bare,
                        full_name=full,
                        division_type=kind or w["division_type"],
                        province=p["name"],
                        province_code=int(p["code"]),
                        province_type=p["division_type"],
                    )
                )
        self.by_key: dict[str, list[Commune]] = {}
        for c in self.communes:
            self.by_key.setdefault(name_key(c.name), []).append(c)
        self.max_tokens = max(len(k.split()) for k in self.by_key)
        self.rules = rules
        self._by_short = {fold(p.short_name): p for p in self.provinces}
        names = "|".join(re.escape(k) for k in sorted(self._by_short, key=len, reverse=True))
        prefixes = "|".join(re.escape(fold(x)) for x in sorted(rules.named_prefixes, key=len, reverse=True))
        self.named_province_re = re.compile(rf"(?<!\w)(?:{prefixes})\s*({names})(?!\w)")
        self._generic_re = re.compile(r"(?<!\w)(thành phố|thành ủy|tp\.|tỉnh ủy|tỉnh)(?!\w)")
        self._exclude_re = re.compile(
            "|".join(re.escape(fold(x)) for x in sorted(rules.generic_exclude, key=len, reverse=True))
        )

    def lookup(self, name: str, division_type: str | None = None) -> list[Commune]:
        """Every commune with this name ("Chí Minh" or "xã Chí Minh"), optionally of one kind."""
        kind, bare = split_division(name)
        kind = division_type or kind
        found = self.by_key.get(name_key(bare), [])
        return [c for c in found if kind is None or c.division_type == kind]

    def province_evidence(self, context_text: str) -> tuple[Counter[int], int, int]:
        """Named mentions per province code, and counts of generic city / province words."""
        text = fold(context_text)
        named: Counter[int] = Counter()
        named_spans: set[int] = set()
        for m in self.named_province_re.finditer(text):
            named[self._by_short[m.group(1)].code] += 1
            named_spans.add(m.start())
        excluded = [(m.start(), m.end()) for m in self._exclude_re.finditer(text)]
        city = province = 0
        for m in self._generic_re.finditer(text):
            if m.start() in named_spans or any(a <= m.start() < b for a, b in excluded):
                continue
            if self.named_province_re.match(text, m.start()):
                continue
            if m.group(1) in ("tỉnh", "tỉnh ủy"):
                province += 1
            else:
                city += 1
        return named, city, province

    def decide(self, candidates: list[Commune], context_text: str) -> Commune | None:
        """Pick one of several same-name communes from province evidence; None when undecided."""
        if len(candidates) <= 1:
            return candidates[0] if candidates else None
        named, city, province = self.province_evidence(context_text)
        by_province: dict[int, list[Commune]] = {}
        for c in candidates:
            by_province.setdefault(c.province_code, []).append(c)
        counts = sorted(((named[code], code) for code in by_province), reverse=True)
        top, top_code = counts[0]
        runner_up = counts[1][0]
        if top > 0 and top >= self.rules.dominance * runner_up:
            chosen = by_province[top_code]
            return chosen[0] if len(chosen) == 1 else None
        if runner_up > 0:
            return None  # two candidate provinces are named: conflicting evidence
        in_city = [c for c in candidates if c.in_city]
        in_province = [c for c in candidates if not c.in_city]
        if in_city and in_province:
            if city >= self.rules.min_generic and city >= self.rules.generic_dominance * province:
                return in_city[0] if len(in_city) == 1 else None
            if province >= self.rules.min_generic and province >= self.rules.generic_dominance * city:
                return in_province[0] if len(in_province) == 1 else None
        return None


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The process-wide gazetteer, built on first use (about 80 ms)."""
    with open(NESTED_DIVISIONS_JSON_PATH, encoding="utf-8") as fh:
        data = json.load(fh)
    cfg = load_rule_file(RULES_DIR / "metadata.yaml", MetadataFile).province
    rules = _ProvinceRules(
        named_prefixes=tuple(cfg["named_prefixes"]),
        dominance=float(cfg["dominance"]),
        min_generic=int(cfg["min_generic"]),
        generic_dominance=float(cfg["generic_dominance"]),
        generic_exclude=tuple(cfg["generic_exclude"]),
    )
    return Gazetteer(data, rules)


def all_communes() -> list[Commune]:
    """All 3,321 communes/wards of the 2025 list (for the warehouse's communes table)."""
    return list(gazetteer().communes)


def lookup(name: str, division_type: str | None = None) -> list[Commune]:
    return gazetteer().lookup(name, division_type)


def resolve(name: str, context_text: str) -> Commune | None:
    """The commune called `name` ("Chí Minh", "xã Chí Minh", "PHƯỜNG ..."), using
    `context_text` (usually the whole document) to choose between same-name communes.
    None when the name is unknown or the context does not decide."""
    g = gazetteer()
    return g.decide(g.lookup(name), context_text)
