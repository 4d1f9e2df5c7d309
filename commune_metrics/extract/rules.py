"""Load, check and compile the extraction rules in rules/ (metrics.yaml, vocabulary.yaml,
grammar.yaml, scoring.yaml).

Rules are data: an analyst adds a synonym or a metric by editing YAML. Every file is read
through one validating loader (schemas.load_rule_file); mistakes are caught at load time with a
message naming the file, the metric and the problem (RulesError). Compiled rules are built once
per process (`get_rules()`), never per document, and are read-only afterwards (shared by threads).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regex

from commune_metrics.core.config import RULES_DIR
from commune_metrics.extract.schemas import (
    GrammarFile,
    MetricEntry,
    MetricsFile,
    RulesError,
    ScoringFile,
    VocabularyFile,
    load_rule_file,
)
from commune_metrics.extract.scope import ScopeReader

__all__ = ["RulesError", "Rules", "MetricRule", "MetricDef", "Grammar", "get_rules", "load_rules",
           "load_catalog"]


@dataclass(frozen=True)
class MetricDef:
    code: str
    unit: str
    label_vi: str
    description: str
    flow: bool = False
    better: str | None = None
    comparison_column: str | None = None


@dataclass(frozen=True)
class Pattern:
    """One phrase or regex, compiled; `source` is what the YAML said."""

    source: str
    rx: Any  # regex.Pattern

    def finditer(self, text: str, start: int = 0, end: int | None = None):
        return self.rx.finditer(text, start, len(text) if end is None else end)

    def search(self, text: str, start: int = 0, end: int | None = None):
        return self.rx.search(text, start, len(text) if end is None else end)


@dataclass(frozen=True)
class Cue:
    parts: tuple[Pattern, ...]  # all must match in the window
    context: tuple[Pattern, ...] = ()  # one must match around the value
    not_: tuple[Pattern, ...] = ()


@dataclass(frozen=True)
class MetricRule:
    code: str
    unit: str
    label_vi: str
    description: str
    nouns: frozenset[str]
    cues: tuple[Cue, ...]
    not_: tuple[Pattern, ...] = ()
    not_nearer: tuple[Pattern, ...] = ()  # between a cue on the left and the value: another figure
    not_before: tuple[Pattern, ...] = ()  # in the value's own phrase before it: a cue after it does not count
    noun_only: frozenset[str] = frozenset()  # noun classes that name this metric on their own
    noun_only_context: tuple[Pattern, ...] = ()  # ... only in a sentence that says one of these
    ratio_whole: str | None = None
    share: str | None = None  # the percent metric of the same part ("58 máy (đạt 82,86%)")
    no_share: bool = False  # a share joined to this count is no catalog figure
    # level ("commune", "district", "province", "any") -> (min, max); None: no bound
    plausible: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    targets: bool = True  # whether a plan can set this figure
    needs_noun: bool = False  # read only from a value whose counted noun is named
    # (metric, words, keep_both): this metric's figures are `metric`'s in a document with none of
    # `words` (with keep_both, they are kept under this metric as well)
    alone_means: tuple[str, tuple[str, ...], bool] | None = None


@dataclass(frozen=True)
class Grammar:
    """grammar.yaml compiled: the function-word patterns the engine reads sentences with."""

    noun_joint: Any  # between listed nouns ("cán bộ, công chức")
    value_joint: Any  # between values listed in order ("91% và 9%")
    label_joint: Any  # between label parts
    determiner: Any  # words measuring or collecting the noun after a value
    rate_subject: Any  # "tỷ lệ (số)" before the subject of a bare percentage
    share_lead: Any  # the words before a bare share in parentheses
    comma_share: Any  # ", chiếm X%" after a count
    count_share: Any  # "N hồ sơ trước hạn đạt X%": the words between a count and its share
    whole_after: Any  # "(trên) tổng số" after a share
    fixed_pair: Any  # "phòng, chống"
    own_period_part: Any  # a breakdown's part that is the period's own figure ("mới tiếp nhận")
    topic_header: Any  # "Về ...:" before a colon
    time_word: Any  # a label naming a time
    percent_label: Any  # a table row or label saying its figures are percentages
    separator: Any  # separates one value's label from the next
    row_number_header: Any
    generic_header: Any
    percent_header: Any
    target_header: Any
    actual_header: Any
    classifier_class: str  # the noun class whose words defer to the noun after them
    inhabitant_class: str | None  # a rate of these nouns is no catalog share
    # (class, class it stands for, the verbs after it that say so, the count above which it always does)
    filed_as: tuple[str, str, Any, float | None] | None
    count_label_words: str  # an alternation: the words of a count label before its noun ("tổng số")
    label_break: Any  # words past one of these are no label of the next value ("của")
    money_before: Any  # a money word in the clause before a multiplier ("kinh phí ... 500 triệu")
    name_before: Any  # a number right after one of these is a name or position ("mức độ 4")
    proper_name_before: Any  # ... or after one of these and a proper name ("xã Ia Ly 2", "làng Kép 2")
    time_before: Any  # ... a date or period ("tháng 9")
    time_of_day: Any  # "sáng 13-10": a day-month date
    page_counter: Any  # a line's start up to a number that is a web page's visitor counter
    not_quantity: Any  # a label that makes a number not a catalog quantity ("dân số")
    not_budget: Any  # in money's clause: a purpose that is no digital-transformation budget
    range_joint: Any  # between the two ends of a range ("từ 3 đến 5 tổ viên")
    count_follower: Any  # a word that may follow a count with no noun of its own ("1.537 trực tuyến")
    headless_row: Any  # numbers in a row with only spaces between them: a table that lost its headers
    coordinated: Any  # between two coordinated values: the first one's noun, then "và" or a comma
    per_time_frame: Any  # "mỗi ngày" earlier in the value's clause: the count is per day
    distributive: Any  # "mỗi xã" earlier in the value's clause: a figure per unit, no total
    per_time: Any  # "hồ sơ/ngày", "mỗi ngày" right after a count's noun: a rate of work
    change_before: Any  # a verb of change right before a value ("tăng 87%"): an amount of change


@dataclass
class Rules:
    metrics: list[MetricRule]
    noun_rx: Any  # matches a noun phrase at a position
    noun_classes: dict[str, frozenset[str]]  # lower-cased phrase -> classes
    link_rx: Any
    scope_rx: Any
    negation_rx: Any  # a negator whose scope reaches a position ("không muộn hơn hạn")
    negator_rx: Any  # a negator at a position (a cue that starts with one is not negated again)
    modifier_rx: Any  # opens a modifier of the label's head noun ("giữa", "với"); None: none
    predicate_rx: Any  # starts the predicate after "N <noun>" ("được", "đã"); None: none
    partitive_rx: Any  # a label that names the whole the value is taken from ("Trong số ...:")
    correspondence_rx: Any  # a label that only restates the value before ("..., tương ứng N")
    office_names: Pattern | None  # names of offices made of verbs ("bộ phận tiếp nhận và trả kết quả")
    frame_rx: Any  # a place framing the clause before a comma ("Tại Bộ phận một cửa, ...")
    respectively_rx: Any  # ends a label shared out in order ("A và B lần lượt là X và Y")
    topic_rx: Any  # opens a fronted topic that restricts the whole clause ("Đối với doanh nghiệp, ...")
    kind_cues: list[tuple[str, Pattern]]
    kind_cues_after: list[tuple[str, Pattern]] = field(default_factory=list)
    target_headings: tuple[Pattern, ...] = ()
    actual_headings: tuple[Pattern, ...] = ()
    target_document_heads: tuple[Pattern, ...] = ()
    target_document_head_chars: int = 500
    target_continuations: tuple[Pattern, ...] = ()  # "Theo đó," after a sentence that set targets
    by_code: dict[str, MetricRule] = field(default_factory=dict)
    grammar: Grammar | None = None
    scoring: ScoringFile | None = None
    scope: ScopeReader | None = None
    # "N hồ sơ chứng thực" after the value, "Hộ tịch: N" before it: one field's dossiers
    field_after: Any = None
    field_before: Any = None

    def share_of(self, rule: MetricRule) -> MetricRule | None:
        """The percent metric of the same part as `rule` (metrics.yaml `share`), if it has one."""
        return self.by_code.get(rule.share) if rule.share else None

    def read_as(self, rule: MetricRule, low: str) -> MetricRule:
        """The metric a figure of `rule` is read as in the document whose lower-cased text is
        `low` (metrics.yaml `alone_means`: "đúng hạn" in a text with no early count is the
        in-time count)."""
        if rule.alone_means is not None and not any(w in low for w in rule.alone_means[1]):
            return self.by_code[rule.alone_means[0]]
        return rule


# Synonym groups (vocabulary.yaml `synonyms`): a phrase member -> the regex of its whole group.
Synonyms = dict[tuple[str, ...], str]


def _synonym_table(groups: Any, where: str) -> Synonyms:
    """Each group is a list of interchangeable phrases ("quá hạn", "vượt thời hạn"); a cue
    written with one member matches every member, so a clerk's wording need not be listed
    in every cue, context and `not` of every metric."""
    if groups is None:
        return {}
    def plain(p: Any) -> bool:
        return isinstance(p, str) and bool(p.strip()) and not p.startswith("re:")

    if not isinstance(groups, list) or not all(
            isinstance(g, list) and len(g) > 1 and all(map(plain, g)) for g in groups):
        raise RulesError(f"{where}: 'synonyms' must be a list of groups of two or more plain phrases")
    table: Synonyms = {}
    for group in groups:
        members = sorted({" ".join(p.lower().split()) for p in group}, key=len, reverse=True)
        rx = "(?:" + "|".join(r"\s+".join(regex.escape(w) for w in m.split()) for m in members) + ")"
        for m in members:
            key = tuple(m.split())
            if key in table:
                raise RulesError(f"{where}: synonym {m!r} is in two groups")
            table[key] = rx
    return table


def _words_regex(words: list[str], synonyms: Synonyms | None) -> str:
    if not synonyms:
        return r"\s+".join(regex.escape(w) for w in words)
    longest = max(len(k) for k in synonyms)
    parts: list[str] = []
    i = 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            rx = synonyms.get(tuple(words[i : i + n]))
            if rx:
                parts.append(rx)
                i += n
                break
        else:
            parts.append(regex.escape(words[i]))
            i += 1
    return r"\s+".join(parts)


def _phrase_regex(phrase: str, synonyms: Synonyms | None = None) -> str:
    """A phrase -> regex matching it as whole words with any spacing, case-insensitively; a
    run of words that is a synonym matches any member of its group."""
    if phrase.startswith("re:"):
        return phrase[3:]
    words = phrase.strip().lower().split()
    body = _words_regex(words, synonyms)
    head = r"(?<![\p{L}\p{N}])" if regex.match(r"[\p{L}\p{N}]", words[0]) else ""
    tail = r"(?![\p{L}\p{N}])" if regex.search(r"[\p{L}\p{N}]$", words[-1]) else ""
    return head + body + tail


def compile_phrase(phrase: Any, where: str, synonyms: Synonyms | None = None) -> Pattern:
    if not isinstance(phrase, str) or not phrase.strip():
        raise RulesError(f"{where}: expected a non-empty phrase, got {phrase!r}")
    try:
        rx = regex.compile(_phrase_regex(phrase, synonyms), regex.IGNORECASE | regex.V0)
    except regex.error as exc:
        raise RulesError(f"{where}: bad regex {phrase!r}: {exc}") from exc
    if rx.search("") is not None:
        raise RulesError(f"{where}: pattern {phrase!r} matches the empty string")
    return Pattern(phrase, rx)


def _phrases(value: Any, where: str, synonyms: Synonyms | None = None) -> tuple[Pattern, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise RulesError(f"{where}: expected a list of phrases, got {type(value).__name__}")
    return tuple(compile_phrase(p, where, synonyms) for p in value)


def _cue(item: Any, where: str, synonyms: Synonyms | None = None) -> Cue:
    if isinstance(item, str):
        return Cue(parts=(compile_phrase(item, where, synonyms),))
    # a CueItem: its shape (exactly one of cue/all, known fields) was checked by the schema
    parts = _phrases(item.cue if item.cue is not None else item.all, where, synonyms)
    return Cue(parts=parts, context=_phrases(item.context, where + " context", synonyms),
               not_=_phrases(item.not_, where + " not", synonyms))


def _catalog_entries(path: Path) -> list[MetricEntry]:
    return load_rule_file(path, MetricsFile).metrics


def load_catalog(rules_dir: Path | None = None) -> list[MetricDef]:
    """The metric catalog (code, unit, Vietnamese label, description, and what the warehouse
    needs: flow, better, comparison_column) from rules/metrics.yaml."""
    path = Path(rules_dir or RULES_DIR) / "metrics.yaml"
    return [
        MetricDef(e.code, e.unit, e.label_vi.strip(), e.description.strip(), e.flow, e.better,
                  e.comparison_column)
        for e in _catalog_entries(path)
    ]


def _noun_only(value: Any, classes: list[str], nouns: dict, where: str) -> frozenset[str]:
    """`noun_only: true` means all the metric's noun classes; a list names some of them."""
    if value in (None, False, []):
        return frozenset()
    if value is True:
        return frozenset(classes)
    if not isinstance(value, list) or any(c not in classes for c in value):
        raise RulesError(f"{where}: noun_only must be true or a list of the metric's noun classes")
    return frozenset(value)


