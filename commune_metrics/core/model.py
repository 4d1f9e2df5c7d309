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
    # whose figure: self / sub_unit / other_unit / higher_level / earlier_period / unknown
    scope: str = "self"
    status: str = "accepted"  # accepted: goes to `facts`; review: held back (see reason)
    reason: str | None = None  # why a candidate is held for review
    value_start: int | None = None  # where the value is written (inside the evidence span)

    @property
    def accepted(self) -> bool:
        return self.status == "accepted"

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
    level: str | None = None  # the reporting unit's level: commune / district / province / national
    doc_number: str | None = None  # the document's own number: "87/BC-UBND" from "Số: 87/BC-UBND"
    subject: str | None = None  # trích yếu: the title lines under BÁO CÁO / KẾ HOẠCH


@dataclass
class Extraction:
    meta: DocMeta
    facts: list[Fact] = field(default_factory=list)


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
    severity: str = "error"  # error: figures contradict; warning: a written share disagrees
    kind: str = "actual"  # the kind of the facts compared


OK = "ok"
QUARANTINED = "quarantined"
ERROR = "error"  # transient: the file could not be reached; leave it for the next run

INTERNAL_ERROR_CODE = "internal_error"


@dataclass
class ProcessResult:
    source_file: str  # file name as dropped, no folder
    path: str
    sha256: str | None
    size_bytes: int | None
    status: str  # ok / quarantined / error
    file_type: str | None = None
    meta: DocMeta | None = None
    facts: list[Fact] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    pages: int | None = None
    ocr_pages: list[int] = field(default_factory=list)
    code: str | None = None  # ReaderError code when quarantined / error
    reason: str | None = None
    seconds: float = 0.0
    encoding_fixed: str | None = None  # tcvn3 / vni / cp1258: the text was converted to Unicode
    text_sha256: str | None = None  # of the normalized text: same text in other bytes is unchanged
    text_signature: list[int] | None = None  # MinHash of the text (core.similarity)
    # The normalized text evidence spans index into, and where each page starts in it (None for
    # TXT/DOCX): stored so the review page can show every fact in its document.
    text: str | None = None
    page_starts: list[int] | None = None

    @property
    def ok(self) -> bool:
        return self.status == OK
