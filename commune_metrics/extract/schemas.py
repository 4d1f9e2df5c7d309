"""The shape of every rules file, as validated data (after spaCy's schemas.py).

`load_rule_file(path, Model)` is the one way a rules file is read: YAML is parsed, checked
against its model, and any mistake becomes one RulesError naming the file, the entry
("metric 'dossiers.received'", "check 'x'") and the problem. What needs more than one file
to check (a noun class a metric names, a regex's syntax after synonyms) is checked by the
loaders that compile the rules (rules.py, checks.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from commune_metrics.core.model import UNITS


class RulesError(ValueError):
    """A rules file that cannot be used; the message says where and why."""


Phrase = Annotated[str, StringConstraints(min_length=1, pattern=r"\S")]
Phrases = list[Phrase]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z_]+\.[a-z_]+$")]
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
Unit = Literal[UNITS]  # type: ignore[valid-type]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --- vocabulary.yaml ------------------------------------------------------------------
class VocabularyFile(_Strict):
    version: Literal[1]
    nouns: dict[Identifier, Phrases] = Field(min_length=1)
    synonyms: list[Annotated[list[Phrase], Field(min_length=2)]] = []


# --- grammar.yaml ---------------------------------------------------------------------
class TableGrammar(_Strict):
    row_number_headers: Phrases
    generic_headers: Phrases
    target_headers: Phrases
    actual_headers: Phrases
    # a row flattened to text: this many numbers or more with only spaces between them have lost
    # their column headers ("Tỷ lệ TTHC ... 2643 100% 2643 100% 1856 70,2%")
    headless_row_numbers: int = Field(default=3, ge=2)


class KindCues(_Strict):
    target: Phrases = []
    actual: Phrases = []


class ScopeLevels(_Strict):
    national: Phrases
    province: Phrases
    district: Phrases
    commune: Phrases
    village: Phrases


class FiledAs(_Strict):
    """A noun of one class that stands for another when a filing verb follows it."""

    noun_class: Identifier
    counts: Identifier
    verbs: Phrases
    aspect: Phrases = []
    passive: Phrases = []
    # a count of the noun above this stands for the other class whatever follows it: no unit lists
    # more procedures ("đã tiếp nhận, giải quyết 60.349 thủ tục hành chính" are dossiers)
    above: float | None = None


class ScopeGrammar(_Strict):
    levels: ScopeLevels
    whole_markers: Phrases
    plural_markers: Phrases
    object_markers: Phrases
    earlier_period: Phrases
    channel_names: Phrases
    not_units: Phrases = []
    level_kinds: Phrases = []
    # "năm 2017" in a figure's own phrase dates it before a period ending later; not after these
    # words, which make the year a range's end or start ("từ năm 2020", "đến năm 2025")
    year_not_dating_after: Phrases = []
    # the weight of a generic unit mention ("các xã", "cấp xã", "91 xã") against a named or whole
    # one ("xã Đường An", "toàn tỉnh") when the document's level is voted
    generic_mention_vote: float = Field(1.0, ge=0.0, le=1.0)


class FieldBreakdown(_Strict):
    """Dossiers of one field ("557 hồ sơ chứng thực", "Hộ tịch: 120 hồ sơ") are a breakdown
    of the unit's work, not its total: held for review."""

    nouns: Phrases = Field(min_length=1)  # the counted noun the field follows
    markers: Phrases = []  # optional words between the noun and the field ("về", "lĩnh vực")
    fields: Phrases = Field(min_length=1)
    links: Phrases = []  # between a field and its value: "hôn nhân cho 32 trường hợp"


