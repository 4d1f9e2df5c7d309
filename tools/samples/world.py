"""The figures behind one synthetic document, drawn so that they agree with each other
(received = online + offline, resolved = early + on time + overdue, parts <= wholes) the
way a well-kept register would. Templates only ever print values taken from here."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# Units from the metric catalog (../shared/spec/metrics.md); tests check this stays in step.
METRIC_UNITS: dict[str, str] = {
    "dossiers.received": "count",
    "dossiers.received_online": "count",
    "dossiers.received_online_full": "count",
    "dossiers.received_online_partial": "count",
    "dossiers.received_offline": "count",
    "dossiers.resolved": "count",
    "dossiers.resolved_early": "count",
    "dossiers.resolved_on_time": "count",
    "dossiers.resolved_overdue": "count",
    "dossiers.resolved_in_time": "count",
    "dossiers.resolved_in_time_pct": "percent",
    "dossiers.withdrawn": "count",
    "dossiers.in_progress": "count",
    "dossiers.in_progress_on_time": "count",
    "dossiers.in_progress_overdue": "count",
    "dossiers.online_pct": "percent",
    "dossiers.offline_pct": "percent",
    "dossiers.online_partial_pct": "percent",
    "dossiers.online_per_service_per_year": "count",
    "results.electronic_pct": "percent",
    "dossiers.digitized_pct": "percent",
    "procedures.published": "count",
    "procedures.published_pct": "percent",
    "procedures.fields": "count",
    "procedures.online_full": "count",
    "procedures.online_partial_or_direct": "count",
    "procedures.online_full_groups": "count",
    "procedures.location_independent_pct": "percent",
    "procedures.business_online_pct": "percent",
    "computers.total": "count",
    "computers.antivirus": "count",
    "computers.antivirus_pct": "percent",
    "computers.high_speed_internet_pct": "percent",
    "computers.shared_software_pct": "percent",
    "network.dedicated_lines": "count",
    "network.interconnection_pct": "percent",
    "databases.national_key": "count",
    "staff.quota": "count",
    "staff.present": "count",
    "staff.retired": "count",
    "staff.contract": "count",
    "staff.it_officers": "count",
    "staff.onestop_officers": "count",
    "staff.trained": "count",
    "staff.trained_pct": "percent",
    "staff.awareness_pct": "percent",
    "staff.edoc_usage_pct": "percent",
    "documents.electronic_pct": "percent",
    "archives.digitized_pct": "percent",
    "community.tech_team_villages": "count",
    "community.tech_team_villages_pct": "percent",
    "community.villages_total": "count",
    "criteria.met": "count",
    "criteria.total": "count",
    "budget.requested_vnd": "vnd",
    "budget.allocated_vnd": "vnd",
    "budget.disbursed_vnd": "vnd",
}

# Sums a reader can check, named as in rules/checks.yaml; doc_meta["inconsistent"] lists
# the names of those a document breaks on purpose.
SUM_RULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "received_eq_online_plus_offline": (
        "dossiers.received",
        ("dossiers.received_online", "dossiers.received_offline"),
    ),
    "online_eq_full_plus_partial": (
        "dossiers.received_online",
        ("dossiers.received_online_full", "dossiers.received_online_partial"),
    ),
    "resolved_eq_early_on_time_overdue": (
        "dossiers.resolved",
        ("dossiers.resolved_early", "dossiers.resolved_on_time", "dossiers.resolved_overdue"),
    ),
    "in_time_eq_early_plus_on_time": (
        "dossiers.resolved_in_time",
        ("dossiers.resolved_early", "dossiers.resolved_on_time"),
    ),
    "in_progress_eq_on_time_plus_overdue": (
        "dossiers.in_progress",
        ("dossiers.in_progress_on_time", "dossiers.in_progress_overdue"),
    ),
}


def _pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def _split(rng: random.Random, total: int, shares: list[float]) -> list[int]:
    """Cut total into len(shares) non-negative integers that add up exactly."""
    raw = [total * s / sum(shares) for s in shares]
    parts = [int(x) for x in raw]
    parts[0] += total - sum(parts)
    return parts


def _high_pct(rng: random.Random) -> float:
    """Shares in these reports are mostly 100% or just below it."""
    roll = rng.random()
    if roll < 0.45:
        return 100.0
    if roll < 0.75:
        return float(rng.randint(80, 99))
    return round(rng.uniform(60.0, 99.9), 2)


def _money(rng: random.Random, low_millions: int, high_millions: int) -> int:
    step = rng.choice([1, 5, 10, 50, 100])
    millions = max(step, rng.randint(low_millions, high_millions) // step * step)
    return millions * 1_000_000


@dataclass
class World:
    values: dict[str, float] = field(default_factory=dict)
    targets: dict[str, float] = field(default_factory=dict)


def draw_world(rng: random.Random) -> World:
    v: dict[str, float] = {}
    received = rng.choice([rng.randint(120, 900), rng.randint(900, 9000)])
    online = round(received * rng.uniform(0.55, 0.985))
    v["dossiers.received"] = received
    v["dossiers.received_online"] = online
    v["dossiers.received_offline"] = received - online
    full, partial = _split(rng, online, [rng.uniform(0.1, 0.5), rng.uniform(0.5, 0.9)])
    v["dossiers.received_online_full"] = full
    v["dossiers.received_online_partial"] = partial
    withdrawn = rng.randint(0, max(1, received // 150))
    in_progress = rng.randint(received // 25, max(received // 25 + 1, received // 6))
    resolved = received - withdrawn - in_progress
    early, on_time, overdue = _split(
        rng, resolved, [rng.uniform(0.8, 0.97), rng.uniform(0.0, 0.15), rng.uniform(0.0, 0.04)]
    )
    v["dossiers.withdrawn"] = withdrawn
    v["dossiers.in_progress"] = in_progress
    ip_on_time, ip_overdue = _split(rng, in_progress, [rng.uniform(0.75, 1.0), rng.uniform(0.0, 0.25)])
    v["dossiers.in_progress_on_time"] = ip_on_time
    v["dossiers.in_progress_overdue"] = ip_overdue
    v["dossiers.resolved"] = resolved
    v["dossiers.resolved_early"] = early
    v["dossiers.resolved_on_time"] = on_time
    v["dossiers.resolved_overdue"] = overdue
    v["dossiers.resolved_in_time"] = early + on_time
    v["dossiers.resolved_in_time_pct"] = _pct(early + on_time, resolved)
    v["dossiers.online_pct"] = _pct(online, received)
    v["dossiers.offline_pct"] = round(100.0 - v["dossiers.online_pct"], 2)
    v["dossiers.online_partial_pct"] = _pct(partial, online)
    v["dossiers.online_per_service_per_year"] = rng.choice([500, 800, 1000, 1200, 1500])
    v["results.electronic_pct"] = _high_pct(rng)
    v["dossiers.digitized_pct"] = _high_pct(rng)

    published = rng.randint(240, 480)
    v["procedures.published"] = published
    v["procedures.published_pct"] = rng.choice([100.0, 100.0, float(rng.randint(92, 99))])
    v["procedures.fields"] = rng.randint(35, 80)
    v["procedures.online_full"] = rng.randint(published // 3, published * 2 // 3)
    v["procedures.online_partial_or_direct"] = published - int(v["procedures.online_full"])
    v["procedures.online_full_groups"] = rng.randint(20, 90)
    v["procedures.location_independent_pct"] = _high_pct(rng)
    v["procedures.business_online_pct"] = _high_pct(rng)

    computers = rng.randint(18, 120)
    antivirus = rng.randint(computers // 3, computers)
    v["computers.total"] = computers
    v["computers.antivirus"] = antivirus
    v["computers.antivirus_pct"] = _pct(antivirus, computers)
    v["computers.high_speed_internet_pct"] = _high_pct(rng)
    v["computers.shared_software_pct"] = _high_pct(rng)
    v["network.dedicated_lines"] = rng.randint(1, 6)
    v["network.interconnection_pct"] = _high_pct(rng)
    v["databases.national_key"] = rng.randint(3, 15)

    quota = rng.randint(35, 140)
    present = rng.randint(quota * 3 // 4, quota)
    v["staff.quota"] = quota
    v["staff.present"] = present
    v["staff.retired"] = rng.randint(1, 12)
    v["staff.contract"] = rng.randint(1, 15)
    v["staff.it_officers"] = rng.randint(1, 3)
    v["staff.onestop_officers"] = rng.randint(3, 14)
    trained = rng.randint(present // 2, present)
    v["staff.trained"] = trained
    v["staff.trained_pct"] = rng.choice([_pct(trained, present), 100.0])
    v["staff.awareness_pct"] = _high_pct(rng)
    v["staff.edoc_usage_pct"] = _high_pct(rng)
    v["documents.electronic_pct"] = _high_pct(rng)
    v["archives.digitized_pct"] = round(rng.uniform(5, 95), rng.choice([0, 1, 2]))

    villages = rng.randint(6, 42)
    teams = rng.randint(villages // 2, villages)
    v["community.villages_total"] = villages
    v["community.tech_team_villages"] = teams
    v["community.tech_team_villages_pct"] = _pct(teams, villages)
    criteria_total = rng.randint(10, 20)
    v["criteria.total"] = criteria_total
    v["criteria.met"] = rng.randint(criteria_total * 2 // 3, criteria_total)

    requested = _money(rng, 150, 3000)
    allocated = min(requested, _money(rng, 100, requested // 1_000_000))
    v["budget.requested_vnd"] = requested
    v["budget.allocated_vnd"] = allocated
    v["budget.disbursed_vnd"] = min(allocated, _money(rng, 50, allocated // 1_000_000))

    targets = {
        "dossiers.online_pct": rng.choice([80.0, 85.0, 90.0, 95.0, 100.0]),
        "dossiers.online_per_service_per_year": rng.choice([500, 1000, 1000, 1500]),
        "dossiers.resolved_in_time_pct": rng.choice([95.0, 98.0, 100.0]),
        "dossiers.digitized_pct": rng.choice([80.0, 90.0, 100.0]),
        "results.electronic_pct": rng.choice([90.0, 100.0]),
        "procedures.published_pct": 100.0,
        "procedures.online_full_groups": rng.choice([25, 53, 82, 48, 60]),
        "procedures.location_independent_pct": rng.choice([80.0, 100.0]),
        "procedures.business_online_pct": rng.choice([90.0, 100.0]),
        "computers.antivirus_pct": 100.0,
        "computers.high_speed_internet_pct": rng.choice([95.0, 100.0]),
        "computers.shared_software_pct": 100.0,
        "network.interconnection_pct": 100.0,
        "databases.national_key": rng.choice([6, 8, 10, 12]),
        "staff.trained_pct": rng.choice([80.0, 90.0, 100.0]),
        "staff.awareness_pct": 100.0,
        "staff.edoc_usage_pct": rng.choice([95.0, 100.0]),
        "documents.electronic_pct": rng.choice([90.0, 100.0]),
        "archives.digitized_pct": rng.choice([30.0, 50.0, 70.0, 100.0]),
        "community.tech_team_villages_pct": 100.0,
    }
    return World(values=v, targets=targets)

# part <= whole pairs, as in rules/checks.yaml (the test suite checks the two agree).
PART_RULES: dict[str, tuple[str, str]] = {
    "antivirus_le_computers": ("computers.antivirus", "computers.total"),
    "tech_team_villages_le_villages": ("community.tech_team_villages", "community.villages_total"),
    "criteria_met_le_total": ("criteria.met", "criteria.total"),
    "staff_present_le_quota": ("staff.present", "staff.quota"),
    "online_le_received": ("dossiers.received_online", "dossiers.received"),
    "offline_le_received": ("dossiers.received_offline", "dossiers.received"),
    "online_full_le_online": ("dossiers.received_online_full", "dossiers.received_online"),
    "online_partial_le_online": ("dossiers.received_online_partial", "dossiers.received_online"),
    "overdue_le_resolved": ("dossiers.resolved_overdue", "dossiers.resolved"),
    "in_time_le_resolved": ("dossiers.resolved_in_time", "dossiers.resolved"),
    "in_progress_overdue_le_in_progress": ("dossiers.in_progress_overdue", "dossiers.in_progress"),
}


def broken_rules(values: dict[str, float], present: set[str]) -> list[str]:
    """Names of the sum and part-of-whole rules that the present figures break."""
    broken = []
    for name, (total, parts) in SUM_RULES.items():
        if {total, *parts} <= present and values[total] != sum(values[p] for p in parts):
            broken.append(name)
    for name, (part, whole) in PART_RULES.items():
        if {part, whole} <= present and values[part] > values[whole]:
            broken.append(name)
    return broken
