"""Phrase sets kept as data (phrases/*.yaml) and the small template language they use.

A metric template is one sentence with placeholders: `{metric}` prints the value as written
(qualifier eq), `{?metric}` lets the generator put a qualifier word before the value, and
`{metric|gte}` says the template's own words carry that qualifier. `[[ ... ]]` marks a part
that may be left out. Filling a template returns the sentence and where each value sits in it,
which is what the gold facts and their evidence are built from.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from tools.samples.numbers import format_value
from tools.samples.world import METRIC_UNITS

PHRASES_DIR = Path(__file__).resolve().parent / "phrases"
PHRASE_SETS = ("dev", "heldout", "fresh", "unseen", "final", "blind", "audit")
PLACEHOLDER = re.compile(r"\{(\?)?([a-z_]+\.[a-z_]+)(?:\|(eq|gt|gte|lt|lte|approx))?\}")
OPTIONAL = re.compile(r"\[\[(.*?)\]\]")
OPTIONAL_KEEP = 0.65
# How often a free qualifier slot ({?metric}) gets a word, by kind of fact.
QUALIFIER_ODDS = {
    "actual": (("eq", 0.6), ("gt", 0.2), ("approx", 0.2)),
    "target": (("eq", 0.5), ("gte", 0.3), ("gt", 0.2)),
}
# Clause boundaries used to cut a short evidence span out of a sentence.
STRONG_BREAKS = ";()"


@dataclass(frozen=True)
class Template:
    id: str
    section: str
    kind: str
    text: str

    def metrics(self) -> list[str]:
        return [m.group(2) for m in PLACEHOLDER.finditer(self.text)]

    def skeleton(self) -> str:
        """The sentence with its values blanked: what 'the same template' means across sets."""
        return PLACEHOLDER.sub("#", self.text.replace("[[", "").replace("]]", ""))


@dataclass(frozen=True)
class PhraseSet:
    name: str
    qualifiers: dict[str, list[str]]
    templates: tuple[Template, ...]
    table_header: tuple[str, ...]
    table_labels: dict[str, str]

    def pool(self, kind: str, sections: tuple[str, ...] | None = None) -> list[Template]:
        return [t for t in self.templates if t.kind == kind and (sections is None or t.section in sections)]


@dataclass(frozen=True)
class Slot:
    metric: str
    value: float
    qualifier: str
    start: int  # span of the written value (qualifier word included) in the sentence
    end: int
    value_text: str  # the number as written, without the qualifier word


@dataclass(frozen=True)
class Filled:
    text: str
    slots: tuple[Slot, ...]


@cache
def load_common() -> dict:
    with open(PHRASES_DIR / "common.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@cache
def load_phrase_set(name: str) -> PhraseSet:
    if name not in PHRASE_SETS:
        raise ValueError(f"unknown phrase set {name!r}; expected one of {PHRASE_SETS}")
    with open(PHRASES_DIR / f"{name}.yaml", encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    templates = []
    for kind in ("actual", "target"):
        for section, texts in (raw.get(kind) or {}).items():
            for i, text in enumerate(texts):
                template = Template(f"{name}.{kind}.{section}.{i}", section, kind, text)
                unknown = [m for m in template.metrics() if m not in METRIC_UNITS]
                if unknown:
                    raise ValueError(f"{template.id}: unknown metric codes {unknown}")
                templates.append(template)
    tables = raw.get("tables") or {}
    return PhraseSet(
        name=name,
        qualifiers={k: list(v) for k, v in raw["qualifiers"].items()},
        templates=tuple(templates),
        table_header=tuple(tables.get("header", ())),
        table_labels=dict(tables.get("labels", {})),
    )


def drop_optional(text: str, rng: random.Random) -> str:
    return OPTIONAL.sub(lambda m: m.group(1) if rng.random() < OPTIONAL_KEEP else "", text)


def _pick_qualifier(kind: str, rng: random.Random) -> str:
    roll, acc = rng.random(), 0.0
    for qualifier, odds in QUALIFIER_ODDS[kind]:
        acc += odds
        if roll < acc:
            return qualifier
    return "eq"


def _state(value: float, unit: str, qualifier: str) -> tuple[float, str]:
    """The figure a writer would put after a qualifier word: bounds are round numbers."""
    if qualifier == "eq" or unit == "vnd":
        return value, qualifier
    stated = float(math.floor(value)) if qualifier in ("gt", "gte") else float(round(value))
    if qualifier == "gt" and stated >= 100 and unit == "percent":
        return value, "eq"  # nobody writes "hơn 100%"
    return stated, qualifier


def fill(text: str, values: dict[str, float], kind: str, phrases: PhraseSet, rng: random.Random) -> Filled:
    """Write the values into a template whose optional parts are already decided."""
    out: list[str] = []
    slots: list[Slot] = []
    pos = 0
    length = 0
    for m in PLACEHOLDER.finditer(text):
        literal = text[pos : m.start()]
        out.append(literal)
        length += len(literal)
        free, metric, fixed = m.group(1), m.group(2), m.group(3)
        unit = METRIC_UNITS[metric]
        qualifier = fixed or (_pick_qualifier(kind, rng) if free else "eq")
        value, qualifier = _state(values[metric], unit, qualifier)
        value_text = format_value(value, unit, rng)
        written = value_text
        if free and qualifier != "eq":
            written = rng.choice(phrases.qualifiers[qualifier]) + " " + value_text
        if not out[-1] and length == 0 and written[:1].islower():
            written = written[0].upper() + written[1:]
        slots.append(Slot(metric, value, qualifier, length, length + len(written), value_text))
        out.append(written)
        length += len(written)
        pos = m.end()
    out.append(text[pos:])
    return Filled("".join(out), tuple(slots))


def evidence_span(text: str, slots: tuple[Slot, ...], index: int) -> str:
    """The clause of `text` that holds slot `index`: cut at ; ( ) and at a colon that has words
    of its own before the value; when a neighbouring value shares the clause, cut at the
    separator between the two (", ", " và "); values with no separator share the clause."""
    slot = slots[index]
    left = max(text.rfind(ch, 0, slot.start) for ch in STRONG_BREAKS) + 1
    colon = text.rfind(":", left, slot.start)
    if colon != -1 and len(re.findall(r"\w+", text[colon + 1 : slot.start])) >= 2:
        left = colon + 1
    right_candidates = [i for i in (text.find(ch, slot.end) for ch in STRONG_BREAKS) if i != -1]
    right = min(right_candidates) if right_candidates else len(text)
    if index > 0 and slots[index - 1].end > left:
        left = max(left, _after_separator(text, slots[index - 1].end, slot.start))
    if index + 1 < len(slots) and slots[index + 1].start < right:
        right = min(right, _before_separator(text, slot.end, slots[index + 1].start))
    return text[left:right].strip().rstrip(".").strip()


VALUE_SEPARATORS = (", ", " và ")


def _after_separator(text: str, prev_end: int, start: int) -> int:
    gap = text[prev_end:start]
    for sep in VALUE_SEPARATORS:  # a comma beats "và", which may join words inside a clause
        if sep in gap:
            return prev_end + gap.rfind(sep) + len(sep)
    # No separator (a ratio "17/40", or "74 lĩnh vực với 342 thủ tục"): the values share a clause.
    return 0


def _before_separator(text: str, end: int, next_start: int) -> int:
    gap = text[end:next_start]
    for sep in VALUE_SEPARATORS:
        if sep in gap:
            return end + gap.find(sep)
    return len(text)