def _alternation(phrases: list[str]) -> str:
    return "|".join(_phrase_regex(p) for p in sorted(set(phrases), key=len, reverse=True))


def _words(phrases: list[str]) -> str:
    """An alternation of plain phrases (any spacing inside) or "re:" patterns, longest first,
    with no word boundaries: the caller's pattern decides where the words may stand."""
    parts = sorted(set(phrases), key=len, reverse=True)
    return "|".join(p[3:] if p.startswith("re:") else r"\s+".join(map(regex.escape, p.lower().split()))
                    for p in parts)


def _word(phrases: list[str]) -> str:
    """The alternation as whole words: not inside a longer word."""
    return r"(?<![\p{L}])(?:" + _words(phrases) + r")(?![\p{L}])"


def _filed_as(f: Any, flags: int) -> tuple[str, str, Any, float | None]:
    """A procedure followed by a filing verb (an aspect word, "được" and its agent may come
    between) stands for its dossiers."""
    aspect = _words(f.aspect or ["re:(?!)"])
    passive = _words(f.passive or ["re:(?!)"])
    rx = regex.compile(r"\s*(?:\(.{0,20}?\)\s*)?(?:(?:" + aspect + r")\s+)?(?:(?:" + passive
                       + r")(?:\s+\p{L}+){0,3}?\s+)?(?:" + _words(f.verbs) + r")(?![\p{L}])", flags)
    return f.noun_class, f.counts, rx, f.above


