"""Whose figure it is: the scope of a fact relative to the document's own reporting unit.

`self` (the reporting unit as a whole), `sub_unit` (a village, a lower level, several units
below), `other_unit` (another unit of the same level), `higher_level` (the province or the
nation in a commune report), `earlier_period` (a comparison with an earlier time), `unknown`.
Every word is in rules/grammar.yaml (`scope:`); this module holds only the reading order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import regex

from commune_metrics.extract.schemas import ScopeGrammar
from commune_metrics.extract.sentences import part_start

SCOPES = ("self", "sub_unit", "other_unit", "higher_level", "earlier_period", "unknown")
LEVELS = ("village", "commune", "district", "province", "national")  # lowest first
_RANK = {name: i for i, name in enumerate(LEVELS)}
_NAME_AFTER = regex.compile(r"(?:\s+\p{Lu}[\p{L}'’]*)+")
_NUMBER_NAME = regex.compile(r"\s+\d{1,2}(?![\d/.,%])")  # "Phường 3": only after a capitalised unit word
_WRITTEN_NUMBER = regex.compile(r"[\d.,/]*\d")
_COUNT_BEFORE = regex.compile(r"\d[\d.,]*\s*$")  # "91 xã": a number of units, not one
_HEADER = regex.compile(r"(?m)^[ \t]*(?:(?:ỦY|UỶ)\s+BAN\s+NHÂN\s+DÂN\s+|UBND\s+)")  # a header starts its line


def _alt(phrases: list[str]) -> str:
    return "|".join(r"\s*".join(r"\s+".join(map(regex.escape, part.split())) for part in p.lower().split(","))
                    for p in sorted(set(phrases), key=len, reverse=True))


@dataclass(frozen=True)
class ScopeReader:
    unit: Any  # marker? + unit word, with the level in the group name
    earlier: Any
    channel: Any
    object_before: Any  # a unit right after one of these is an object, not the owner
    level_kind: Any  # a counted noun whose level word after it says what kind it is, not whose
    generic_vote: float = 1.0  # the weight of a generic mention in the document's level vote
    year: Any = None  # "năm 2017" dating a figure (group 1: the year), not a range's end or start

    @classmethod
    def build(cls, g: ScopeGrammar) -> ScopeReader:
        groups = "|".join(f"(?P<{level}>{_alt(getattr(g.levels, level))})" for level in reversed(LEVELS))
        marker = f"(?P<marker>(?:{_alt(g.whole_markers)})|(?P<plural>{_alt(g.plural_markers)}))"
        unit = regex.compile(rf"(?<![\p{{L}}])(?:{marker}\s+)?(?:{groups})(?![\p{{L}}])", regex.IGNORECASE)
        earlier = regex.compile(rf"(?<![\p{{L}}])(?:{_alt(g.earlier_period)})(?![\p{{L}}])", regex.IGNORECASE)
        channel = regex.compile(rf"(?<![\p{{L}}])(?:{_alt(g.channel_names + g.not_units)})(?![\p{{L}}])",
                                regex.IGNORECASE)
        objects = regex.compile(rf"(?<![\p{{L}}])(?:{_alt(g.object_markers)})(?:\s+\S+){{0,2}}\s*$",
                                regex.IGNORECASE)
        kinds = regex.compile(rf"(?<![\p{{L}}])(?:{_alt(g.level_kinds)})(?![\p{{L}}])" if g.level_kinds
                              else r"(?!)", regex.IGNORECASE)
        # (a year with a range after it, "năm 2021 - 2025", is a period, not a date either)
        not_after = "".join(rf"(?<!{_alt([w])}\s)" for w in g.year_not_dating_after)
        year = regex.compile(rf"{not_after}(?<![\p{{L}}])năm\s+(\d{{4}})(?!\s*(?:-|–|đến|tới))",
                             regex.IGNORECASE)
        return cls(unit, earlier, channel, objects, kinds, g.generic_mention_vote, year)

    def _units(self, text: str, start: int, end: int) -> list[tuple[Any, str]]:
        """Unit phrases in text[start:end] (offsets relative to `start`), channels masked and
        objects of a verb or preposition left out."""
        masked = self.channel.sub(lambda m: " " * len(m.group(0)), text[start:end])
        return [(m, next(lv for lv in LEVELS if m.group(lv))) for m in self.unit.finditer(masked)
                if not self.object_before.search(masked, max(0, m.start() - 40), m.start())]

    def doc_level(self, text: str) -> str | None:
        """The reporting unit's level: its header (a line that starts with the council's name),
        else the level the text names most often (the first 300 characters, where the subject
        is named, count three times). A generic mention ("các xã", "cấp xã", "91 xã", a bare "xã")
        weighs `generic_vote` of a named or whole one ("tỉnh Sơn La", "toàn tỉnh"): a province's
        news speaks of its communes in general far more often than it names itself."""
        head = _HEADER.search(text, 0, 600)
        if head:
            found = self._units(text, head.end(), min(len(text), head.end() + 60))
            if found and found[0][0].start() == 0:
                return found[0][1]
        votes = {lv: 0.0 for lv in ("commune", "district", "province")}
        for m, level in self._units(text, 0, min(len(text), 20000)):
            if level in votes:
                weight = 3.0 if m.start() < 300 else 1.0
                votes[level] += weight * (self.generic_vote if self._generic(text, m) else 1.0)
        best = max(votes, key=lambda lv: votes[lv])
        return best if votes[best] > 0 else None

    @staticmethod
    def _generic(text: str, m: Any) -> bool:
        """A unit mention (offsets in `text`) that names no one unit: no name after it, and a
        plural or "cấp" marker, no marker at all, or a count before it."""
        if _NAME_AFTER.match(text, m.end()):
            return False
        marker = m.group("marker")
        return (not marker or m.group("plural") is not None or marker.lower().startswith("cấp")
                or _COUNT_BEFORE.search(text, max(0, m.start() - 12), m.start()) is not None)

    def fact_scope(self, text: str, sent_start: int, value_start: int, value_end: int, heading: str,
                   level: str | None, own_name: str | None, year: int | None = None) -> str:
        seg_start = part_start(text, sent_start, value_start, ",;(:")
        written = _WRITTEN_NUMBER.match(text, value_start)  # "2,1%": its own comma ends nothing
        value_end = max(value_end, written.end() if written else value_end)
        nxt = [i for i in (text.find(c, value_end) for c in ",;.(") if i >= 0]
        seg_end = min(nxt) if nxt else len(text)
        if self.earlier.search(text, seg_start, seg_end):
            return "earlier_period"
        if year is not None:
            for y in self.year.finditer(text, seg_start, value_start):
                if int(y.group(1)) < year:
                    return "earlier_period"
        if level is None:
            return "self"  # no unit named anywhere: nothing to tell it from
        # "301 thủ tục cấp huyện", "788 dịch vụ công cấp tỉnh": a level right after the counted
        # noun says whose figure it is, before any unit named earlier in the clause
        after = [u for u in self._units(text, value_end, min(seg_end, value_end + 40))
                 if u[0].group("marker") and not u[0].group("plural")
                 and text[value_end + u[0].start(): value_end + u[0].start() + 3].lower() == "cấp"
                 and not self.level_kind.search(text, value_end, value_end + u[0].start())]
        if after:
            units, offset = after[:1], value_end
        else:
            # the nearest unit phrase in the value's own comma-separated part; a level phrase
            # ("toàn tỉnh", "cấp xã") also reaches over commas to the end of its clause, and from
            # the section heading
            units, offset = self._units(text, seg_start, value_start), seg_start
            if len(units) == 1 and not text[seg_start: seg_start + units[0][0].start()].strip():
                owner = self._addressed(text, sent_start, seg_start, units[0][1])
                if owner is not None:
                    units, offset = owner
        if not units:
            clause_start = max(sent_start, text.rfind(";", sent_start, value_start) + 1)
            units = [u for u in self._units(text, clause_start, seg_start) if u[0].group("marker")
                     and not u[0].group("plural")]
            offset = clause_start
        if not units and heading:
            units = [u for u in self._units(heading, 0, len(heading)) if u[0].group("marker")
                     and not u[0].group("plural")]
            offset = None
        if not units:
            return "self"
        m, unit_level = units[-1]
        if len(units) > 1 and regex.fullmatch(r"\s*(?:,|và|&|-)\s*", text[(offset or 0) + units[-2][0].end():
                                                                        (offset or 0) + m.start()]
                                            if offset is not None else ""):
            # "2 cấp huyện và xã": coordinated levels together are the higher one's whole
            m, unit_level = max(units[-2:], key=lambda u: _RANK[u[1]])
        source = text if offset is not None else heading
        base = offset if offset is not None else 0
        rank, own = _RANK[unit_level], _RANK.get(level, _RANK["commune"])
        if rank > own:
            return "higher_level"
        if rank < own:
            named = _NAME_AFTER.match(source, base + m.end()) is not None
            # "cấp xã", "từng thôn", "thôn Đông"; a bare "thôn" is what is counted
            return "sub_unit" if named or m.group("marker") else "self"
        if m.group("plural"):
            return "other_unit"
        if m.group("marker"):
            return "self"  # "toàn xã", "cấp tỉnh" in the unit's own report
        name = _NAME_AFTER.match(source, base + m.end())
        if name is None and source[base + m.start(unit_level)].isupper():
            name = _NUMBER_NAME.match(source, base + m.end())
        if name and own_name and _fold(name.group(0)) != _fold(own_name) \
                and not _fold(name.group(0)).startswith(_fold(own_name)):
            return "other_unit"
        return "self"

    def _addressed(self, text: str, sent_start: int, seg_start: int,
                   level_after: str) -> tuple[list, int] | None:
        """The named lower unit (and where its part starts) whose address the unit of level
        `level_after` opening the part at `seg_start` is, or None: in "trung tâm phường Phú An,
        TPHCM đã tiếp nhận 410 hồ sơ" and "UBND TP. Nha Trang (tỉnh Khánh Hòa) đã giải quyết
        1.300 hồ sơ" the figure is the ward's and the city's, not the province's."""
        comma = seg_start - 1  # a comma, or the bracket of "TP. Nha Trang (tỉnh Khánh Hòa)"
        if comma <= sent_start or text[comma] not in ",(":
            return None
        start = part_start(text, sent_start, comma, ",;(")
        before = self._units(text, start, comma)
        if not before:
            return None
        m, level = before[-1]
        name = _NAME_AFTER.match(text, start + m.end(), comma)
        if name is None or text[name.end(): comma].strip() or _RANK[level] >= _RANK[level_after]:
            return None
        return before[-1:], start


def _fold(s: str) -> str:
    return " ".join(s.lower().split())
