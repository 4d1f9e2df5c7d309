"""Clause-aware attachment of values to metrics.

For each sentence: find the values (commune_metrics.extract.numbers), the noun written after each value
("414 hồ sơ", "100% cán bộ"), and the clause structure: ";" separates clauses, a parenthesis
"(trong đó ...)" or a "trong đó"/"gồm" run breaks down the figure before it and inherits its
context. Each value then gets a label window:
  - the words on its left back to the previous value (only those after the last comma/"và"
    when the previous value already owns its noun phrase: "17/40 máy ... và 100% máy tính");
  - the words on its right up to the next value's label ("822 hồ sơ đã giải quyết, 295 ...").
A value written "N <noun> <description>" reads its right window first; "<label> là N" or a
bare "<label> N" reads its left window first. The best cue in the first window that has one
wins (longest and nearest; a cue whose `context` is satisfied beats a plain one). With no cue
in either window the clause head is tried ("Tỷ lệ hồ sơ ... một phần ... chiếm tỷ lệ 90,16 %"),
then the noun alone for metrics marked noun_only ("74 lĩnh vực").

Contexts ("quá hạn" under "đang giải quyết") are searched in the value's windows, the clause
head, the governing figure of a breakdown, and the section heading — nearest first.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import regex

from commune_metrics.core.model import Fact
from commune_metrics.extract.numbers import NumberMention, find_numbers
from commune_metrics.extract.rules import Cue, MetricRule, Pattern, Rules
from commune_metrics.extract.sentences import Sentence, part_start

# Punctuation is the engine's; every word of the language is in rules/grammar.yaml (compiled
# into Rules.grammar) and every weight in rules/scoring.yaml (Rules.scoring).
_COMMA = regex.compile(r"[,;]")
_BULLET = regex.compile(r"[\s\-–+*•]+")
_CLAUSE_END = regex.compile(r"[,;:()]")
_SPACES = regex.compile(r"\s*")
_RATIO_IN_BRACKETS = regex.compile(r"\(\s*(\d[\d.,]*\s*/\s*\d[\d.,]*)\s*\)\s*")
_TABLE_SEP = " | "


@dataclass
class _Value:
    m: NumberMention
    noun_classes: frozenset[str]  # empty: no noun written
    noun_end: int
    linked: bool  # a link word ("là", ":", "chiếm") right before the value
    container: tuple[int, int]  # the paren group (or sentence) holding it
    clause: tuple[int, int]
    in_paren: bool
    left: tuple[int, int] = (0, 0)
    right: tuple[int, int] = (0, 0)
    implied: bool = False  # no noun written: may take one from the start of its label
    respective: bool = False  # its label is one part of a label shared out in order

    @property
    def has_noun(self) -> bool:
        """A noun is written after the value (not merely implied by "tỷ lệ <noun>")."""
        return self.noun_end > self.m.end


@dataclass
class _Choice:
    rule: MetricRule
    score: float
    cue_span: tuple[int, int]
    where: str  # which window decided


class SentenceContext:
    """A sentence (lower-cased, parentheses masked per level) and its cached pattern matches."""

    def __init__(self, sent: Sentence, low: str, offset: int) -> None:
        self.sent = sent
        self.low = low  # lower-cased document text
        self.offset = offset
        self._cache: dict[int, list[tuple[int, int]]] = {}
        self.modifier_cache: dict[tuple[int, int], int] = {}
        # The state of the value being labelled. All per-call state lives here, never on the
        # shared FactFinder, so one FactFinder serves any number of threads at once.
        self.names: list[tuple[int, int]] = []  # office names in the sentence (their verbs say nothing)
        self.exclude: list[tuple[int, int]] = []  # paren groups the current value is outside of
        self.negated = False  # a cue hit near the current value was negated
        self.topic: tuple[int, int] | None = None  # the fronted topic of the current value's clause

    def spans(self, pat: Pattern) -> list[tuple[int, int]]:
        key = id(pat)
        hit = self._cache.get(key)
        if hit is None:
            hit = [m.span() for m in pat.finditer(self.low, self.sent.start, self.sent.end)]
            self._cache[key] = hit
        return hit


# between a value's noun and the next coordinated value: a few words, then "và" or a comma
_ELLIPSIS_GAP = regex.compile(r"(?:\s+[\p{L}]+){0,4}\s*(?:,|\s+và)\s*")


def _paren_groups(text: str, base: int) -> list[tuple[int, int]]:
    """Spans (absolute, inside the brackets) of parenthesised groups, innermost last."""
    groups: list[tuple[int, int]] = []
    stack: list[int] = []
    for i, ch in enumerate(text):
        if ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            s = stack.pop()
            groups.append((base + s + 1, base + i))
    return groups


def _mask(text: str, start: int, end: int, groups: list[tuple[int, int]], keep: tuple[int, int]) -> str:
    """text[start:end] with every paren group not containing `keep` blanked (same length)."""
    chars = list(text[start:end])
    for gs, ge in groups:
        if gs <= keep[0] and keep[1] <= ge:
            continue
        if gs >= start and ge <= end:
            for i in range(gs - 1 - start, min(ge + 1 - start, len(chars))):
                if 0 <= i < len(chars):
                    chars[i] = " "
    return "".join(chars)


class FactFinder:
    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        assert rules.grammar is not None and rules.scoring is not None, "rules loaded without grammar/scoring"
        self.g = rules.grammar
        self.sc = rules.scoring
        self.conf = rules.scoring.confidence
        self._part_of = {r.ratio_whole: r for r in rules.metrics if r.ratio_whole}
        nouns = sorted(rules.noun_classes, key=len, reverse=True)
        alternation = "|".join(r"\s+".join(map(regex.escape, n.split())) for n in nouns)
        # counts of metrics that name what they count by their own cue ("14 trạm phát sóng wifi"
        # for a metric with no noun classes): such a cue after a count is its noun
        self._own_noun_cues = [p.rx for r in rules.metrics if r.unit == "count" and not r.nouns
                               for c in r.cues for p in c.parts]
        self._noun_end_rx = regex.compile(r"(?<![\p{L}\p{N}])(?:" + alternation + r")\s*$")
        # "tổng số phiếu 721", "số phiếu rất hài lòng 492/721": a count label (its noun, then at
        # most four words) right before a bare value
        self._count_label_end = regex.compile(r"(?<![\p{L}])(?:" + self.g.count_label_words + r")\s+("
                                              + alternation + r")(?![\p{L}])(?:\s+\p{L}+){0,4}\s*:?\s*$",
                                              regex.IGNORECASE)

    # --- per value structure ------------------------------------------------------------
    def _noun_at(self, low: str, pos: int, limit: int) -> tuple[frozenset[str], int] | None:
        det = self.g.determiner.match(low, pos, limit)
        if det:
            pos = det.end()
        m = self.rules.noun_rx.match(low, pos, limit)
        if not m:
            return None
        after = m.end()
        if after < limit and regex.match(r"[\p{L}\p{N}]", low[after]):
            return None
        phrase = " ".join(low[m.start() : m.end()].split())
        classes = self.rules.noun_classes.get(phrase, frozenset())
        if self.g.classifier_class in classes:
            # a classifier counts the noun after it ("bộ hồ sơ" is in the table as one phrase;
            # "bộ, ngành" lists ministries); with no noun after it the value has no noun of its own
            joint = self.g.noun_joint.match(low, after, limit)
            nxt = self._noun_at(low, joint.end() if joint else after, limit)
            if nxt is not None and "junk" in nxt[0]:
                return nxt
            if nxt is not None and not joint:
                return nxt
            # with no noun after it, a word that is also a noun counts as that noun: "5 bản đặc
            # biệt khó khăn" are villages ("bản" is a hamlet as well as a copy)
            others = classes - {self.g.classifier_class}
            return (others, after) if others else None
        return classes, after

    def _rate_subject(self, low: str, start: int, end: int) -> frozenset[str] | None:
        """The noun a rate is a share of ("tỷ lệ hồ sơ ..."); None when it is a share of inhabitants
        or households ("tỷ lệ người dân sử dụng điện thoại thông minh"): no catalog share."""
        last = None
        for m in self.g.rate_subject.finditer(low, start, end):
            last = m
        return frozenset() if last is None else self._subject_at(low, last.end(), end)

    def _subject_at(self, low: str, pos: int, end: int) -> frozenset[str] | None:
        """The classes of the noun a rate word at `pos` names: empty when it names none (or junk),
        None for inhabitants (no catalog share)."""
        found = self._noun_at(low, pos, end)
        if found is None:
            return frozenset()
        if self.g.inhabitant_class in found[0]:
            return None
        return frozenset() if "junk" in found[0] else found[0]

    def _share_of(self, low: str, sent: Sentence, clause_start: int, m: NumberMention,
                  classes: frozenset[str], noun_end: int) -> tuple[frozenset[str], int, bool]:
        """What a percentage is a share of, and whether it may be a catalog share at all.

        The noun right after it counts first ("80% TTHC" is a share of procedures, not dossiers).
        With none, a rate word right after it names the subject ("80% tỷ lệ hồ sơ ...") and else
        the last rate word before it ("tỷ lệ hồ sơ ... đạt 80%"). A rate word earlier in the same
        clause also adds its subject to a noun after the value ("tỷ lệ hồ sơ ... trực tuyến 80% thủ
        tục toàn trình" is still a share of dossiers). A share of inhabitants is none (False)."""
        classes = self._filed(low, classes, noun_end, sent.end)
        if classes:
            before = self._rate_subject(low, clause_start, m.start)
            return (classes | before if before else classes), noun_end, True
        after = self.g.rate_subject.match(low, _SPACES.match(low, m.end, sent.end).end(), sent.end)
        if after is not None:
            named = self._subject_at(low, after.end(), sent.end)
            if named is None:
                return classes, noun_end, False
            if named:
                return named, m.end, True
        subject = self._rate_subject(low, sent.start, m.start)
        if subject is None:
            return classes, noun_end, False
        return subject, m.end, True

    def _filed(self, low: str, classes: frozenset[str], noun_end: int, limit: int) -> frozenset[str]:
        """A procedure followed by a filing verb also counts dossiers (grammar.yaml `filed_as`)."""
        filed = self.g.filed_as
        if filed and filed[0] in classes and filed[1] not in classes and filed[2].match(low, noun_end, limit):
            return classes | {filed[1]}
        return classes

    def _noun(self, low: str, end: int, limit: int, next_value: int) -> tuple[frozenset[str], int]:
        """The noun after a value, with a list of nouns joined to it ("cán bộ, công chức").

        A noun after a comma or "và" whose own phrase leads to the next value is not part of
        the list but the head of that value's label: "có mặt 62 người, lao động hợp đồng 14
        người" -- "lao động" starts the clause of 14, so 62 is just "người"."""
        first = self._noun_at(low, end, limit)
        if first is None:
            return frozenset(), end
        classes, after = first
        while True:
            joint = self.g.noun_joint.match(low, after, limit)
            if not joint:
                break
            more = self._noun_at(low, joint.end(), limit)
            if more is None or "junk" in more[0]:
                break
            boundary = _CLAUSE_END.search(low, more[1], limit)
            if next_value < (boundary.start() if boundary else limit):
                break
            classes, after = classes | more[0], more[1]
        return classes, after

    def _counts_unknown_noun(self, low: str, end: int, limit: int, next_value: int) -> bool:
        """A word right after a bare count that is neither a known noun (a classifier left alone
        gives no class) nor a word that may follow a count (grammar.yaml `count_followers`).
        Words that lead straight to the next value are its label, not this count's noun: "biên
        chế giao 31 hiện có 27 hợp đồng 2"."""
        gap = _SPACES.match(low, end, limit).end()
        if gap >= limit or not low[gap].isalpha():
            return False
        between = low[gap:next_value]
        if next_value < limit and not self.g.label_break.search(between) and len(between.split()) <= 3:
            return False
        return not (self.g.count_follower.match(low, end, limit) or self.rules.noun_rx.match(low, gap, limit)
                    or any(rx.match(low, gap, limit) for rx in self._own_noun_cues))

    def _counted_label(self, low: str, start: int, m: NumberMention) -> bool:
        """'số hồ sơ toàn trình là 2092': a year-like number linked to a label that counts a noun
        of a metric (and names no time) is a count."""
        lead = m.begin
        a = max(start, lead - 60)
        if not self.rules.link_rx.search(low, a, lead):
            return False
        label = low[a:lead]
        cut = max(label.rfind(","), label.rfind(";"))
        label = label[cut + 1 :]
        if self.g.time_word.search(label):
            return False
        junk = frozenset({"junk"})
        return any("junk" not in self.rules.noun_classes.get(" ".join(n.group(0).split()), junk)
                   for n in self.rules.noun_rx.finditer(label))

    def _values(self, sent: Sentence, text: str, low: str) -> list[_Value]:
        groups = _paren_groups(sent.text, sent.start)
        values: list[_Value] = []
        table = _TABLE_SEP in sent.text
        mentions = find_numbers(text, sent.start, sent.end, self.g)
        change_end = -1  # the end of the last value read as a change
        for i, m in enumerate(mentions):
            next_value = mentions[i + 1].start if i + 1 < len(mentions) else sent.end
            classes, noun_end = self._noun(low, m.end, sent.end, next_value)
            if not classes and i + 1 < len(mentions) and m.unit == mentions[i + 1].unit \
                    and self.g.range_joint.fullmatch(low, m.end, mentions[i + 1].start):
                # "từ 3 đến 5 tổ viên": the first end counts what the second end counts
                nxt = mentions[i + 1]
                later = mentions[i + 2].start if i + 2 < len(mentions) else sent.end
                classes = self._noun(low, nxt.end, sent.end, later)[0]
            if not classes and m.is_ratio:
                # "hoàn thành 100% (92/92) tiêu chí": a ratio alone in brackets counts the noun
                # after them
                alone = _RATIO_IN_BRACKETS.match(low, low.rfind("(", sent.start, m.start), sent.end)
                if alone and alone.start(1) == m.start:
                    classes = self._noun(low, alone.end(), sent.end, next_value)[0]
            if "junk" in classes or "member" in classes:
                continue
            filed = self.g.filed_as
            if filed and filed[3] is not None and filed[0] in classes and m.unit is None \
                    and m.value > filed[3]:
                classes = classes | {filed[1]}  # "giải quyết 60.349 thủ tục hành chính": dossiers
            clause_start = max(sent.start, low.rfind(";", sent.start, m.start) + 1)
            # (also inside the noun: "máy tính/người" is read as two nouns joined by the slash)
            slash = low.find("/", m.end, noun_end)
            if classes and (self.g.per_time.match(low, noun_end, sent.end)
                            or (slash >= 0 and self.g.per_time.match(low, slash, sent.end))
                            or self.g.per_time_frame.search(low, clause_start, m.start)):
                continue  # "200 bộ hồ sơ/ngày": a rate of work, not a figure of the period
            phrase_start = part_start(low, sent.start, m.start, ",;:")
            if self.g.distributive.search(low, phrase_start, m.start):
                continue  # "mỗi xã thành lập 1 tổ", "mỗi lớp gồm 30 học viên": a figure per unit, no total
            if not classes and m.unit is None:
                label = self._count_label_end.search(low, max(sent.start, m.start - 40), m.start)
                if label and "junk" in self.rules.noun_classes.get(" ".join(label.group(1).split()), ()):
                    continue  # "tổng số phiếu 721": the label counts a noun no metric takes
            if not classes and m.unit is None and self._counts_unknown_noun(low, m.end, sent.end, next_value):
                continue  # "31 phản ánh", "29 vị đại biểu": it counts a noun no metric knows
            lead = m.begin
            prev_end = mentions[i - 1].end if i else sent.start
            near = max(prev_end, lead - 60)
            near = part_start(low, near, lead, ",;:")  # its own clause only
            if self.g.not_quantity.search(low, near, lead):
                continue  # "dân số hơn 58.000 người", "diện tích 12,8 km2": not a catalog quantity
            if m.unit == "vnd" and self.g.not_budget.search(low, clause_start, lead):
                continue  # "tổng thu ngân sách 6 tháng ... đạt 4 tỷ đồng": money for another purpose
            if self.g.change_before.search(low, max(prev_end, lead - 30), lead) or (
                    change_end == prev_end and self.g.coordinated.fullmatch(low, prev_end, lead)):
                # "tăng 87% so với trước": how much it changed, not a level; so is a value joined
                # to a change ("mức giảm 35% thời gian và 17% chi phí")
                change_end = m.end
                continue
            if m.year_like and not classes and not self._counted_label(low, sent.start, m):
                continue  # "2025" alone is a year; "2027 hồ sơ" or "số hồ sơ ... là 2027" is a count
            if table:
                cell_start = text.rfind("|", sent.start, m.start)
                first_cell = cell_start <= sent.start
                rest = text[m.end : sent.end].lstrip()
                if first_cell and not text[sent.start : m.start].strip() and rest.startswith("|"):
                    continue  # the row number (STT) of a table
                row = low[sent.start : m.start] + low[m.end : sent.end]
                if m.unit is None and not m.is_ratio and self.g.percent_label.search(row):
                    m = dataclasses.replace(m, unit="percent")
            prev = values[-1] if values and values[-1].has_noun else None
            part_end = max(prev.noun_end, prev.m.end) if prev is not None else -1
            if m.unit == "percent" and not classes and prev is not None:
                # "1.569 dịch vụ công trực tuyến ..., chiếm tỉ lệ 82%": a share joined to the count
                # before it is a share of what that count counts
                if self.g.count_share.fullmatch(low, part_end, lead) or self.g.comma_share.fullmatch(
                        low, part_end, lead):
                    classes = prev.noun_classes
            if classes and prev is not None and prev.noun_classes < classes and m.unit == prev.m.unit:
                # "90% hồ sơ công việc cấp huyện và 70% hồ sơ cấp xã": a noun cut short after a
                # coordinated value of the same unit is that value's noun ("hồ sơ" = "hồ sơ công việc")
                own = " ".join(low[m.end : noun_end].split())
                theirs = " ".join(low[prev.m.end : prev.noun_end].split())
                if own and theirs.startswith(own + " ") and _ELLIPSIS_GAP.fullmatch(low, part_end, lead):
                    classes = prev.noun_classes
            if m.unit == "percent":
                classes, noun_end, keep = self._share_of(low, sent, clause_start, m, classes, noun_end)
                if not keep:
                    continue
            implied = not classes and m.unit != "vnd"
            inner = [g for g in groups if g[0] <= m.start and m.end <= g[1]]
            container = max(inner, key=lambda g: g[0]) if inner else (sent.start, sent.end)
            masked = _mask(text, container[0], container[1], groups, (m.start, m.end))
            rel = m.start - container[0]
            cs = masked.rfind(";", 0, rel) + 1
            ce = masked.find(";", rel)
            ce = len(masked) if ce < 0 else ce
            clause = (container[0] + cs, container[0] + ce)
            lead = m.begin
            linked = bool(self.rules.link_rx.search(low, max(clause[0], lead - 20), lead))
            values.append(
                _Value(m, classes, noun_end, linked, container, clause, bool(inner), implied=implied)
            )
        return values

    def _windows(self, values: list[_Value], low: str, masked_for) -> None:
        """Assign left/right label windows to values sharing a clause."""
        by_clause: dict[tuple[int, int], list[_Value]] = {}
        for v in values:
            by_clause.setdefault(v.clause, []).append(v)
        for clause, vs in by_clause.items():
            vs.sort(key=lambda v: v.m.start)
            text = masked_for(vs[0])
            c0 = clause[0]
            bounds: list[int] = []  # where the text between value i-1 and value i is cut
            for i, v in enumerate(vs):
                lead = v.m.begin
                prev = vs[i - 1] if i else None
                if prev is None:
                    start = c0
                    frame = self.rules.frame_rx.match(text, 0, lead - c0)
                    if frame and regex.search(r"\p{L}", text[frame.end() : lead - c0]):
                        start = c0 + frame.end()  # "Tại Bộ phận một cửa, | xã tiếp nhận 1.530 hồ sơ"
                    v.left = (self._after_colon(text, c0, start, lead), lead)
                    if v.in_paren and v.has_noun and v.m.unit is None and v.m.qualifier not in ("lt", "lte") \
                            and not low[v.left[0]:lead].strip():
                        # "tiếp nhận trực tiếp (7,7 ngàn HS)": a count alone in brackets is labelled
                        # by the phrase before them (not a bound: "(dưới 150 hồ sơ)")
                        open_at = v.container[0] - 1
                        v.left = (part_start(low, 0, open_at, ".;,(:\n"), open_at)
                    elif v.in_paren and v.m.unit == "percent" \
                            and self.g.share_lead.fullmatch(low, v.container[0], lead):
                        # "Tỷ lệ hồ sơ giải quyết đúng hạn tăng cao (đạt 99,81%)": a share alone in
                        # brackets after a rate that has no value of its own is that rate's value
                        open_at = v.container[0] - 1
                        phrase = part_start(low, 0, open_at, ".;,(:\n")
                        if self.g.rate_subject.search(low, phrase, open_at) \
                                and not regex.search(r"\d", low[phrase:open_at]):
                            v.left = (phrase, open_at)
                    bounds.append(c0)
                    continue
                start = max(prev.noun_end, prev.m.end)
                commas = [c for c in _COMMA.finditer(text, start - c0, lead - c0)
                          if not (self._list_comma(text, c.start()) or self._in_fixed_pair(text, c.start()))]
                if commas:  # "822 hồ sơ đã giải quyết, 295 hồ sơ ...": the comma ends the first
                    cut = c0 + commas[0].start()
                    left_start = c0 + commas[-1].end()
                elif prev.has_noun:
                    seps = [sep for sep in self.g.separator.finditer(text, start - c0, lead - c0)
                            if not self._in_fixed_pair(text, sep.start())]
                    cut = c0 + seps[-1].start() if seps else lead
                    left_start = c0 + seps[-1].end() if seps else lead
                    if seps and len(seps[-1].group(0)) > 4:  # "trên tổng số": the next value's label
                        left_start = cut
                else:
                    cut = left_start = start
                bounds.append(cut)
                v.left = (self._after_colon(text, c0, left_start, lead), lead)
            for i, v in enumerate(vs):
                right_end = clause[1] if i + 1 == len(vs) else bounds[i + 1]
                scope = self.rules.scope_rx.search(text, v.noun_end - c0, max(v.noun_end, right_end) - c0)
                if scope:
                    right_end = c0 + scope.start()
                v.right = (v.noun_end, max(v.noun_end, right_end))

    def _respectively(self, values: list[_Value], low: str) -> None:
        """'Hồ sơ trực tuyến và hồ sơ trực tiếp chiếm tỷ lệ tương ứng 91% và 9%': values listed in
        order after a respectively-word take the parts of the coordinated label before it, in order.
        Only when the label has at least as many parts as there are values (the last parts are the
        coordinated ones; a leading adjunct \"Trong kỳ, ...\" is not)."""
        rx = self.rules.respectively_rx
        vs = sorted(values, key=lambda v: v.m.start)
        i = 0
        while i < len(vs):
            v = vs[i]
            marker = rx.search(low, v.left[0], v.left[1]) if v.left[0] < v.left[1] else None
            j = i
            while marker and j + 1 < len(vs) and vs[j + 1].clause == v.clause:
                nxt = vs[j + 1]
                lead = nxt.m.begin
                gap = self.g.value_joint.fullmatch(low, max(vs[j].noun_end, vs[j].m.end), lead)
                if not gap or not gap.group(0).strip():
                    break
                j += 1
            n = j - i + 1
            if not marker or n < 2:
                i += 1
                continue
            cuts = [c.span() for c in self.g.label_joint.finditer(low, v.left[0], marker.start())]
            starts = [v.left[0]] + [e for _s, e in cuts]
            ends = [s for s, _e in cuts] + [marker.start()]
            parts = [(a, b) for a, b in zip(starts, ends, strict=True) if regex.search(r"\p{L}", low[a:b])]
            if len(parts) >= n:
                for k, part in enumerate(parts[-n:]):
                    vs[i + k].left = part
                    vs[i + k].respective = True
            i = j + 1

    def _in_fixed_pair(self, text: str, at: int) -> bool:
        """Whether the mark at `at` joins a fixed pair ("phòng, chống", "một phần và toàn trình"):
        it ends no label there."""
        return any(m.start() <= at < m.end()
                   for m in self.g.fixed_pair.finditer(text, max(0, at - 30), min(len(text), at + 30)))

    def _list_comma(self, text: str, at: int) -> bool:
        """A comma between two nouns lists them ("được tổ chức, công dân gửi qua Cổng"); it does
        not end the clause of the value before it."""
        if text[at] != ",":
            return False
        return bool(self._noun_end_rx.search(text, max(0, at - 40), at)
                    and self.rules.noun_rx.match(text, at + 1))

    def _after_colon(self, text: str, c0: int, start: int, lead: int) -> int:
        """'Kết quả giải quyết TTHC: tiếp nhận 457 hồ sơ': the label is what follows the colon
        (the words before it head the clause); 'Số lượng máy tính: 96' keeps its label."""
        colon = text.rfind(":", start - c0, lead - c0)
        if colon < 0 or not regex.search(r"\p{L}", text[colon + 1 : lead - c0]):
            return start
        topic = text[start - c0 : colon]
        if self.g.topic_header.match(text, start - c0, colon) and not regex.search(r"[,;:]", topic):
            return start  # "Về hồ sơ chưa có kết quả: còn 82 hồ sơ": the topic is the label
        return c0 + colon + 1

    # --- matching -----------------------------------------------------------------------
    @staticmethod
    def _in(ctx: SentenceContext, spans: list[tuple[int, int]], a: int, b: int) -> list[tuple[int, int]]:
        groups = ctx.exclude
        names = ctx.names
        return [
            s for s in spans
            if s[0] >= a and s[1] <= b and not any(g[0] - 1 <= s[0] and s[1] <= g[1] + 1 for g in groups)
            and not any(n[0] < s[0] < n[1] for n in names)
        ]

    def _affirmed(self, ctx: SentenceContext, hits: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Cue hits not in the scope of a negator before them: "không muộn hơn hạn" is not
        "muộn", "số máy tính chưa cài phần mềm diệt virus" is not "diệt virus"."""
        neg, own = self.rules.negation_rx, self.rules.negator_rx
        kept = [h for h in hits
                if own.match(ctx.low, h[0], h[1]) or not neg.search(ctx.low, max(0, h[0] - 60), h[0])]
        if len(kept) < len(hits):
            ctx.negated = True
        return kept

    def _context_bonus(self, ctx: SentenceContext, pats: tuple[Pattern, ...],
                       regions: list[tuple[str, int, int]], heading_low: str,
                       cue_span: tuple[int, int]) -> float | None:
        """Bonus for the nearest place a context is found. Around the value, a context next to
        the cue counts more than one far off in another clause: in "07 hồ sơ đang giải quyết đã
        quá hạn, UBND ... hẹn lại thời gian trả kết quả", "quá hạn" is governed by "đang giải
        quyết", not by "trả kết quả"."""
        for name, a, b in regions:
            gaps = [max(h[0] - cue_span[1], cue_span[0] - h[1], 0)
                    for p in pats for h in self._in(ctx, ctx.spans(p), a, b)]
            if gaps:
                near = min(gaps) if name == "local" else 0
                far = min(self.sc.context_far_max, self.sc.context_far_cost * near)
                return getattr(self.sc.context_bonus, name) - far
        for p in pats:
            if heading_low and p.search(heading_low):
                return self.sc.context_bonus.heading
        return None

    def _score_cue(self, cue: Cue, ctx: SentenceContext, window: tuple[int, int], side: str,
                   anchor: int, regions, heading_low: str,
                   guard: tuple[int, int] | None = None) -> tuple[float, tuple[int, int]] | None:
        a, b = window
        if a >= b:
            return None
        total_len = 0
        best_dist = None
        span = None
        modifier_at = self._modifier_start(ctx, a, b)
        # right of "N <noun>": words before the predicate ("được", "đã") restrict the noun, the
        # predicate names the metric ("100% máy tính kết nối mạng | được cài đặt ... mã độc")
        predicate_at = self._predicate_start(ctx, a, b) if side == "right" else a
        penalty = 0.0
        outside = False
        for part in cue.parts:
            hits = self._affirmed(ctx, self._in(ctx, ctx.spans(part), a, b))
            if side == "right" and hits:
                # a hit within the value's noun ("máy tính" of "17 máy tính") names nothing by
                # itself; it counts only as a piece of a cue reaching past the noun
                beyond = [h for h in hits if h[1] > anchor]
                if beyond:
                    hits, outside = beyond, True
                elif len(cue.parts) == 1:
                    hits = []
            if not hits:
                if self._in_topic(ctx, part):
                    # named by the fronted topic ("Đối với doanh nghiệp, ..."): a part of the cue
                    # that says nothing of where the label is
                    total_len += 1
                    outside = True
                    continue
                return None
            # nearest hit, but one in the head of the label before any in a modifier
            if side == "left":
                hit = max(hits, key=lambda s: (s[0] < modifier_at, s[1]))
                dist = anchor - hit[1]
            else:
                hit = min(hits, key=lambda s: (s[0] >= modifier_at, s[0]))
                dist = hit[0] - (predicate_at if hit[0] >= predicate_at else anchor)
            if hit[0] >= modifier_at:
                penalty = self.sc.modifier_cost
            elif hit[1] <= predicate_at:
                penalty = max(penalty, self.sc.restrictive_cost)
            # only the words past the noun say something the noun did not
            total_len += hit[1] - (max(hit[0], anchor) if side == "right" else hit[0])
            if best_dist is None or dist < best_dist:
                best_dist, span = dist, hit
        if side == "right" and not outside:
            return None
        if span is None:
            return None  # only the topic names it: the label itself must say something
        for p in cue.not_:
            if self._in(ctx, ctx.spans(p), a, b) or self._in_topic(ctx, p) \
                    or (guard is not None and self._in(ctx, ctx.spans(p), *guard)):
                return None  # (also in the guard: the figure a breakdown in brackets is of)
        bonus = 0.0
        if cue.context:
            found = self._context_bonus(ctx, cue.context, regions, heading_low, span)  # type: ignore[arg-type]
            if found is None:
                return None
            bonus = found
        score = total_len + bonus - penalty - self.sc.distance_cost * max(best_dist or 0, 0)
        return score, span  # type: ignore[return-value]

    def _topic_of(self, v: _Value, first: _Value, low: str) -> tuple[int, int] | None:
        """The fronted topic of v's clause: "Đối với doanh nghiệp, hộ kinh doanh, | 95% TTHC ..." --
        from the opener to the last comma before the clause's first value."""
        lead = first.m.begin
        m = self.rules.topic_rx.match(low, v.clause[0], lead)
        if not m:
            return None
        comma = low.rfind(",", m.end(), lead)
        return (m.start(), comma) if comma > 0 else None

    def _in_topic(self, ctx: SentenceContext, pat: Pattern) -> bool:
        return bool(ctx.topic and self._in(ctx, ctx.spans(pat), *ctx.topic))

    def _own_predicate(self, low: str, tail: tuple[int, int] | None) -> bool:
        """Whether the words after a count's noun (up to the next comma) hold a predicate of
        their own: a marker ("được", "đã", ...) with words after it."""
        if tail is None or self.rules.predicate_rx is None:
            return False
        m = self.rules.predicate_rx.search(low, *tail)
        return m is not None and bool(low[m.end(): tail[1]].strip())

    def _predicate_start(self, ctx: SentenceContext, a: int, b: int) -> int:
        """Where the predicate of "N <noun> ..." begins (`a` when no marker: all predicate)."""
        key = (-a, b)
        hit = ctx.modifier_cache.get(key)
        if hit is None:
            m = self.rules.predicate_rx.search(ctx.low, a, b) if self.rules.predicate_rx else None
            hit = m.start() if m and ctx.low[a:m.start()].strip() else a
            ctx.modifier_cache[key] = hit
        return hit

    def _modifier_start(self, ctx: SentenceContext, a: int, b: int) -> int:
        """Where the label's modifier begins: "mức liên thông | giữa phần mềm của xã với các nền
        tảng dùng chung" -- the head names the metric, the words after "giữa"/"với" are its
        arguments. `b` (nothing) when the window has no modifier opener."""
        key = (a, b)
        hit = ctx.modifier_cache.get(key)
        if hit is None:
            m = self.rules.modifier_rx.search(ctx.low, a, b) if self.rules.modifier_rx else None
            hit = m.start() if m else b
            ctx.modifier_cache[key] = hit
        return hit

    def _stands_in(self, ctx: SentenceContext, pats: tuple[Pattern, ...],
                   *spans: tuple[int, int] | None) -> bool:
        """Whether one of the phrases stands in one of the spans (None: no span)."""
        return any(self._in(ctx, ctx.spans(p), *span) for p in pats for span in spans if span is not None)

    def _ruled_out(self, ctx: SentenceContext, rule: MetricRule, *spans: tuple[int, int] | None) -> bool:
        """Whether one of the rule's `not` phrases stands in one of the spans (None: no span)."""
        return self._stands_in(ctx, rule.not_, *spans)

    def _best(self, cands: list[MetricRule], ctx: SentenceContext, window: tuple[int, int], side: str,
              anchor: int, regions, heading_low: str, tail: tuple[int, int] | None = None,
              paren_head: tuple[int, int] | None = None,
              own_phrase: tuple[int, int] | None = None) -> _Choice | None:
        """The best-scoring cue in `window`, of a metric none of whose `not`s stands in the window
        or the `tail` and none of whose `not_before`s stands in the value's `own_phrase` before it;
        a cue's own `not`s also count in the `paren_head`, the figure a breakdown in parentheses is
        of; a cue on the left with one of its metric's `not_nearer`s between it and the value does
        not count."""
        best: _Choice | None = None
        for rule in cands:
            if self._ruled_out(ctx, rule, window, tail) or any(self._in_topic(ctx, p) for p in rule.not_):
                continue
            if self._stands_in(ctx, rule.not_before, own_phrase):
                continue  # "Trả kết quả 575 hồ sơ qua đường bưu điện": the verb before it says what it is
            for cue in rule.cues:
                scored = self._score_cue(cue, ctx, window, side, anchor, regions, heading_low, paren_head)
                if scored and side == "left" \
                        and self._stands_in(ctx, rule.not_nearer, (scored[1][1], anchor)):
                    continue
                if scored and (best is None or scored[0] > best.score):
                    best = _Choice(rule, scored[0], scored[1], side)
        return best

    def _candidates(self, v: _Value) -> list[MetricRule]:
        unit = v.m.unit or "count"
        out = []
        for rule in self.rules.metrics:
            if rule.unit != unit:
                continue
            if v.noun_classes and not (v.noun_classes & rule.nouns):
                continue
            if rule.needs_noun and not v.noun_classes:
                continue  # "tỷ lệ sử dụng văn bản điện tử 99%" names no staff: no share of staff
            out.append(rule)
        return out

    def _scope_region(self, v: _Value, values_text: str, sent: Sentence, groups) -> tuple[int, int] | None:
        if v.in_paren:
            # the clause of the enclosing level, up to the opening bracket
            outer = [g for g in groups if g[0] < v.container[0] - 1 < g[1]]
            base = max(outer, key=lambda g: g[0]) if outer else (sent.start, sent.end)
            open_at = v.container[0] - 1
            seg = values_text[base[0] - sent.start : open_at - sent.start]
            cut = seg.rfind(";")
            return (base[0] + cut + 1, open_at)
        seg = values_text[: v.m.start - sent.start]
        found = None
        for m in self.rules.scope_rx.finditer(seg):
            found = m
        if not found:
            return None
        opener = sent.start + found.start()
        before = values_text[: found.start()]
        semi = before.rfind(";")
        clause_start = sent.start + semi + 1
        if not before[semi + 1 :].strip(" ,:-"):
            prev_semi = before.rfind(";", 0, max(semi, 0))
            return (sent.start + prev_semi + 1, sent.start + max(semi, 0))
        return (clause_start, opener)

    # --- main ---------------------------------------------------------------------------
    def sentence_facts(self, sent: Sentence, text: str, low: str, default_kind: str) -> list[Fact]:
        values = self._values(sent, text, low)
        if not values:
            return []
        groups = _paren_groups(sent.text, sent.start)
        masks: dict[tuple[int, int], str] = {}

        def masked_for(v: _Value) -> str:
            key = v.container
            if key not in masks:
                full = _mask(low, key[0], key[1], groups, (v.m.start, v.m.end))
                masks[key] = full
            cs = v.clause[0] - key[0]
            return masks[key][cs : cs + (v.clause[1] - v.clause[0])]

        self._windows(values, low, masked_for)
        self._respectively(values, low)
        # by clause: the noun the last linked label opened with, and the noun modifying it
        carried: dict[tuple[int, int], tuple[frozenset[str], frozenset[str]]] = {}
        for v in sorted(values, key=lambda x: x.m.start):
            if v.implied and v.left[0] < v.left[1]:
                # "Công chức tại Trung tâm ... | 14", "Số hồ sơ tiếp nhận là 5.297": the label's noun
                bullet = _BULLET.match(low, v.left[0], v.left[1])
                at = bullet.end() if bullet else v.left[0]
                found = self._noun_at(low, at, v.left[1])
                head = carried.get(v.clause)
                said = " ".join(low[at : found[1]].split()) if found else ""
                if head and v.linked and (found is None or said in head[1]):
                    # parallel labels share the head noun of the first: "Hồ sơ DVC toàn trình là
                    # 133, DVC một phần là 366" -- the second repeats only the modifier, 366 is dossiers
                    v.noun_classes = head[0]
                    continue
                if found and "junk" in found[0] and v.linked and v.m.unit is None:
                    # "Số mục tiêu đã hoàn thành: 19": the label counts a noun no metric takes
                    v.noun_classes = found[0]
                elif found and "junk" not in found[0]:
                    v.noun_classes = found[0]
                    if v.linked:
                        rest = regex.match(r"\s*", low[found[1] : v.left[1]])
                        mod_at = found[1] + (rest.end() if rest else 0)
                        mod = self._noun_at(low, mod_at, v.left[1])
                        # the modifier may be inside the head's own phrase ("hồ sơ tthc")
                        words = " ".join(low[at : found[1]].split()).split()
                        mods = {" ".join(words[i:]) for i in range(1, len(words))}
                        if mod:
                            mods.add(" ".join(low[mod_at : mod[1]].split()))
                        carried[v.clause] = (found[0], frozenset(mods))
                        continue
            carried.pop(v.clause, None)
        ctx = SentenceContext(sent, low, sent.start)
        ctx.names = ctx.spans(self.rules.office_names) if self.rules.office_names else []
        top_masked = _mask(low, sent.start, sent.end, groups, (-1, -1))
        heading_low = sent.heading.lower()
        facts: list[Fact] = []
        chosen: list[tuple[_Value, _Choice, float]] = []
        pending: list[_Value] = []  # shares in parentheses no cue named
        unnamed: list[_Value] = []  # shares of a noun that no cue named
        bare_shares: list[_Value] = []  # shares after a value that no cue named
        firsts: dict[tuple[int, int], _Value] = {}
        prevs: dict[int, _Value] = {}
        last: dict[tuple[int, int], _Value] = {}
        outer: _Value | None = None
        named: set[int] = set()  # the values a cue named, so far
        for v in sorted(values, key=lambda x: x.m.start):
            firsts.setdefault(v.clause, v)
            if v.clause in last:
                prevs[id(v)] = last[v.clause]
            elif v.in_paren and outer is not None and v.container[0] - 1 >= max(outer.noun_end, outer.m.end) \
                    and not low[max(outer.noun_end, outer.m.end) : v.container[0] - 1].strip():
                prevs[id(v)] = outer  # "chiếm 4,84% (tương ứng 24 hồ sơ)": restates the value before
            last[v.clause] = v
            if not v.in_paren:
                outer = v
        for v in values:
            first = firsts[v.clause]
            bare = v.m.unit is None and not v.has_noun and not v.m.is_ratio
            if bare and not v.linked and v is not first and v.left[0] >= v.left[1]:
                continue  # "03 đường truyền ... chuyên dùng 2,": a footnote mark, not a value
            cands = self._candidates(v)
            if not cands:
                continue
            ctx.exclude = [g for g in groups if not (g[0] <= v.m.start and v.m.end <= g[1])]
            ctx.negated = False
            ctx.topic = self._topic_of(v, first, low)
            head = (v.clause[0], first.left[1]) if v is not first else None
            scope = self._scope_region(v, top_masked, sent, groups)
            regions = [("local", v.left[0], v.right[1])]
            if head:
                regions.append(("head", *head))
            if scope:
                regions.append(("scope", *scope))
            label_first = v.linked or not v.has_noun or v.respective
            if label_first and v.has_noun and self.rules.partitive_rx.match(low, v.left[0], v.left[1]):
                label_first = False  # "Trong số thủ tục ...: 230 thủ tục <predicate>"
            sides = ["left", "right"] if label_first else ["right", "left"]
            prev = prevs.get(id(v))
            if prev is not None and (self.rules.correspondence_rx.fullmatch(low, v.left[0], v.left[1]) or (
                    v.in_paren and v.m.is_ratio and prev.m.unit == "percent"
                    and not low[v.container[0]: v.m.start].strip())):
                # "chiếm 62,86%, tương ứng 2.910 hồ sơ": the label of the value restated; so is a
                # ratio opening the parentheses after a share ("đạt 72,35% (224.930/310.903 hồ sơ)")
                sides.insert(0, "restated")
            choice = None
            confidence = 0.0
            # what a count's noun is said to be, up to the next comma: "trong đó có 3 công chức có
            # trình độ thạc sĩ" -- a metric this rules out is not read from a cue on the left or the
            # clause's head either (after a share's noun come its predicate and cues, not this)
            comma = low.find(",", v.noun_end, v.right[1])
            tail = (v.noun_end, comma if comma >= 0 else v.right[1]) \
                if v.has_noun and v.m.unit != "percent" else None
            # a breakdown in parentheses is of the figure just before them, and that figure's state
            # rules cues out for its parts too: "đang giải quyết 8.550 hồ sơ (trong hạn giải quyết
            # 7.815 hồ sơ, quá hạn 735 hồ sơ)" has no resolved dossiers in it. (Only a cue's own
            # `not`s: a metric's `not`s are about its label, and the head's verb is not the part's.)
            paren_head = None
            if v.in_paren:
                open_at = v.container[0] - 1
                joint = low.rfind(" và ", sent.start, open_at)
                phrase_start = part_start(low, sent.start, open_at, ",;(")
                paren_head = (max(joint + 4 if joint >= 0 else 0, phrase_start), open_at)
            if v.has_noun:
                # last, a cue reaching across the value's own noun: "90% kết quả ... được cấp
                # dưới dạng bản điện tử", "100% văn bản đi, đến ... được ký số"
                sides.append("noun+right")
            for i, side in enumerate(sides):
                if side == "restated":
                    window = (prev.left[0], prev.right[1])  # type: ignore[union-attr]
                    anchor, side = window[1], "left"
                elif side == "left":
                    window, anchor = v.left, v.left[1]
                else:
                    window = v.right if side == "right" else (v.m.end, v.right[1])
                    anchor, side = v.noun_end, "right"
                choice = self._best(cands, ctx, window, side, anchor, regions, heading_low,
                                    tail if side == "left" else None, paren_head,
                                    None if side == "left" else
                                    (part_start(low, v.left[0], v.left[1], ",;:("), v.left[1]))
                if choice:
                    confidence = self.conf.windows[i]
                    break
            if choice is None and prev is not None and v.m.unit == "percent":
                # "179 hồ sơ thuộc dịch vụ công trực tuyến một phần, chiếm tỷ lệ 68,58 %"
                # the count's own noun says what the cue's context asks for: "384/392 hồ sơ đầu
                # vào được số hóa, đạt 97,96%" is a share of dossiers digitized
                window = (prev.m.end, prev.right[1])
                choice = self._best(cands, ctx, window, "left", window[1],
                                    [*regions, ("head", prev.m.start, prev.right[1])], heading_low)
                if choice is None and v.in_paren and id(prev) not in named \
                        and self.g.share_lead.fullmatch(low, v.container[0], v.m.begin):
                    # "cấp kết quả điện tử 1.270/1.415 hồ sơ (đạt 89,75%)": a count no metric takes,
                    # its share in brackets after it -- the share its label names, of what it counts
                    of_it = [r for r in cands if not prev.noun_classes or prev.noun_classes & r.nouns]
                    choice = self._best(of_it, ctx, prev.left, "left", prev.left[1], regions, heading_low)
                confidence = self.conf.previous_share
            if choice is None and head and not self._own_predicate(low, tail):
                # a metric its own label rules out is not read from the clause's head ("tiếp nhận
                # 300 hồ sơ (..., hồ sơ tồn trước chuyển sang 50 hồ sơ)": 50 is no receipt); nor
                # is a count that has its own predicate ("Tỷ lệ giải quyết đúng hạn đạt 100%, với
                # 384 hồ sơ được số hóa": what its predicate says is no catalog figure)
                own = [r for r in cands if not self._ruled_out(ctx, r, v.left, tail)
                       and not self._stands_in(ctx, r.not_nearer, v.left)]
                choice = self._best(own, ctx, head, "left", head[1], regions, heading_low)
                confidence = self.conf.clause_head
            if choice is None and v.noun_classes and not ctx.negated:
                # (a negated cue means the value counts the complement: "số thôn chưa có Tổ
                # công nghệ số" is not the number of villages, so the noun alone says nothing)
                # nor is it read so where its phrase says what rules the metric out: "thành lập
                # 23 tổ công nghệ số cộng đồng tại 23 ấp" gives no number of villages
                phrase = (max(v.clause[0], low.rfind(",", v.clause[0], v.m.start) + 1), v.m.start)
                only = [r for r in cands if r.noun_only & v.noun_classes and (
                    not r.noun_only_context or any(ctx.spans(p) for p in r.noun_only_context))
                    and not self._ruled_out(ctx, r, phrase)]
                if len(only) == 1:
                    choice = _Choice(only[0], 0.0, (v.m.start, v.noun_end), "noun")
                    confidence = self.conf.noun_only
            if choice is None:
                if v.m.unit == "percent" and v.in_paren:
                    pending.append(v)
                elif v.m.unit == "percent" and v.has_noun:
                    unnamed.append(v)
                elif v.m.unit == "percent" and prev is not None:
                    bare_shares.append(v)
                continue
            chosen.append((v, choice, confidence))
            named.add(id(v))
        self._coordinated_shares(unnamed, chosen, low)
        self._wholes_by_noun(chosen)
        self._parts_in_breakdowns(chosen, low)
        self._shares(chosen, pending, low)
        self._shares_after_counts(chosen, prevs, low)
        self._bare_shares_after_counts(chosen, bare_shares, prevs, low)
        for v, choice, confidence in chosen:
            if choice.where in ("left", "right"):
                dist = abs((v.m.start if choice.cue_span[1] <= v.m.start else choice.cue_span[0]) - v.m.end)
                if dist > self.conf.far_cue_chars:
                    confidence += self.conf.far_cue
            if v.m.is_ratio and not choice.rule.ratio_whole and choice.rule.code in self._part_of:
                # "12/14 tiêu chí" labelled as the whole: the written part is the other metric
                choice = _Choice(self._part_of[choice.rule.code], choice.score, choice.cue_span, choice.where)
            kind = self._kind(ctx, sent, v, default_kind)
            facts.append(self._fact(choice.rule, v.m.value, v, sent, kind, confidence, choice))
            if v.m.is_ratio and choice.rule.ratio_whole:
                whole = self.rules.by_code[choice.rule.ratio_whole]
                facts.append(self._fact(whole, float(v.m.whole), v, sent, kind, confidence, choice, "whole"))
        return facts

    def _coordinated_shares(self, unnamed: list[_Value], chosen: list[tuple[_Value, _Choice, float]],
                            low: str) -> None:
        """'90% hồ sơ công việc cấp huyện, 80% hồ sơ công việc cấp xã được xử lý trên môi trường
        mạng': a share of a noun coordinated with the next share of the same noun takes the
        predicate that names the next one."""
        for v in unnamed:
            nxt = min(((u, c, conf) for u, c, conf in chosen if u.m.start > v.m.end and u.clause == v.clause),
                      key=lambda t: t[0].m.start, default=None)
            if nxt is None:
                continue
            u, choice, conf = nxt
            lead = u.m.begin
            if u.m.unit != "percent" or choice.where not in ("right", "noun+right") \
                    or u.noun_classes != v.noun_classes \
                    or not self.g.coordinated.fullmatch(low, v.noun_end, lead):
                continue
            chosen.append((v, _Choice(choice.rule, choice.score, choice.cue_span, "coordinated"), conf))

    def _shares(self, chosen: list[tuple[_Value, _Choice, float]], pending: list[_Value], low: str) -> None:
        """'đã cài phần mềm diệt virus: 58 máy (đạt 82,86%)', 'Tổ ... ở 23 thôn (chiếm 63,89% tổng số
        thôn)': a bare share in parentheses closing the phrase of a count is the share of that
        count's part -- the percent metric the part's metric names as its `share`."""
        for v in pending:
            lead = v.m.begin
            if not self.g.share_lead.fullmatch(low, v.container[0], lead):
                continue
            if regex.search(r"[\p{L}\p{N}]", low[v.noun_end : v.container[1]]):
                continue  # the share says more than the part it measures
            open_at = v.container[0] - 1
            for u, choice, conf in chosen:
                if u.in_paren and u.container == v.container:
                    continue
                end = max(u.noun_end, u.m.end)
                between = self.g.fixed_pair.sub(" ", low[end:open_at])
                if end > open_at or regex.search(r"[\p{N},;:()]", between) or open_at - end > 80:
                    continue  # the parentheses close the part's own phrase
                rule = self.rules.read_as(choice.rule, low)
                if u.m.is_ratio and not rule.ratio_whole and rule.code in self._part_of:
                    rule = self._part_of[rule.code]
                share = self.rules.share_of(rule)
                if share is None or (v.noun_classes and not v.noun_classes & share.nouns):
                    continue
                chosen.append((v, _Choice(share, choice.score, choice.cue_span, "share"),
                               conf + self.conf.share_in_parentheses))
                break

    def _shares_after_counts(self, chosen: list[tuple[_Value, _Choice, float]], prevs: dict[int, _Value],
                             low: str) -> None:
        """A share right after a count, joined to it by a share verb, is that count's share:
        - 'một phần: 339 hồ sơ, chiếm 75,13% số hồ sơ nộp qua mạng': led by ', chiếm' and followed
          by the whole it is taken of ('số hồ sơ ...', 'tổng số ...'), it is the `share` of the
          count's metric; the words after it name the whole, not the part;
        - '99.558 hồ sơ giải quyết trước hạn đạt 48,2%', '13.767 hồ sơ trước hạn, chiếm 78%': with
          only the count's own words between, it is the `share` of the metric the count is read
          as (`alone_means`); when that metric's shares have no code (`no_share`: early dossiers,
          unqualified resolved ones) it is no catalog figure and is dropped, whatever cue its own
          words matched; a count with neither leaves the share its own reading."""
        by_value = {id(u): c for u, c, _ in chosen}
        drop: set[int] = set()
        for i, (v, choice, conf) in enumerate(chosen):
            prev = prevs.get(id(v))
            if v.m.unit != "percent" or prev is None or id(prev) not in by_value:
                continue
            lead = v.m.begin
            part_end = max(prev.noun_end, prev.m.end)
            rule = by_value[id(prev)].rule
            share = self.rules.share_of(rule)
            if share is not None and self.g.comma_share.fullmatch(low, part_end, lead) \
                    and self.g.whole_after.match(low, v.m.end, max(v.m.end, v.right[1])):
                if share is not choice.rule:
                    chosen[i] = (v, _Choice(share, choice.score, choice.cue_span, "share"), conf)
                continue
            if v.in_paren or prev.m.unit == "percent" or prev.m.is_ratio \
                    or not self.g.count_share.fullmatch(low, part_end, lead):
                continue
            rule = self.rules.read_as(rule, low)
            share = self.rules.share_of(rule)
            if choice.where == "right" and v.has_noun:
                continue  # "giải quyết 12.000 hồ sơ, đạt tỷ lệ 97% hồ sơ đúng hạn": its own words name it
            if rule.no_share:
                drop.add(i)
            elif share is not None and share is not choice.rule:
                chosen[i] = (v, _Choice(share, choice.score, choice.cue_span, "share"), conf)
        if drop:
            chosen[:] = [c for i, c in enumerate(chosen) if i not in drop]

    def _bare_shares_after_counts(self, chosen: list[tuple[_Value, _Choice, float]], bare: list[_Value],
                                  prevs: dict[int, _Value], low: str) -> None:
        """'tiếp nhận 19.914 hồ sơ, giải quyết đúng hẹn 19.723 hồ sơ, đạt 99,04%': a share no cue
        named, joined by a share verb to the count before it, is the `share` of the metric that
        count is read as (`alone_means`), when that metric's shares have a code. Its label is the
        count's, which may lie before the clause's first value, beyond the share's own windows."""
        by_value = {id(u): (c, conf) for u, c, conf in chosen}
        for v in bare:
            prev = prevs[id(v)]
            if id(prev) not in by_value or prev.m.unit == "percent":
                continue
            lead = v.m.begin
            if not self.g.count_share.fullmatch(low, max(prev.noun_end, prev.m.end), lead):
                continue
            choice, conf = by_value[id(prev)]
            rule = self.rules.read_as(choice.rule, low)
            share = self.rules.share_of(rule)
            if share is not None and not rule.no_share:
                chosen.append((v, _Choice(share, choice.score, choice.cue_span, "share"),
                               min(conf, self.conf.previous_share)))

    def _parts_in_breakdowns(self, chosen: list[tuple[_Value, _Choice, float]], low: str) -> None:
        """'có tổng cộng 26 máy tính, trong đó có 22 máy để bàn, 4 máy tính xách tay': a smaller count
        read as the same metric as a count before it, after a breakdown opener between them, is one
        of its parts; no word named it another metric, so it is no catalog figure. A part its label
        calls the period's own (grammar.yaml `own_period_parts`: "trong đó hồ sơ mới tiếp nhận là
        10.133") is the figure, and the whole the work of the period, carried-over dossiers included."""
        drop = set()
        for i, (v, choice, _conf) in enumerate(chosen):
            if v.m.unit == "percent" or v.m.is_ratio \
                    or self.g.own_period_part.search(low, v.left[0], max(v.left[1], v.right[1])):
                continue
            for u, c, _ in chosen:
                if u is v or c.rule is not choice.rule or u.m.unit == "percent" or u.m.is_ratio \
                        or not u.m.end <= v.m.start or u.m.value <= v.m.value:
                    continue
                if self.rules.scope_rx.search(low, u.m.end, v.m.start):
                    drop.add(i)
                    break
        if drop:
            chosen[:] = [c for i, c in enumerate(chosen) if i not in drop]

    def _wholes_by_noun(self, chosen: list[tuple[_Value, _Choice, float]]) -> None:
        """'Có 14 tiêu chí cần đánh giá, xã đạt 12 tiêu chí': a value named by its noun alone, next
        to a value of the same metric named by a cue and not larger, is the whole (ratio_whole)."""
        for i, (v, choice, conf) in enumerate(chosen):
            whole = choice.rule.ratio_whole
            if choice.where != "noun" or not whole or v.m.is_ratio:
                continue
            if any(c.rule is choice.rule and c.where != "noun" and w.m.value <= v.m.value
                   for w, c, _ in chosen if w is not v):
                new = _Choice(self.rules.by_code[whole], choice.score, choice.cue_span, "noun-whole")
                chosen[i] = (v, new, conf)

    def _kind(self, ctx: SentenceContext, sent: Sentence, v: _Value, default_kind: str) -> str:
        lead = v.m.begin
        best: tuple[int, str] | None = None
        for kind, pat in self.rules.kind_cues:
            for _s, e in ctx.spans(pat):
                # the value's own lead may be a cue: "tối thiểu 60%" is a floor set for it
                if e <= max(lead, v.m.start) and (best is None or e > best[0]):
                    best = (e, kind)
        if best:
            return best[1]
        # no cue before it: a future marker after it in its clause ("... sẽ được số hóa")
        ends = [i for i in (ctx.low.find(c, v.m.end, sent.end) for c in ";.") if i >= 0]
        clause_end = min(ends or [sent.end])
        for kind, pat in self.rules.kind_cues_after:
            if any(v.m.end <= s and e <= clause_end for s, e in ctx.spans(pat)):
                return kind
        return default_kind

    def _fact(self, rule: MetricRule, value: float, v: _Value, sent: Sentence, kind: str,
              confidence: float, choice: _Choice, role: str = "") -> Fact:
        return Fact(
            metric=rule.code,
            kind=kind,
            value=float(value),
            unit=rule.unit,
            qualifier=v.m.qualifier if not role else "eq",
            char_start=sent.start,
            char_end=sent.end,
            evidence=sent.text,
            extractor=f"metrics.yaml:{rule.code}:{choice.where}" + (f":{role}" if role else ""),
            confidence=round(max(self.conf.floor, min(1.0, confidence)), 2),
            value_start=v.m.start,
        )