def compile_grammar(g: GrammarFile) -> Grammar:
    """The engine's sentence patterns, built from grammar.yaml's words. The shapes (where a
    pattern applies, what punctuation ends it) are the engine's; every word is data."""
    flags = regex.IGNORECASE
    coord = _word(g.coordinators)
    rate = _word(g.rate_words)
    approx = _words(g.approximators)
    # after the verb of a share joined to its count: an optional rate word, then an approximator
    share_tail = r"(?:\s+(?:" + _words(g.rate_words) + r"))?(?:\s+(?:" + approx + r"))?\s*"
    fixed = "|".join(r"\s*,\s*".join(r"\s+".join(map(regex.escape, w.split())) for w in p.lower().split(","))
                     for p in g.fixed_pairs)
    t = g.table
    return Grammar(
        noun_joint=regex.compile(r"\s*(?:,|/|" + coord + ")"),
        value_joint=regex.compile(r"[\s,]*(?:" + coord + r")?\s*"),
        label_joint=regex.compile(r",|" + coord),
        determiner=regex.compile(r"(?:\s*(?:" + _words(g.determiners) + r")(?=\s))+"),
        rate_subject=regex.compile(r"(?<![\p{L}])(?:" + _words(g.rate_words) + r")(?:\s+(?:"
                                   + _words(g.rate_determiners) + r"))?(?=\s)"),
        share_lead=regex.compile(
            r"\s*(?:(?:" + _words(g.share_verbs) + r")(?:\s+(?:" + _words(g.rate_words) + "|" + approx
            + r"))?"
            r"|(?:" + _words(g.rate_words) + r")(?:\s+là)?)?\s*:?\s*"),
        comma_share=regex.compile(r"\s*,\s*(?:" + _words(g.comma_share_verbs) + ")" + share_tail),
        count_share=regex.compile(r"[^\d;,.:()%]{0,60}?,?\s*(?:" + _words(g.count_share_verbs) + ")"
                                  + share_tail),
        whole_after=regex.compile(r"\s*(?:(?:" + _words(g.whole_prepositions) + r")\s+)?(?:"
                                  + _words(g.whole_words) + r")(?![\p{L}])"),
        fixed_pair=regex.compile(r"(?<![\p{L}])(?:" + (fixed or "(?!)") + r")(?![\p{L}])"),
        own_period_part=regex.compile(r"(?<![\p{L}])(?:" + _words(g.own_period_parts or ["re:(?!)"])
                                      + r")(?![\p{L}])", flags),
        topic_header=regex.compile(r"[\s\-–+*•]*(?:" + _words(g.topic_headers) + r")\s", flags),
        time_word=regex.compile(_word(g.time_words)),
        percent_label=regex.compile(r"\(\s*%\s*\)|\|\s*%\s*(?:\||$)|" + rate),
        separator=regex.compile(r",|;|" + _word([*g.coordinators, *g.label_separators]) + r"|:|\||/"),
        row_number_header=regex.compile(r"^\s*(?:" + _words(t.row_number_headers) + r")\s*$", flags),
        generic_header=regex.compile(r"\s*(?:" + _words(t.generic_headers) + r")\s*(?:\(.*\))?\s*", flags),
        percent_header=regex.compile(r"%|" + rate, flags),
        target_header=regex.compile(_word(t.target_headers), flags),
        actual_header=regex.compile(_word(t.actual_headers), flags),
        classifier_class=g.classifier_class,
        inhabitant_class=g.inhabitant_class,
        filed_as=None if g.filed_as is None else _filed_as(g.filed_as, flags),
        count_label_words=_words(g.count_label_words or ["re:(?!)"]),
        label_break=regex.compile(r"[,;.:()\n]" + ("|" + _word(g.label_breaks) if g.label_breaks else ""),
                                  flags),
        money_before=regex.compile(_word(g.money_words), flags),
        # "mức độ 3, 4", "tiêu chí 8 và 9": a list of numbers after one name word are names too
        name_before=regex.compile(r"(?<![\p{L}])(?:" + _words(g.name_before)
                                  + r")(?:\s*\d{1,2}\s*(?:,|và|&|-|hoặc)\s*)*\s*$", flags),
        # the unit word in any case, then one to four capitalised words
        proper_name_before=regex.compile(r"(?<![\p{L}])(?i:" + _words(g.proper_name_before or ["re:(?!)"])
                                         + r")(?:\s+\p{Lu}\p{L}*){1,4}\s*$"),
        # "thứ 2, 4, 6", "tháng 7, 8 và 9": a list after a time word holds days and months too
        time_before=regex.compile(r"(?<![\p{L}])(?:" + _words(g.time_before)
                                  + r")(?:\s*\d{1,2}\s*(?:,|và|&|-|hoặc)\s*)*\s*$", flags),
        time_of_day=regex.compile(r"(?<![\p{L}])(?:" + _words(g.time_of_day) + r")\s*$", flags),
        page_counter=regex.compile(r"\s*(?:" + _words(g.page_counters or ["re:(?!)"]) + r")\s*:\s*", flags),
        not_quantity=regex.compile(_word(g.not_quantity_labels), flags),
        not_budget=regex.compile(_word(g.not_budget_purposes + g.not_quantity_labels), flags),
        range_joint=regex.compile(r"\s*(?:" + _words(g.range_joints) + r")\s*", flags),
        # a number's own points and commas are inside it: "mức độ 3, 4. 90% hồ sơ" is no row
        headless_row=regex.compile(r"(?<![\p{L}\p{N}.,])(?:\d(?:[\d.,]*\d)?[ \t]*%?[ \t]+){"
                                   + str(t.headless_row_numbers - 1)
                                   + r",}\d(?:[\d.,]*\d)?[ \t]*%?(?![\p{L}\p{N}])"),
        coordinated=regex.compile(r"[^\d;.:()%]{0,50}?(?:,|\s(?:" + _words(g.coordinators) + r"))\s*"),
        per_time_frame=regex.compile(_word(g.per_time_before) if g.per_time_before else r"(?!)", flags),
        distributive=regex.compile(_word(g.distributive_before) if g.distributive_before else r"(?!)", flags),
        per_time=regex.compile(r"\s*(?:" + _words(g.per_time_after) + r")(?![\p{L}])", flags),
        change_before=regex.compile(r"(?<![\p{L}])(?:" + _words(g.change_words) + r")(?:\s+(?:"
                                    + _words(g.change_modifiers) + r"))*\s*$", flags),
        count_follower=regex.compile(r"\s*(?:" + _words(g.count_followers) + r")(?![\p{L}])", flags),
    )


