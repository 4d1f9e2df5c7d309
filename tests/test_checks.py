"""Consistency checks (rules/checks.yaml via commune_metrics.checks)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from commune_metrics.checks import (
    CHECKS_FILE,
    ChecksConfigError,
    catalog_units,
    check,
    load_checks,
    parse_checks,
    run_checks,
)
from commune_metrics.core.model import DocMeta, Extraction, Fact

SEED_002 = "002_c2fc793734af858c.txt"


def fact(metric: str, value: float, kind: str = "actual", qualifier: str = "eq", unit: str = "count") -> Fact:
    return Fact(metric, kind, value, unit, qualifier, 0, 1, f"{metric} là {value}", "test", 1.0)


def rules(flags) -> set[str]:
    return {f.rule for f in flags}


def gold_extractions(gold_file: Path) -> dict[str, Extraction]:
    docs: dict[str, Extraction] = {}
    for line in gold_file.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if "doc" not in row:
            continue
        # The gold has no qualifier; "hơn"/"trên" in the evidence is how documents write one.
        head = row["evidence"].lower()
        qualifier = "gt" if head.startswith(("hơn", "trên")) else "eq"
        f = Fact(
            row["metric"],
            row["kind"],
            float(row["value"]),
            row["unit"],
            qualifier,
            0,
            len(row["evidence"]),
            row["evidence"],
            "gold",
            1.0,
        )
        docs.setdefault(row["doc"], Extraction(DocMeta())).facts.append(f)
    return docs


def value_of(ex: Extraction, metric: str) -> float:
    (v,) = {f.value for f in ex.facts if f.metric == metric and f.kind == "actual"}
    return v


def test_shipped_checks_load_against_catalog():
    units = catalog_units()
    if units is None:
        pytest.skip("metric catalog (commune_metrics.extract.rules) not available yet")
    checks = load_checks(units=units)
    assert len(checks.checks) >= 20
    for c in checks.checks:
        for code in c.operands:
            assert code in units


def test_seed_002_gold_flags_both_sum_errors(gold_file):
    ex = gold_extractions(gold_file)[SEED_002]
    before = copy.deepcopy(ex.facts)
    flags = check(ex)
    by_rule = {f.rule: f for f in flags}

    received = by_rule["received_eq_online_plus_offline"]
    assert received.expected == value_of(ex, "dossiers.received")
    parts = value_of(ex, "dossiers.received_online") + value_of(ex, "dossiers.received_offline")
    assert received.actual == parts
    assert received.difference == parts - received.expected != 0
    assert set(received.metrics) == {
        "dossiers.received",
        "dossiers.received_online",
        "dossiers.received_offline",
    }
    assert len(received.evidence) == 3 and all(received.evidence)

    progress = by_rule["in_progress_eq_on_time_plus_overdue"]
    assert progress.expected == value_of(ex, "dossiers.in_progress")
    assert progress.actual == value_of(ex, "dossiers.in_progress_on_time") + value_of(
        ex, "dossiers.in_progress_overdue"
    )
    assert progress.expected != progress.actual

    # resolved = early + on_time + overdue holds in this document: no flag for it.
    assert "resolved_eq_early_on_time_overdue" not in by_rule
    for f in flags:
        assert {ex.facts[i].metric for i in f.fact_indexes} == set(f.metrics)
        assert all(ex.facts[i].kind == f.kind for i in f.fact_indexes)
    # flags never change or drop a fact
    assert ex.facts == before


def test_gold_documents_that_agree_are_not_flagged(gold_file):
    docs = gold_extractions(gold_file)
    assert len(docs) == 5
    for name, ex in docs.items():
        if name == SEED_002:
            continue
        assert check(ex) == [], name


def test_every_error_flag_on_seed_002_is_a_real_disagreement(gold_file):
    ex = gold_extractions(gold_file)[SEED_002]
    for f in check(ex):
        if f.severity == "error":
            assert f.expected != f.actual
            assert abs(f.difference) > 0


def test_sum_needs_all_operands():
    ex = Extraction(DocMeta(), [fact("dossiers.received", 100), fact("dossiers.received_online", 60)])
    assert "received_eq_online_plus_offline" not in rules(check(ex))
    ex.facts.append(fact("dossiers.received_offline", 41))
    assert "received_eq_online_plus_offline" in rules(check(ex))
    ex.facts[-1] = fact("dossiers.received_offline", 40)
    assert check(ex) == []


def test_only_same_kind_is_compared():
    ex = Extraction(
        DocMeta(),
        [
            fact("dossiers.in_progress", 10),
            fact("dossiers.in_progress_on_time", 3, kind="target"),
            fact("dossiers.in_progress_overdue", 3, kind="target"),
        ],
    )
    assert check(ex) == []
    ex.facts += [fact("dossiers.in_progress", 7, kind="target")]
    flags = check(ex)
    assert rules(flags) == {"in_progress_eq_on_time_plus_overdue"}
    assert flags[0].kind == "target" and flags[0].message.startswith("Mục tiêu: ")


def test_part_of_whole_and_percent_range():
    ex = Extraction(
        DocMeta(),
        [
            fact("computers.antivirus", 41),
            fact("computers.total", 40),
            fact("criteria.met", 16),
            fact("criteria.total", 16),
            fact("staff.trained_pct", 120, unit="percent"),
            fact("staff.awareness_pct", 100, unit="percent"),
        ],
    )
    flags = check(ex)
    assert rules(flags) == {"antivirus_le_computers", "percent_in_0_100"}
    pct = next(f for f in flags if f.rule == "percent_in_0_100")
    assert pct.metrics == ["staff.trained_pct"] and pct.actual == 120 and pct.expected == 100


def test_share_agrees_within_one_point_and_respects_qualifier():
    base = [fact("computers.antivirus", 17), fact("computers.total", 40)]  # 42.5 %
    ok = Extraction(DocMeta(), [*base, fact("computers.antivirus_pct", 43, unit="percent")])
    assert check(ok) == []
    off = Extraction(DocMeta(), [*base, fact("computers.antivirus_pct", 45, unit="percent")])
    (flag,) = check(off)
    assert flag.rule == "antivirus_pct_matches_counts"
    assert flag.expected == 45 and flag.actual == 42.5 and flag.severity == "warning"
    # "hơn 40%" agrees with 42.5 %, "hơn 44%" does not
    gt40 = Extraction(DocMeta(), [*base, fact("computers.antivirus_pct", 40, qualifier="gt", unit="percent")])
    assert check(gt40) == []
    gt44 = Extraction(DocMeta(), [*base, fact("computers.antivirus_pct", 44, qualifier="gt", unit="percent")])
    assert rules(check(gt44)) == {"antivirus_pct_matches_counts"}


def test_approximate_figures_get_slack():
    ex = Extraction(
        DocMeta(),
        [
            fact("dossiers.received", 1000, qualifier="approx"),
            fact("dossiers.received_online", 620),
            fact("dossiers.received_offline", 400),
        ],
    )
    assert check(ex) == []  # 1020 is within 5 % of "khoảng 1.000"
    ex.facts[0] = fact("dossiers.received", 1000)
    assert rules(check(ex)) == {"received_eq_online_plus_offline"}


def test_repeated_metric_passes_when_one_reading_agrees():
    ex = Extraction(
        DocMeta(),
        [
            fact("dossiers.received", 500),  # e.g. this month
            fact("dossiers.received", 1500),  # e.g. year to date
            fact("dossiers.received_online", 1200),
            fact("dossiers.received_offline", 300),
        ],
    )
    assert check(ex) == []
    ex.facts[1] = fact("dossiers.received", 1490)
    (flag,) = check(ex)
    assert flag.expected == 1490  # the closest reading is reported
    assert flag.fact_indexes == [1, 2, 3]


def test_analyst_adds_a_rule_in_yaml(tmp_path):
    data = yaml.safe_load(CHECKS_FILE.read_text(encoding="utf-8"))
    data["checks"].append(
        {
            "name": "disbursed_le_allocated",
            "type": "part_of_whole",
            "part": "budget.disbursed_vnd",
            "whole": "budget.allocated_vnd",
            "message": "Giải ngân vượt số vốn được bố trí",
        }
    )
    path = tmp_path / "checks.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    checks = load_checks(path)
    ex = Extraction(
        DocMeta(),
        [fact("budget.disbursed_vnd", 6e8, unit="vnd"), fact("budget.allocated_vnd", 5e8, unit="vnd")],
    )
    assert rules(run_checks(checks, ex)) == {"disbursed_le_allocated"}
    assert check(ex) == []  # the shipped rules do not have it


def test_unknown_metric_code_is_a_clear_error():
    units = {"dossiers.received": "count", "dossiers.received_online": "count"}
    data = {
        "checks": [
            {
                "name": "typo",
                "type": "sum",
                "total": "dossiers.received",
                "parts": ["dossiers.received_online", "dossiers.recieved_offline"],
            }
        ]
    }
    with pytest.raises(ChecksConfigError, match=r"typo.*dossiers\.recieved_offline"):
        parse_checks(data, units)


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"name": "x", "type": "average"}, "unknown type"),
        ({"name": "x", "type": "range", "unit": "percent"}, "min"),
        ({"name": "x", "type": "sum", "total": "dossiers.received", "parts": []}, "parts"),
        (
            {
                "name": "x",
                "type": "part_of_whole",
                "part": "dossiers.received",
                "whole": "dossiers.received",
                "kinds": ["plan"],
            },
            "kinds",
        ),
        ({"type": "sum"}, "name"),
    ],
)
def test_malformed_rules_are_rejected(bad, message):
    with pytest.raises(ChecksConfigError, match=message):
        parse_checks({"checks": [bad]}, {"dossiers.received": "count"})


def test_duplicate_rule_names_are_rejected():
    rule = {"name": "same", "type": "range", "unit": "percent", "max": 100}
    with pytest.raises(ChecksConfigError, match="duplicate"):
        parse_checks({"checks": [rule, rule]}, {})


def test_generated_documents_flag_exactly_the_inconsistencies_they_carry():
    """The sample generator plants broken sums / parts larger than wholes and says which."""
    from tools.samples.generator import METRIC_UNITS, compose_corpus

    planted = 0
    for doc, _fmt in compose_corpus(300, seed=7, formats=("txt",)):
        facts = [
            Fact(
                g.metric,
                g.kind,
                g.value,
                METRIC_UNITS[g.metric],
                g.qualifier,
                10 * i,
                10 * i + 5,
                g.evidence,
                "gold",
                1.0,
            )
            for i, g in enumerate(doc.facts)
        ]
        expected = set(doc.meta.get("inconsistent", []))
        planted += bool(expected)
        assert rules(check(Extraction(DocMeta(), facts))) == expected, doc.name
    assert planted >= 5  # the corpus really exercised the checks


def test_real_extractor_on_seeds_flags_seed_002_only(seed_paths):
    from commune_metrics.extract.extractor import extract
    from commune_metrics.readers import load_document

    for path in seed_paths:
        ex = extract(load_document(path))
        before = copy.deepcopy(ex.facts)
        flags = check(ex)
        assert ex.facts == before
        if path.name != SEED_002:
            assert flags == [], (path.name, [(f.rule, f.expected, f.actual) for f in flags])
            continue
        by_rule = {f.rule: f for f in flags}
        assert (
            by_rule["received_eq_online_plus_offline"].expected,
            by_rule["received_eq_online_plus_offline"].actual,
        ) == (5676, 5297 + 382)
        assert (
            by_rule["in_progress_eq_on_time_plus_overdue"].expected,
            by_rule["in_progress_eq_on_time_plus_overdue"].actual,
        ) == (414, 343 + 68)
        for f in flags:  # evidence sentences are the document's own text
            text = load_document(path).text
            assert all(s and s in text for s in f.evidence)