class GrammarFile(_Strict):
    version: Literal[1]
    coordinators: Phrases
    determiners: Phrases
    rate_words: Phrases
    rate_determiners: Phrases
    share_verbs: Phrases
    approximators: Phrases
    comma_share_verbs: Phrases
    count_share_verbs: Phrases
    whole_words: Phrases
    whole_prepositions: Phrases
    fixed_pairs: Phrases
    own_period_parts: Phrases = []
    range_joints: Phrases
    topic_headers: Phrases
    time_words: Phrases
    label_separators: Phrases
    negation_scope_stops: Phrases
    frame_time_words: Phrases
    correspondence_links: Phrases
    respectively_links: Phrases
    table: TableGrammar
    classifier_class: Identifier
    inhabitant_class: Identifier | None = None
    filed_as: FiledAs | None = None
    count_label_words: Phrases = []
    label_breaks: Phrases = []
    money_words: Phrases
    name_before: Phrases
    proper_name_before: Phrases = []
    time_of_day: Phrases
    page_counters: Phrases = []
    time_before: Phrases
    not_quantity_labels: Phrases
    not_budget_purposes: Phrases = []
    count_followers: Phrases
    change_words: Phrases
    per_time_after: Phrases
    per_time_before: Phrases = []
    distributive_before: Phrases = []
    change_modifiers: Phrases
    scope: ScopeGrammar
    link_before: Phrases
    scope_openers: Phrases
    partitive_openers: Phrases = []
    correspondence_words: Phrases = []
    respectively_words: Phrases = []
    frame_openers: Phrases = []
    topic_openers: Phrases = []
    office_names: Phrases = []
    negators: Phrases = []
    modifier_openers: Phrases = []
    predicate_markers: Phrases = []
    kind_cues: KindCues = KindCues()
    kind_cues_after: KindCues = KindCues()
    target_headings: Phrases = []
    actual_headings: Phrases = []
    field_breakdown: FieldBreakdown | None = None
    target_document_heads: Phrases = []
    target_document_head_chars: int = Field(default=500, ge=0)
    # a sentence opening with one of these right after a sentence that set targets goes on with them
    target_continuations: Phrases = []


class Plausible(_Strict):
    """Values outside [min, max] are not this metric's, per level of the reporting unit."""

    min: float | None = None
    max: float | None = None


# --- scoring.yaml ---------------------------------------------------------------------
class ContextBonus(_Strict):
    local: float
    head: float
    scope: float
    heading: float


class Confidence(_Strict):
    windows: Annotated[list[Annotated[float, Field(ge=0, le=1)]], Field(min_length=4, max_length=4)]
    previous_share: float = Field(ge=0, le=1)
    clause_head: float = Field(ge=0, le=1)
    noun_only: float = Field(ge=0, le=1)
    share_in_parentheses: float = Field(ge=-1, le=0)
    far_cue: float = Field(ge=-1, le=0)
    far_cue_chars: int = Field(ge=0)
    floor: float = Field(ge=0, le=1)


class ScoringFile(_Strict):
    version: Literal[1]
    context_bonus: ContextBonus
    context_far_cost: float = Field(ge=0)
    context_far_max: float = Field(ge=0)
    distance_cost: float = Field(ge=0)
    modifier_cost: float = Field(ge=0)
    restrictive_cost: float = Field(ge=0)
    confidence: Confidence
    plausible_percent: Plausible


# --- metrics.yaml ---------------------------------------------------------------------
class CueItem(_Strict):
    cue: Phrase | None = None
    all: Phrases | None = None
    context: Phrase | Phrases | None = None
    not_: Phrase | Phrases | None = Field(default=None, alias="not")

    @model_validator(mode="after")
    def _one_head(self) -> CueItem:
        if (self.cue is None) == (self.all is None):
            raise ValueError("a cue mapping needs exactly one of 'cue' or 'all'")
        if self.all is not None and not self.all:
            raise ValueError("empty cue")
        return self


class AloneMeans(_Strict):
    """A figure of this metric in a document that never uses these words is the other metric:
    "đúng hạn" in a report that never separates early from on-time means "not late"."""

    metric: Code
    unless_document_has: Phrases = Field(min_length=1)
    # the words have both readings (labelling.md: a figure with two readings): the figure is kept
    # under its own metric too, so neither reading is lost
    keep_both: bool = False