def load_rules(rules_dir: Path | None = None) -> Rules:
    base = Path(rules_dir or RULES_DIR)
    vocab = load_rule_file(base / "vocabulary.yaml", VocabularyFile)
    g = load_rule_file(base / "grammar.yaml", GrammarFile)
    scoring = load_rule_file(base / "scoring.yaml", ScoringFile)
    vname, gname = "vocabulary.yaml", "grammar.yaml"
    nouns = vocab.nouns
    noun_classes: dict[str, set[str]] = {}
    for cls, phrases in nouns.items():
        for p in phrases:
            noun_classes.setdefault(" ".join(p.lower().split()), set()).add(cls)
    noun_rx = regex.compile(r"\s*(?:" + _alternation(list(noun_classes)) + ")", regex.IGNORECASE)
    named = [g.classifier_class, g.inhabitant_class]
    named += [g.filed_as.noun_class, g.filed_as.counts] if g.filed_as else []
    for cls in filter(None, named):
        if cls not in nouns:
            raise RulesError(f"{gname}: unknown noun class {cls!r} (known: {', '.join(sorted(nouns))})")

    def words(key: str) -> list[str]:
        value = list(getattr(g, key))
        for p in value:
            compile_phrase(p, f"{gname}: {key}")
        return value

    link_rx = regex.compile(r"(?:" + _alternation(words("link_before")) + r")\s*$", regex.IGNORECASE)
    scope_rx = regex.compile(_alternation(words("scope_openers")), regex.IGNORECASE)
    negators = words("negators") or ["re:(?!)"]
    # the negator's scope: its verb and up to six more words ("chưa cài phần mềm diệt virus"),
    # up to a word that opens another clause or starts another predicate (grammar.yaml)
    free = r"(?:\s+(?!(?:" + _words(g.negation_scope_stops) + r")(?![\p{L}]))\p{L}+){0,6}"
    negation_rx = regex.compile(r"(?:" + _alternation(negators) + r")" + free + r"\s+$", regex.IGNORECASE)
    negator_rx = regex.compile(r"(?:" + _alternation(negators) + r")", regex.IGNORECASE)
    openers = words("modifier_openers")
    modifier_rx = regex.compile(_alternation(openers), regex.IGNORECASE) if openers else None
    markers = words("predicate_markers")
    predicate_rx = regex.compile(_alternation(markers), regex.IGNORECASE) if markers else None
    partitives = words("partitive_openers") or ["re:(?!)"]
    partitive_rx = regex.compile(r"[\s\-–+*•]*(?:" + _alternation(partitives) + ")", regex.IGNORECASE)
    restating = words("correspondence_words") or ["re:(?!)"]
    correspondence_rx = regex.compile(
        r"[\s,;:\-–(]*(?:" + _alternation(restating) + r")(?:\s+(?:" + _words(g.correspondence_links)
        + r"))?[\s:]*", regex.IGNORECASE
    )
    respective = words("respectively_words") or ["re:(?!)"]
    respectively_rx = regex.compile(
        r"(?:" + _alternation(respective) + r")"
        r"(?:\s+(?:" + _words(g.respectively_links) + r"))?[\s:]*$", regex.IGNORECASE
    )
    frames = words("frame_openers") or ["re:(?!)"]
    frame_rx = regex.compile(
        # after at most one time phrase ("Trong kỳ, tại ..., xã tiếp nhận ...")
        r"[\s\-–+*•]*(?:(?:" + _words(g.frame_time_words) + r")(?![\p{L}])[^,;:]*,\s*)??"
        r"(?:" + _alternation(frames) + r")[^,;:]*,\s*", regex.IGNORECASE
    )
    topics = words("topic_openers") or ["re:(?!)"]
    topic_rx = regex.compile(r"[\s\-–+*•]*(?:" + _alternation(topics) + r")(?![\p{L}])", regex.IGNORECASE)
    names = words("office_names")
    office_names = None
    if names:
        office_names = compile_phrase("re:" + _alternation(names), f"{gname}: office_names")
    kind_cues: list[tuple[str, Pattern]] = []
    for kind in ("target", "actual"):
        kind_cues += [(kind, p) for p in _phrases(getattr(g.kind_cues, kind), f"{gname}: kind_cues.{kind}")]
    kind_cues_after = [(kind, p) for kind in ("target", "actual")
                       for p in _phrases(getattr(g.kind_cues_after, kind),
                                         f"{gname}: kind_cues_after.{kind}")]
    target_headings = _phrases(g.target_headings, f"{gname}: target_headings")
    actual_headings = _phrases(g.actual_headings, f"{gname}: actual_headings")

    synonyms = _synonym_table([list(x) for x in vocab.synonyms] or None, vname)

    metrics_path = base / "metrics.yaml"
    entries = _catalog_entries(metrics_path)
    codes = {e.code: e.unit for e in entries}
    rules: list[MetricRule] = []
    for e in entries:
        where = f"{metrics_path.name}: metric '{e.code}'"
        classes = list(e.nouns)
        for cls in classes:
            if cls not in nouns:
                raise RulesError(f"{where}: unknown noun class {cls!r} (known: {', '.join(sorted(nouns))})")
        whole = e.ratio_whole
        if whole is not None and (whole not in codes or codes[whole] != e.unit):
            raise RulesError(f"{where}: ratio_whole {whole!r} is not a metric with unit {e.unit}")
        share = e.share
        if share is not None and (share not in codes or codes[share] != "percent" or e.unit == "percent"):
            raise RulesError(f"{where}: share {share!r} is not a percent metric (of a count or amount)")
        if share is not None and e.no_share:
            raise RulesError(f"{where}: no_share contradicts share {share!r}")
        rules.append(
            MetricRule(
                code=e.code, unit=e.unit, label_vi=e.label_vi, description=e.description,
                nouns=frozenset(classes),
                cues=tuple(_cue(c, f"{where} cue #{i + 1}", synonyms) for i, c in enumerate(e.cues)),
                not_=_phrases(list(e.not_), f"{where} not", synonyms),
                not_nearer=_phrases(list(e.not_nearer), f"{where} not_nearer", synonyms),
                not_before=_phrases(list(e.not_before), f"{where} not_before", synonyms),
                noun_only=_noun_only(e.noun_only, classes, nouns, where),
                noun_only_context=_phrases(list(e.noun_only_context), f"{where} noun_only_context", synonyms),
                ratio_whole=whole,
                share=share,
                no_share=e.no_share,
                plausible={lv: (r.min, r.max) for lv, r in e.plausible.items()},
                targets=e.targets,
                needs_noun=e.needs_noun,
                alone_means=_alone_means(e, codes, where),
            )
        )
    return Rules(
        metrics=rules, noun_rx=noun_rx,
        noun_classes={k: frozenset(v) for k, v in noun_classes.items()},
        link_rx=link_rx, scope_rx=scope_rx, negation_rx=negation_rx, negator_rx=negator_rx,
        modifier_rx=modifier_rx, predicate_rx=predicate_rx, partitive_rx=partitive_rx,
        correspondence_rx=correspondence_rx, office_names=office_names,
        frame_rx=frame_rx, respectively_rx=respectively_rx, topic_rx=topic_rx,
        kind_cues=kind_cues,
        kind_cues_after=kind_cues_after,
        target_headings=target_headings,
        actual_headings=actual_headings,
        target_document_heads=tuple(_phrases(g.target_document_heads, f"{gname}: target_document_heads")),
        target_document_head_chars=g.target_document_head_chars,
        target_continuations=tuple(_phrases(g.target_continuations, f"{gname}: target_continuations")),
        by_code={r.code: r for r in rules},
        grammar=compile_grammar(g),
        scoring=scoring,
        scope=ScopeReader.build(g.scope),
        **_field_breakdown(g.field_breakdown),
    )


