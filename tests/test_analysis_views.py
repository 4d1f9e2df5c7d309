"""Views of 50_analysis.sql: target_gaps, fact_rates_30d, facts_corrected, corrections_unmatched.
Warehouses are built through the real loader (commune_metrics.warehouse) from hand-made extractions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from commune_metrics.checks import check
from commune_metrics.core.model import DocMeta, Extraction, Fact
from commune_metrics.ingest.process import ProcessResult
from commune_metrics.warehouse import connect_readonly, open_warehouse
from commune_metrics.warehouse.corrections import fact_id, lookup_fact, record_correction

QN = "Quảng Ngãi"


@dataclass
class Doc:
    name: str
    meta: DocMeta
    facts: list[Fact] = field(default_factory=list)
    salt: str = ""  # different bytes for a re-sent version

    @property
    def sha256(self) -> str:
        return hashlib.sha256((self.name + self.salt).encode()).hexdigest()

    def add(
        self,
        metric: str,
        value: float,
        kind: str = "actual",
        qualifier: str = "eq",
        unit: str = "count",
        evidence: str | None = None,
    ) -> Doc:
        start = 100 * len(self.facts)
        sentence = evidence or f"{metric} {kind} {value}"
        self.facts.append(
            Fact(
                metric,
                kind,
                value,
                unit,
                qualifier,
                start,
                start + len(sentence),
                sentence,
                "test",
                0.9,
                page=1,
            )
        )
        return self


def load_docs(warehouse: Path, docs: list[Doc]) -> None:
    with open_warehouse(warehouse) as wh:
        run = wh.start_run("test")
        for d in docs:
            ex = Extraction(d.meta, d.facts)
            result = ProcessResult(
                source_file=d.name,
                path=d.name,
                sha256=d.sha256,
                size_bytes=100,
                status="ok",
                file_type="txt",
                meta=d.meta,
                facts=d.facts,
                flags=check(ex),
                pages=1,
            )
            wh.load(result, run)
        wh.finish_run(run, {})


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = connect_readonly(warehouse)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def report(
    commune: str,
    ward: int | None,
    province: str | None = QN,
    start: date | None = None,
    end: date | None = None,
    name: str | None = None,
    doc_type: str = "report",
) -> Doc:
    meta = DocMeta(
        doc_type=doc_type,
        commune=commune,
        province=province,
        ward_code=ward,
        period_start=start,
        period_end=end,
    )
    return Doc(name or f"{doc_type}_{commune or province}.txt", meta)


@pytest.fixture()
def wh(tmp_path: Path) -> Path:
    return tmp_path / "wh.duckdb"


def gaps(warehouse: Path) -> dict[tuple[str, str, float], tuple]:
    rows = query(
        warehouse,
        """SELECT commune, metric, target_value, actual_value, gap, met, target_scope
                               FROM target_gaps""",
    )
    return {(r[0], r[1], r[2]): r[3:] for r in rows}


def test_target_gaps_respect_qualifiers_and_scope(wh: Path):
    province_plan = report(None, None, doc_type="plan", name="kh_tinh.txt")
    province_plan.add("dossiers.online_pct", 80, "target", "gte", "percent")
    minh_long = report("Minh Long", 21361).add("dossiers.online_pct", 80.05, unit="percent")
    van_tuong = (
        report("Vạn Tường", 21061)
        .add("dossiers.online_pct", 95, unit="percent")
        .add("dossiers.online_pct", 95, "target", "gt", "percent")
        .add("dossiers.resolved_overdue", 3)
        .add("dossiers.resolved_overdue", 0, "target")
    )
    elsewhere = report("Chí Minh", 11131, province="Thành phố Hải Phòng").add(
        "dossiers.online_pct", 50, unit="percent"
    )
    load_docs(wh, [province_plan, minh_long, van_tuong, elsewhere])
    g = gaps(wh)

    # ">= 80" is met by 80.05, through the province-wide plan
    assert g[("Minh Long", "dossiers.online_pct", 80.0)] == (80.05, pytest.approx(0.05), True, "province")
    # "> 95" is not met by 95; Vạn Tường's own target replaces the province's
    assert g[("Vạn Tường", "dossiers.online_pct", 95.0)] == (95.0, 0.0, False, "commune")
    assert ("Vạn Tường", "dossiers.online_pct", 80.0) not in g
    # a target of 0 overdue dossiers is a ceiling: 3 overdue misses it
    assert g[("Vạn Tường", "dossiers.resolved_overdue", 0.0)] == (3.0, 3.0, False, "commune")
    # another province's commune gets no Quảng Ngãi target
    assert not [k for k in g if k[0] == "Chí Minh"]
    assert len(g) == 3


def test_target_uses_latest_actual_and_gt_actual_meets_gt_target(wh: Path):
    older = report("Minh Long", 21361, start=date(2025, 6, 1), end=date(2025, 6, 30), name="t6.txt")
    older.add("dossiers.online_pct", 99, unit="percent")
    newer = report("Minh Long", 21361, start=date(2025, 7, 1), end=date(2025, 7, 31), name="t7.txt")
    newer.add("dossiers.online_pct", 95, "actual", "gt", "percent")
    newer.add("dossiers.online_pct", 95, "target", "gt", "percent")
    load_docs(wh, [older, newer])
    (row,) = query(wh, "SELECT actual_value, actual_file, met FROM target_gaps")
    assert row == (95.0, "t7.txt", True)  # "hơn 95%" achieved meets "hơn 95%" demanded


def test_rates_scale_flows_to_30_days_and_keep_unknown_periods(wh: Path):
    known = report("Vạn Tường", 21061, start=date(2025, 7, 1), end=date(2025, 9, 25))
    known.add("dossiers.received", 5676).add("computers.total", 40)
    unknown = report("Minh Long", 21361).add("dossiers.received", 600)
    load_docs(wh, [known, unknown])
    rows = query(
        wh,
        """SELECT commune, metric, period_days, period_known, per_30_days, rate_status
                        FROM fact_rates_30d ORDER BY commune""",
    )
    assert rows == [
        ("Minh Long", "dossiers.received", None, False, None, "unknown_period"),
        ("Vạn Tường", "dossiers.received", 87, True, round(5676 / 87 * 30, 2), "ok"),
    ]  # computers.total is a stock, not a flow: no rate


def test_facts_corrected_applies_value_and_rejection(wh: Path):
    doc = report("Vạn Tường", 21061, start=date(2025, 7, 1), end=date(2025, 7, 30))
    doc.add("dossiers.received", 5676).add("dossiers.received_online", 5297).add(
        "dossiers.received_offline", 382
    )
    doc.add("dossiers.online_pct", 90, "target", "gte", "percent").add(
        "dossiers.online_pct", 93.3, unit="percent"
    )
    load_docs(wh, [doc])
    ids = {f.metric + f.kind: fact_id(doc.sha256, f.metric, f.kind, f.char_start) for f in doc.facts}
    with open_warehouse(wh) as w:
        for metric, value, reject in (
            ("dossiers.received", 5679, False),
            ("dossiers.received_offline", None, True),
        ):
            key = lookup_fact(w.con, ids[metric + "actual"])
            record_correction(w.con, key, value, reject, "đối chiếu sổ", "analyst")
        key = lookup_fact(w.con, ids["dossiers.online_pctactual"])
        record_correction(w.con, key, 79.5, False, "số đúng", "analyst")
    rows = dict(
        (r[0], r[1:])
        for r in query(
            wh,
            """SELECT metric, value, original_value, corrected, rejected, correction_note
                              FROM facts_corrected WHERE kind = 'actual'""",
        )
    )
    assert rows["dossiers.received"] == (5679.0, 5676.0, True, False, "đối chiếu sổ")
    assert rows["dossiers.received_offline"] == (None, 382.0, True, True, "đối chiếu sổ")
    assert rows["dossiers.received_online"] == (5297.0, 5297.0, False, False, None)
    # analysis views use corrected values and drop rejected facts
    (gap,) = query(wh, "SELECT actual_value, met FROM target_gaps")
    assert gap == (79.5, False)
    rated = {r[0] for r in query(wh, "SELECT metric FROM fact_rates_30d")}
    assert "dossiers.received_offline" not in rated and "dossiers.received" in rated
    # facts shows the corrected value beside what was read; the fact rows themselves are untouched
    assert query(wh, "SELECT value, original_value, corrected_by, corrected_why FROM facts "
                     "WHERE metric = 'dossiers.received'") == [(5679.0, 5676.0, "analyst", "đối chiếu sổ")]
    assert query(wh, "SELECT value, rejected FROM facts WHERE metric = 'dossiers.received_offline'") == [
        (None, True)]
    assert query(wh, "SELECT value FROM fact_history WHERE metric = 'dossiers.received'") == [(5676.0,)]


def test_corrections_survive_reingestion_and_new_versions_are_reported(wh: Path):
    doc = report("Vạn Tường", 21061, start=date(2025, 7, 1), end=date(2025, 7, 30))
    doc.add("dossiers.received", 5676).add("dossiers.in_progress", 414)
    load_docs(wh, [doc])
    fid = fact_id(doc.sha256, "dossiers.received", "actual", doc.facts[0].char_start)
    with open_warehouse(wh) as w:
        record_correction(w.con, lookup_fact(w.con, fid), 5679, False, "sửa", "analyst")
        # Re-ingestion of the same bytes after the document's rows were dropped (e.g. a
        # rebuild with a newer extractor that emits the facts in another order).
        w.con.execute("DELETE FROM fact_rows")
        w.con.execute("DELETE FROM flag_rows")
        w.con.execute("DELETE FROM document_versions")
    doc.facts.reverse()
    load_docs(wh, [doc])
    assert query(
        wh, "SELECT value, original_value, fact_id FROM facts_corrected WHERE metric = 'dossiers.received'"
    ) == [(5679.0, 5676.0, fid)]
    assert query(wh, "SELECT count(*) FROM corrections_unmatched") == [(0,)]

    resent = report("Vạn Tường", 21061, start=date(2025, 7, 1), end=date(2025, 7, 30))
    resent.facts, resent.salt = list(doc.facts), "v2"
    load_docs(wh, [resent])
    assert query(wh, "SELECT value FROM facts_corrected WHERE metric = 'dossiers.received'") == [(5676.0,)]
    assert query(wh, "SELECT fact_id, new_value FROM corrections_unmatched") == [(fid, 5679.0)]


def test_fact_id_in_sql_matches_python(wh: Path):
    doc = report("Minh Long", 21361).add("computers.total", 96).add("computers.antivirus", 90)
    load_docs(wh, [doc])
    got = sorted(r[0] for r in query(wh, "SELECT fact_id FROM facts_corrected"))
    assert got == sorted(fact_id(doc.sha256, f.metric, f.kind, f.char_start) for f in doc.facts)