class MetricEntry(_Strict):
    code: Code
    unit: Unit
    label_vi: Phrase
    description: Phrase
    nouns: list[Identifier] = []
    cues: list[Phrase | CueItem] = []
    not_: Phrases = Field(default=[], alias="not")
    # words that, standing between a cue on the left and the value, say the value is another figure:
    # "trước hạn chiếm tỷ lệ cao, tỷ lệ hồ sơ quá hạn chỉ chiếm 0,01%" is no share on time
    not_nearer: Phrases = []
    # words in the value's own phrase before it that rule out a cue found after it: "Trả kết quả 575
    # hồ sơ qua đường bưu điện" is no dossier received by post
    not_before: Phrases = []
    noun_only: bool | list[Identifier] = False
    # with these, the noun alone names the metric only in a sentence that says one of them
    noun_only_context: Phrases = []
    ratio_whole: Code | None = None
    share: Code | None = None
    no_share: bool = False  # a share of this count has no code ("trước hạn đạt 48,2%"): no figure
    # what the warehouse needs to know (views read these from the `metrics` table)
    flow: bool = False  # a count that accumulates over the period (scaled to 30 days); else a stock
    better: Literal["higher", "lower"] | None = None  # which way is better, for targets and ranking
    comparison_column: Identifier | None = None  # its column in `document_metrics` / `comparison`
    plausible: dict[Literal["commune", "district", "province", "any"], Plausible] = {}
    # false: no plan sets this figure (how many dossiers came in, how many villages there are), so a
    # target reading of it is implausible and is held for review
    targets: bool = True
    # true: the figure is read only from a value whose counted noun is named ("95% cán bộ", "tỷ lệ
    # cán bộ ... 95%"); a share that names none is of something else
    needs_noun: bool = False
    alone_means: AloneMeans | None = None