@functools.lru_cache(maxsize=4)
def _cached(rules_dir: str) -> Rules:
    return load_rules(Path(rules_dir))


def get_rules(rules_dir: Path | None = None) -> Rules:
    """The compiled rules, loaded once per process (per rules folder)."""
    return _cached(str(Path(rules_dir or RULES_DIR).resolve()))


def _alone_means(e, codes: dict[str, str], where: str) -> tuple[str, tuple[str, ...], bool] | None:
    if e.alone_means is None:
        return None
    other = e.alone_means.metric
    if other not in codes or codes[other] != e.unit:
        raise RulesError(f"{where}: alone_means {other!r} is not a metric with unit {e.unit}")
    return other, tuple(w.lower() for w in e.alone_means.unless_document_has), e.alone_means.keep_both


def _field_breakdown(fb) -> dict[str, Any]:
    if fb is None:
        return {}
    fields = _words(fb.fields)
    markers = r"(?:(?:" + _words(fb.markers) + r")\s+)?" if fb.markers else ""
    flags = regex.IGNORECASE
    return {
        "field_after": regex.compile(r"[\d.,/]*\s*(?:" + _words(fb.nouns) + r")\s+" + markers
                                     + r"(?:" + fields + r")(?![\p{L}])", flags),
        # "Hộ tịch: 120", or the field right before the value: "đăng ký tạm trú 19 hồ sơ",
        # "xác nhận tình trạng hôn nhân cho 32 trường hợp"
        "field_before": regex.compile(r"(?<![\p{L}])(?:" + markers + r"(?:" + fields
                                      + r"))(?:\s*:\s*(?:\p{L}+\s+){0,2}|\s+(?:(?:" + _words(fb.links)
                                      + r")\s+)?)$", flags),
    }
