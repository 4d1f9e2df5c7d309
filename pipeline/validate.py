"""Consistency checks over one document's facts (rules in rules/checks.yaml).

Placeholder until the checks land: the Flag shape the warehouse stores.
Flags mark facts; they never drop or change one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from extractors.model import Extraction


@dataclass
class Flag:
    rule: str  # rule name in rules/checks.yaml
    metrics: list[str]  # metric codes involved
    expected: float | None  # e.g. the total as written
    actual: float | None  # e.g. the sum of its parts
    difference: float | None
    message: str
    evidence: list[str] = field(default_factory=list)  # sentences
    fact_indexes: list[int] = field(default_factory=list)  # positions in Extraction.facts


def check(extraction: Extraction) -> list[Flag]:
    return []
