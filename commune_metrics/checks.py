"""Consistency checks over one document's facts; the rules live in rules/checks.yaml.

`check(extraction)` is pure: it reads the facts and returns flags. Flags mark facts; they
never drop or change one. Every figure is read as an interval built from its qualifier
("hơn 95%" is [95, inf), "khoảng 500" is 500 +- approx_relative), so a check fails only when
the written figures cannot agree, not merely when a rounded or bounded figure differs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from commune_metrics.core.config import RULES_DIR
from commune_metrics.core.model import KINDS, UNITS, Extraction, Fact, Flag
from commune_metrics.extract.schemas import ChecksFile, RulesError, load_rule_file

CHECKS_FILE = RULES_DIR / "checks.yaml"
CHECK_TYPES = ("sum", "part_of_whole", "range", "share")
SEVERITIES = ("error", "warning")
# Beyond this many value combinations a check looks only at the first values of each metric;
# one document never legitimately repeats a metric that often.
MAX_COMBINATIONS = 4096
INF = math.inf




class ChecksConfigError(ValueError):
    """rules/checks.yaml is malformed or names a metric the catalog does not know."""


@dataclass(frozen=True)
class Interval:
    lo: float
    hi: float

    def __add__(self, other: Interval) -> Interval:
        return Interval(self.lo + other.lo, self.hi + other.hi)

    def gap(self, other: Interval) -> float:
        """Distance between the intervals; 0 when they overlap."""
        return max(0.0, self.lo - other.hi, other.lo - self.hi)


def fact_interval(fact: Fact, approx_relative: float) -> Interval:
    v = fact.value
    if fact.qualifier in ("gt", "gte"):
        return Interval(v, INF)
    if fact.qualifier in ("lt", "lte"):
        return Interval(-INF, v)
    if fact.qualifier == "approx":
        d = abs(v) * approx_relative
        return Interval(v - d, v + d)
    return Interval(v, v)


@dataclass(frozen=True)
class Operand:
    """One fact chosen for a metric operand: its position in Extraction.facts and the fact."""

    index: int
    fact: Fact


@dataclass(frozen=True)
class Outcome:
    violation: float  # > 0 means the check failed by this much (beyond tolerance)
    expected: float | None
    actual: float | None
    detail: str


@dataclass(frozen=True)
class Check:
    name: str
    type: str
    message: str
    kinds: tuple[str, ...]
    tolerance: float
    severity: str
    operands: tuple[str, ...]  # metric codes whose facts the check reads, in evaluation order
    constant_total: float | None = None  # sum checks against a number ("= 100")
    n_numerator: int = 0  # share checks: how many operands after the share are numerator
    range_unit: str | None = None
    range_metrics: tuple[str, ...] = ()
    minimum: float = -INF
    maximum: float = INF


@dataclass(frozen=True)
class CheckSet:
    checks: tuple[Check, ...]
    approx_relative: float = 0.05


def _fmt(x: float) -> str:
    if x in (INF, -INF):
        return "∞" if x > 0 else "-∞"
    if float(x).is_integer():
        return f"{int(x):,}".replace(",", ".")
    return f"{x:.2f}".rstrip("0").rstrip(".").replace(".", ",")


_QUAL_SIGN = {"gt": ">", "gte": "≥", "lt": "<", "lte": "≤", "approx": "~", "eq": ""}


def _written(fact: Fact) -> str:
    return f"{_QUAL_SIGN.get(fact.qualifier, '')}{_fmt(fact.value)}"


# --- evaluation of one combination of operands ------------------------------------------


def _eval_sum(check: Check, ops: Sequence[Operand], approx: float) -> Outcome:
    if check.constant_total is not None:
        total = Interval(check.constant_total, check.constant_total)
        total_value, total_text, parts = check.constant_total, _fmt(check.constant_total), ops
    else:
        total = fact_interval(ops[0].fact, approx)
        total_value, total_text, parts = ops[0].fact.value, _written(ops[0].fact), ops[1:]
    summed = Interval(0.0, 0.0)
    for op in parts:
        summed = summed + fact_interval(op.fact, approx)
    parts_value = sum(op.fact.value for op in parts)
    detail = f"{total_text} ≠ {' + '.join(_written(op.fact) for op in parts)} = {_fmt(parts_value)}"
    return Outcome(total.gap(summed) - check.tolerance, total_value, parts_value, detail)


def _eval_part_of_whole(check: Check, ops: Sequence[Operand], approx: float) -> Outcome:
    part, whole = ops
    p, w = fact_interval(part.fact, approx), fact_interval(whole.fact, approx)
    detail = f"{_written(part.fact)} > {_written(whole.fact)}"
    return Outcome(p.lo - w.hi - check.tolerance, whole.fact.value, part.fact.value, detail)


def _eval_share(check: Check, ops: Sequence[Operand], approx: float) -> Outcome:
    share = ops[0]
    numerators = ops[1 : 1 + check.n_numerator]
    denominator = ops[1 + check.n_numerator]
    num = Interval(0.0, 0.0)
    for op in numerators:
        num = num + fact_interval(op.fact, approx)
    den = fact_interval(denominator.fact, approx)
    if den.lo <= 0 or num.lo < 0:
        # A zero or open-ended base says nothing about the share.
        return Outcome(-INF, None, None, "")
    computed = Interval(100 * num.lo / den.hi, 100 * num.hi / den.lo)
    point = 100 * sum(op.fact.value for op in numerators) / denominator.fact.value
    num_text = " + ".join(_written(op.fact) for op in numerators)
    detail = f"{_written(share.fact)}% ≠ {num_text} / {_written(denominator.fact)} = {_fmt(round(point, 2))}%"
    written = fact_interval(share.fact, approx)
    return Outcome(written.gap(computed) - check.tolerance, share.fact.value, round(point, 2), detail)


_EVALUATORS: dict[str, Callable[[Check, Sequence[Operand], float], Outcome]] = {
    "sum": _eval_sum,
    "part_of_whole": _eval_part_of_whole,
    "share": _eval_share,
}


def _dedupe(entries: list[Operand]) -> list[Operand]:
    """The same figure repeated in a document is one candidate, not several."""
    seen: set[tuple[float, str]] = set()
    out = []
    for op in entries:
        key = (op.fact.value, op.fact.qualifier)
        if key not in seen:
            seen.add(key)
            out.append(op)
    return out


def _candidates(check: Check, by_metric: Mapping[str, list[Operand]]) -> list[list[Operand]] | None:
    lists = [_dedupe(by_metric.get(code, [])) for code in check.operands]
    if any(not lst for lst in lists):
        return None
    while math.prod(len(lst) for lst in lists) > MAX_COMBINATIONS:
        longest = max(lists, key=len)
        longest.pop()
    return lists


def _flag(check: Check, kind: str, ops: Sequence[Operand], outcome: Outcome) -> Flag:
    evidence: list[str] = []
    for op in ops:
        if op.fact.evidence and op.fact.evidence not in evidence:
            evidence.append(op.fact.evidence)
    metrics = list(dict.fromkeys(op.fact.metric for op in ops))
    difference = None
    if outcome.expected is not None and outcome.actual is not None:
        difference = round(outcome.actual - outcome.expected, 6)
    return Flag(
        rule=check.name,
        metrics=metrics,
        expected=outcome.expected,
        actual=outcome.actual,
        difference=difference,
        message=("Mục tiêu: " if kind == "target" else "")
        + (f"{check.message}: {outcome.detail}" if outcome.detail else check.message),
        evidence=evidence,
        fact_indexes=[op.index for op in ops],
        severity=check.severity,
        kind=kind,
    )


def _run_range(check: Check, kind: str, facts: Sequence[Operand]) -> list[Flag]:
    flags = []
    for op in facts:
        f = op.fact
        if check.range_metrics:
            if f.metric not in check.range_metrics:
                continue
        elif f.unit != check.range_unit:
            continue
        if f.value < check.minimum:
            bound = check.minimum
        elif f.value > check.maximum:
            bound = check.maximum
        else:
            continue
        lo = _fmt(check.minimum) if check.minimum > -INF else ""
        hi = _fmt(check.maximum) if check.maximum < INF else ""
        outcome = Outcome(1.0, bound, f.value, f"{_written(f)} ∉ [{lo}; {hi}]")
        flags.append(_flag(check, kind, [op], outcome))
    return flags


def _run_check(check: Check, kind: str, ops_of_kind: Sequence[Operand], approx: float) -> list[Flag]:
    if check.type == "range":
        return _run_range(check, kind, ops_of_kind)
    by_metric: dict[str, list[Operand]] = {}
    for op in ops_of_kind:
        by_metric.setdefault(op.fact.metric, []).append(op)
    lists = _candidates(check, by_metric)
    if lists is None:
        return []  # an operand is missing: nothing to compare
    evaluate = _EVALUATORS[check.type]
    best: tuple[Outcome, tuple[Operand, ...]] | None = None
    for combo in itertools.product(*lists):
        outcome = evaluate(check, combo, approx)
        if outcome.violation <= 1e-9:
            return []  # some reading of the figures agrees
        if best is None or outcome.violation < best[0].violation:
            best = (outcome, combo)
    assert best is not None
    return [_flag(check, kind, best[1], best[0])]


def run_checks(checks: CheckSet, extraction: Extraction) -> list[Flag]:
    # the document's own verified figures only: a province's total or a held-back candidate
    # never contradicts the commune's figures (indexes stay those of extraction.facts)
    operands = [Operand(i, f) for i, f in enumerate(extraction.facts) if f.accepted and f.scope == "self"]
    flags: list[Flag] = []
    for check in checks.checks:
        for kind in check.kinds:
            of_kind = [op for op in operands if op.fact.kind == kind]
            flags.extend(_run_check(check, kind, of_kind, checks.approx_relative))
    return flags


# --- loading rules/checks.yaml -----------------------------------------------------------


def catalog_units() -> dict[str, str] | None:
    """Metric code -> unit, from the metric catalog (rules/metrics.yaml); None without one."""
    try:
        from commune_metrics.extract.rules import load_catalog
    except ImportError:
        return None
    return {m.code: m.unit for m in load_catalog()}


def _as_list(value: object, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    raise ChecksConfigError(f"{where}: expected a metric code or a list of metric codes, got {value!r}")


def _number(raw: Mapping, key: str, default: float, where: str) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ChecksConfigError(f"{where}: '{key}' must be a number, got {value!r}")
    return float(value)


def _parse_check(raw: object, position: int, units: Mapping[str, str] | None) -> Check:
    if not isinstance(raw, Mapping):
        raise ChecksConfigError(f"check #{position}: expected a mapping, got {raw!r}")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise ChecksConfigError(f"check #{position}: missing 'name'")
    where = f"check '{name}'"
    ctype = raw.get("type")
    if ctype not in CHECK_TYPES:
        raise ChecksConfigError(f"{where}: unknown type {ctype!r} (known: {', '.join(CHECK_TYPES)})")
    kinds = tuple(raw.get("kinds", KINDS))
    if not kinds or any(k not in KINDS for k in kinds):
        raise ChecksConfigError(f"{where}: kinds must be among {KINDS}, got {list(kinds)}")
    severity = raw.get("severity", "error")
    if severity not in SEVERITIES:
        raise ChecksConfigError(f"{where}: severity must be one of {SEVERITIES}, got {severity!r}")
    common = {
        "name": name,
        "type": ctype,
        "message": str(raw.get("message") or name),
        "kinds": kinds,
        "tolerance": _number(raw, "tolerance", 0.0, where),
        "severity": severity,
    }
    if ctype == "sum":
        total = raw.get("total")
        parts = _as_list(raw.get("parts"), f"{where} parts")
        if isinstance(total, int | float) and not isinstance(total, bool):
            check = Check(**common, operands=tuple(parts), constant_total=float(total))
        else:
            check = Check(**common, operands=tuple(_as_list(total, f"{where} total") + parts))
    elif ctype == "part_of_whole":
        part = _as_list(raw.get("part"), f"{where} part")
        whole = _as_list(raw.get("whole"), f"{where} whole")
        if len(part) != 1 or len(whole) != 1:
            raise ChecksConfigError(f"{where}: part and whole are single metric codes")
        check = Check(**common, operands=(part[0], whole[0]))
    elif ctype == "share":
        share = _as_list(raw.get("share"), f"{where} share")
        numerator = _as_list(raw.get("numerator"), f"{where} numerator")
        denominator = _as_list(raw.get("denominator"), f"{where} denominator")
        if len(share) != 1 or len(denominator) != 1:
            raise ChecksConfigError(f"{where}: share and denominator are single metric codes")
        check = Check(**common, operands=(share[0], *numerator, denominator[0]), n_numerator=len(numerator))
    else:
        unit = raw.get("unit")
        metrics = tuple(_as_list(raw["metrics"], f"{where} metrics")) if "metrics" in raw else ()
        if not metrics and unit not in UNITS:
            raise ChecksConfigError(f"{where}: a range check needs 'metrics' or 'unit' (one of {UNITS})")
        if "min" not in raw and "max" not in raw:
            raise ChecksConfigError(f"{where}: a range check needs 'min' and/or 'max'")
        check = Check(
            **common,
            operands=metrics,
            range_unit=unit,
            range_metrics=metrics,
            minimum=_number(raw, "min", -INF, where),
            maximum=_number(raw, "max", INF, where),
        )
    unknown = [code for code in check.operands if units is not None and code not in units]
    if unknown:
        raise ChecksConfigError(
            f"{where}: unknown metric code(s) {', '.join(unknown)} — not in the metric catalog"
        )
    return check


def parse_checks(data: object, units: Mapping[str, str] | None, source: str = "checks") -> CheckSet:
    try:
        if not isinstance(data, Mapping) or not isinstance(data.get("checks"), list):
            raise ChecksConfigError("expected a mapping with a 'checks' list")
        approx = _number(data, "approx_relative", 0.05, "top level")
        checks = [_parse_check(raw, i + 1, units) for i, raw in enumerate(data["checks"])]
        names = [c.name for c in checks]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ChecksConfigError(f"duplicate check name(s): {', '.join(dupes)}")
    except ChecksConfigError as exc:
        raise ChecksConfigError(f"{source}: {exc}") from None
    return CheckSet(tuple(checks), approx)


def load_checks(path: Path | None = None, units: Mapping[str, str] | None = None) -> CheckSet:
    path = path or CHECKS_FILE
    try:  # the file's shape, through the one rules loader; each check is parsed below
        data = load_rule_file(path, ChecksFile).model_dump()
    except RulesError as exc:
        raise ChecksConfigError(str(exc)) from None
    return parse_checks(data, units if units is not None else catalog_units(), str(path))


@lru_cache(maxsize=1)
def _default_checks() -> CheckSet:
    return load_checks()


def check(extraction: Extraction, checks: CheckSet | None = None) -> list[Flag]:
    """Flags for every check the document's facts fail (rules/checks.yaml by default)."""
    return run_checks(checks or _default_checks(), extraction)
