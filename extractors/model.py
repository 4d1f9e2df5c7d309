"""What extraction produces. Field names follow ../shared/spec/metrics.md and the
warehouse contract (contract.md: view `facts`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

KINDS = ("actual", "target")
UNITS = ("count", "percent", "vnd")
QUALIFIERS = ("eq", "gt", "gte", "lt", "lte", "approx")
DOC_TYPES = ("report", "plan", "other")


@dataclass
class Fact:
    metric: str
    kind: str
    value: float
    unit: str
    qualifier: str
    char_start: int
    char_end: int
    evidence: str  # the sentence the fact came from
    extractor: str  # rule id or model name that produced it
    confidence: float
    page: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class DocMeta:
    doc_type: str = "other"
    commune: str | None = None  # without "xã"/"phường"
    province: str | None = None  # as in the 2025 list
    ward_code: int | None = None
    period_start: date | None = None
    period_end: date | None = None
    as_of: date | None = None
    issued_on: date | None = None
    signer: str | None = None


@dataclass
class Extraction:
    meta: DocMeta
    facts: list[Fact] = field(default_factory=list)