class MetricsFile(_Strict):
    version: Literal[1]
    metrics: list[MetricEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> MetricsFile:
        codes = [m.code for m in self.metrics]
        dup = sorted({c for c in codes if codes.count(c) > 1})
        if dup:
            raise ValueError(f"metric '{dup[0]}': duplicate code")
        columns = [m.comparison_column for m in self.metrics if m.comparison_column]
        dup = sorted({c for c in columns if columns.count(c) > 1})
        if dup:
            raise ValueError(f"comparison_column '{dup[0]}' is used by two metrics")
        return self


# --- checks.yaml and metadata.yaml: top level here, entries checked by their loaders -----
class ChecksFile(_Strict):
    version: Literal[1]
    approx_relative: float = Field(ge=0, le=1)
    checks: list[dict[str, Any]] = Field(min_length=1)


class MetadataFile(_Strict):
    doc_type: dict[str, Any]
    commune: dict[str, Any]
    signer: dict[str, Any]
    province: dict[str, Any]
    period: dict[str, Any] | None = None


M = TypeVar("M", bound=BaseModel)


def read_yaml(path: Path) -> Any:
    if not path.is_file():
        raise RulesError(f"{path}: rules file not found")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RulesError(f"{path}: not valid YAML: {exc}") from exc


def load_rule_file(path: Path, model: type[M]) -> M:
    """Parse and validate one rules file; every problem is one RulesError naming the place."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise RulesError(f"{path.name}: expected a mapping at the top level")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RulesError(_explain(path.name, data, model, exc)) from None


def _walk(data: Any, loc: tuple) -> tuple[tuple, list[str]]:
    """The location with union tags dropped (keys that are not in the data), and its names:
    ['metric 'dossiers.received'', 'cue #2'] for ('metrics', 0, 'cues', 1)."""
    kept: list[Any] = []
    names: list[str] = []
    node = data
    for key in loc:
        if isinstance(node, list) and isinstance(key, int) and key < len(node):
            item = node[key]
            label = next((item[k] for k in ("code", "name", "id")
                          if isinstance(item, dict) and isinstance(item.get(k), str)), None)
            owner = _singular(names.pop()) if names else "item"
            names.append(f"{owner} '{label}'" if label else f"{owner} #{key + 1}")
        elif isinstance(node, dict) and key in node:
            names.append(str(key))
        elif isinstance(node, dict) and isinstance(key, str) and not kept:
            names.append(key)  # a missing top-level key
        else:
            continue  # a union branch tag ("str", "CueItem"), not a place in the file
        kept.append(key)
        node = node[key] if isinstance(node, (dict, list)) and (
            isinstance(node, list) or key in node) else None
    return tuple(kept), names


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") else word


_TYPE_ERRORS = {"string_type", "list_type", "bool_type", "bool_parsing", "dict_type", "model_type",
                "int_type", "float_type", "model_attributes_type"}


def _explain(name: str, data: Any, model: type[BaseModel], exc: ValidationError) -> str:
    errors = []
    for err in exc.errors():
        loc, names = _walk(data, err["loc"])
        errors.append((loc, names, err))
    # a union reports every branch: a type mismatch of one branch says nothing when another
    # branch got further ("colour" is not a cue field, rather than "not a string")
    deeper = {e[0] for e in errors if e[2]["type"] not in _TYPE_ERRORS}
    problems: list[str] = []
    extras: dict[tuple, tuple[list[str], list[str]]] = {}
    for loc, names, err in errors:
        if err["type"] in _TYPE_ERRORS and any(d[: len(loc)] == loc and d != loc or d == loc for d in deeper):
            continue
        if err["type"] == "extra_forbidden":
            extras.setdefault(loc[:-1], (names[:-1], []))[1].append(str(loc[-1]))
            continue
        field = str(loc[-1]) if loc else ""
        where = ": ".join([name, " ".join(names[:-1])]) if len(names) > 1 else name
        if err["type"] == "missing" or (err["type"] in ("string_too_short", "string_pattern_mismatch")
                                        and field in ("label_vi", "description")):
            problems.append(f"{where}: missing {field}")
        elif err["type"] == "literal_error" and field == "unit":
            problems.append(f"{where}: unknown unit {err['input']!r} (expected one of {', '.join(UNITS)})")
        elif err["type"] == "value_error":
            where = ": ".join([name, " ".join(names)]) if names else name
            problems.append(f"{where}: {str(err['msg']).removeprefix('Value error, ')}")
        else:
            full = ": ".join([name, " ".join(names)]) if names else name
            problems.append(f"{full}: {err['msg']}")
    for loc, (names, keys) in extras.items():
        where = ": ".join([name, " ".join(names)]) if names else name
        owner = _owner(model, loc)
        allowed = sorted(f.alias or n for n, f in owner.model_fields.items()) if owner else []
        what = "cue field(s)" if owner is CueItem else "field(s)"
        problems.append(f"{where}: unknown {what} {sorted(keys)} (allowed: {allowed})")
    return "; ".join(dict.fromkeys(problems)) or f"{name}: {exc}"


def _owner(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The model class that holds the fields at `loc` (to list what is allowed there)."""
    current: Any = model
    for key in loc:
        if isinstance(key, int):
            continue
        if isinstance(key, str) and hasattr(current, "model_fields") and key in current.model_fields:
            current = _model_in(current.model_fields[key].annotation)
        elif isinstance(key, str) and key[:1].isupper():
            current = _model_in(key) or current
        if current is None:
            return None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _model_in(annotation: Any) -> Any:
    """The BaseModel inside list[...] / X | None / Annotated[...] annotations, if any."""
    if isinstance(annotation, str):
        return {c.__name__: c for c in _Strict.__subclasses__()}.get(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
