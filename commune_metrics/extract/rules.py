"""Load, check and compile the extraction rules in rules/ (metrics.yaml, vocabulary.yaml).

Rules are data: an analyst adds a synonym or a metric by editing YAML. Mistakes are caught at
load time with a message naming the file, the metric and the problem (RulesError).
Compiled rules are built once per process (`get_rules()`), never per document.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regex
import yaml

from commune_metrics.core.config import RULES_DIR
from commune_metrics.core.model import UNITS


class RulesError(ValueError):
    """A rules file that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class MetricDef:
    code: str
    unit: str
    label_vi: str
    description: str


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
    noun_only: frozenset[str] = frozenset()  # noun classes that name this metric on their own
    ratio_whole: str | None = None
    share: str | None = None  # the percent metric of the same part ("58 máy (đạt 82,86%)")


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
    target_headings: tuple[Pattern, ...] = ()
    actual_headings: tuple[Pattern, ...] = ()
    by_code: dict[str, MetricRule] = field(default_factory=dict)


_METRIC_KEYS = {"code", "unit", "label_vi", "description", "nouns", "cues", "not", "noun_only", "ratio_whole",
                "share"}
_CUE_KEYS = {"cue", "all", "context", "not"}
_CODE_RX = regex.compile(r"[a-z_]+\.[a-z_]+")


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
    if not isinstance(item, dict):
        raise RulesError(f"{where}: a cue is a phrase or a mapping, got {item!r}")
    unknown = set(item) - _CUE_KEYS
    if unknown:
        raise RulesError(f"{where}: unknown cue field(s) {sorted(unknown)} (allowed: {sorted(_CUE_KEYS)})")
    if ("cue" in item) == ("all" in item):
        raise RulesError(f"{where}: a cue mapping needs exactly one of 'cue' or 'all': {item!r}")
    parts = _phrases(item.get("cue", item.get("all")), where, synonyms)
    if not parts:
        raise RulesError(f"{where}: empty cue {item!r}")
    return Cue(parts=parts, context=_phrases(item.get("context"), where + " context", synonyms),
               not_=_phrases(item.get("not"), where + " not", synonyms))


def _load_yaml(path: Path) -> dict:
    if not path.is_file():
        raise RulesError(f"{path}: rules file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RulesError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RulesError(f"{path}: expected a mapping at the top level")
    return data


def _catalog_entries(path: Path) -> list[dict]:
    data = _load_yaml(path)
    metrics = data.get("metrics")
    if not isinstance(metrics, list) or not metrics:
        raise RulesError(f"{path}: 'metrics' must be a non-empty list")
    seen: set[str] = set()
    for i, entry in enumerate(metrics):
        where = f"{path.name}: metric #{i + 1}"
        if not isinstance(entry, dict):
            raise RulesError(f"{where}: expected a mapping")
        code = entry.get("code")
        if not isinstance(code, str) or not _CODE_RX.fullmatch(code):
            raise RulesError(f"{where}: bad or missing code {code!r} (expected 'family.name')")
        where = f"{path.name}: metric '{code}'"
        unknown = set(entry) - _METRIC_KEYS
        if unknown:
            raise RulesError(f"{where}: unknown field(s) {sorted(unknown)} (allowed: {sorted(_METRIC_KEYS)})")
        if code in seen:
            raise RulesError(f"{where}: duplicate code")
        seen.add(code)
        if entry.get("unit") not in UNITS:
            raise RulesError(
                f"{where}: unknown unit {entry.get('unit')!r} (expected one of {', '.join(UNITS)})"
            )
        for key in ("label_vi", "description"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise RulesError(f"{where}: missing {key}")
    return metrics


def load_catalog(rules_dir: Path | None = None) -> list[MetricDef]:
    """The metric catalog (code, unit, Vietnamese label, description) from rules/metrics.yaml."""
    path = Path(rules_dir or RULES_DIR) / "metrics.yaml"
    return [
        MetricDef(e["code"], e["unit"], e["label_vi"].strip(), e["description"].strip())
        for e in _catalog_entries(path)
    ]


def _noun_only(value: Any, classes: list[str], nouns: dict, where: str) -> frozenset[str]:
    """`noun_only: true` means all the metric's noun classes; a list names some of them."""
    if value in (None, False):
        return frozenset()
    if value is True:
        return frozenset(classes)
    if not isinstance(value, list) or any(c not in classes for c in value):
        raise RulesError(f"{where}: noun_only must be true or a list of the metric's noun classes")
    return frozenset(value)


def _alternation(phrases: list[str]) -> str:
    return "|".join(_phrase_regex(p) for p in sorted(set(phrases), key=len, reverse=True))


def load_rules(rules_dir: Path | None = None) -> Rules:
    base = Path(rules_dir or RULES_DIR)
    vocab_path = base / "vocabulary.yaml"
    vocab = _load_yaml(vocab_path)
    nouns = vocab.get("nouns")
    if not isinstance(nouns, dict) or not nouns:
        raise RulesError(f"{vocab_path.name}: 'nouns' must be a mapping of class -> phrases")
    noun_classes: dict[str, set[str]] = {}
    for cls, phrases in nouns.items():
        if not isinstance(phrases, list) or not all(isinstance(p, str) and p.strip() for p in phrases):
            raise RulesError(f"{vocab_path.name}: noun class '{cls}' must be a list of phrases")
        for p in phrases:
            noun_classes.setdefault(" ".join(p.lower().split()), set()).add(cls)
    noun_rx = regex.compile(r"\s*(?:" + _alternation(list(noun_classes)) + ")", regex.IGNORECASE)

    def words(key: str) -> list[str]:
        value = vocab.get(key) or []
        if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
            raise RulesError(f"{vocab_path.name}: '{key}' must be a list of phrases")
        for p in value:
            compile_phrase(p, f"{vocab_path.name}: {key}")
        return value

    link_rx = regex.compile(r"(?:" + _alternation(words("link_before")) + r")\s*$", regex.IGNORECASE)
    scope_rx = regex.compile(_alternation(words("scope_openers")), regex.IGNORECASE)
    negators = words("negators") or ["re:(?!)"]
    # the negator's scope: its verb and up to two more words ("chưa cài phần mềm diệt virus")
    # up to a word that opens another clause ("không được giải quyết | do không đủ điều kiện")
    # or an aspect marker that starts another predicate ("chưa có kết quả | đã quá hạn")
    free = r"(?:\s+(?!(?:do|vì|bởi|nhưng|song|mà|nên|để|là|và|hoặc|còn|đã|đang)(?![\p{L}]))\p{L}+){0,6}"
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
        r"[\s,;:\-–(]*(?:" + _alternation(restating) + r")(?:\s+(?:với|là|bằng))?[\s:]*", regex.IGNORECASE
    )
    respective = words("respectively_words") or ["re:(?!)"]
    respectively_rx = regex.compile(
        r"(?:" + _alternation(respective) + r")"
        r"(?:\s+(?:là|đạt|bằng|với|chiếm(?:\s+t[ỷỉ]\s+lệ)?))?[\s:]*$", regex.IGNORECASE
    )
    frames = words("frame_openers") or ["re:(?!)"]
    frame_rx = regex.compile(
        # after at most one time phrase ("Trong kỳ, tại ..., xã tiếp nhận ...")
        r"[\s\-–+*•]*(?:(?:trong|từ|đến|tính\s+đến|lũy\s+kế|năm|quý|tháng)(?![\p{L}])[^,;:]*,\s*)??"
        r"(?:" + _alternation(frames) + r")[^,;:]*,\s*", regex.IGNORECASE
    )
    topics = words("topic_openers") or ["re:(?!)"]
    topic_rx = regex.compile(r"[\s\-–+*•]*(?:" + _alternation(topics) + r")(?![\p{L}])", regex.IGNORECASE)
    names = words("office_names")
    office_names = None
    if names:
        office_names = compile_phrase("re:" + _alternation(names), f"{vocab_path.name}: office_names")
    kind_cues: list[tuple[str, Pattern]] = []
    cues = vocab.get("kind_cues") or {}
    if not isinstance(cues, dict) or set(cues) - {"target", "actual"}:
        raise RulesError(f"{vocab_path.name}: 'kind_cues' must map 'target'/'actual' to phrases")
    for kind, phrases in cues.items():
        kind_cues += [(kind, p) for p in _phrases(phrases, f"{vocab_path.name}: kind_cues.{kind}")]
    target_headings = _phrases(vocab.get("target_headings"), f"{vocab_path.name}: target_headings")
    actual_headings = _phrases(vocab.get("actual_headings"), f"{vocab_path.name}: actual_headings")

    synonyms = _synonym_table(vocab.get("synonyms"), vocab_path.name)

    metrics_path = base / "metrics.yaml"
    entries = _catalog_entries(metrics_path)
    codes = {e["code"]: e["unit"] for e in entries}
    rules: list[MetricRule] = []
    for e in entries:
        where = f"{metrics_path.name}: metric '{e['code']}'"
        classes = e.get("nouns") or []
        if not isinstance(classes, list):
            raise RulesError(f"{where}: 'nouns' must be a list of noun classes")
        for cls in classes:
            if cls not in nouns:
                raise RulesError(f"{where}: unknown noun class {cls!r} (known: {', '.join(sorted(nouns))})")
        cue_items = e.get("cues") or []
        if not isinstance(cue_items, list):
            raise RulesError(f"{where}: 'cues' must be a list")
        whole = e.get("ratio_whole")
        if whole is not None and (whole not in codes or codes[whole] != e["unit"]):
            raise RulesError(f"{where}: ratio_whole {whole!r} is not a metric with unit {e['unit']}")
        share = e.get("share")
        if share is not None and (share not in codes or codes[share] != "percent" or e["unit"] == "percent"):
            raise RulesError(f"{where}: share {share!r} is not a percent metric (of a count or amount)")
        if not cue_items and not e.get("noun_only") and whole is None:
            pass  # reachable only as the whole of a ratio or by noun; allowed
        rules.append(
            MetricRule(
                code=e["code"], unit=e["unit"], label_vi=e["label_vi"], description=e["description"],
                nouns=frozenset(classes),
                cues=tuple(_cue(c, f"{where} cue #{i + 1}", synonyms) for i, c in enumerate(cue_items)),
                not_=_phrases(e.get("not"), f"{where} not", synonyms),
                noun_only=_noun_only(e.get("noun_only"), classes, nouns, where),
                ratio_whole=whole,
                share=share,
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
        target_headings=target_headings,
        actual_headings=actual_headings,
        by_code={r.code: r for r in rules},
    )


@functools.lru_cache(maxsize=4)
def _cached(rules_dir: str) -> Rules:
    return load_rules(Path(rules_dir))


def get_rules(rules_dir: Path | None = None) -> Rules:
    """The compiled rules, loaded once per process (per rules folder)."""
    return _cached(str(Path(rules_dir or RULES_DIR).resolve()))
