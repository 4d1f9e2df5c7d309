"""Warehouse: schema and contract views, versions, idempotence, quarantine, one
transaction per document, the writer lock, comparison formulas. Loads hand-made
ProcessResults so these tests do not depend on the readers or commune_metrics.extract."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from commune_metrics.checks import Flag
from commune_metrics.core.model import DocMeta, Fact
from commune_metrics.ingest.process import ProcessResult
from commune_metrics.warehouse import (
    WarehouseBusyError,
    WarehouseNotFoundError,
    connect_readonly,
    document_key,
    open_warehouse,
)
from commune_metrics.warehouse import store as store_module
from commune_metrics.warehouse.lock import WriterLock
from commune_metrics.warehouse.schema import SQL_DIR, apply_schema

CONTRACT = {
    "facts": [
        "source_file",
        "doc_sha256",
        "doc_type",
        "ward_code",
        "commune",
        "province",
        "period_start",
        "period_end",
        "metric",
        "kind",
        "value",
        "unit",
        "qualifier",
        "page",
        "char_start",
        "char_end",
        "evidence",
        "extractor",
        "confidence",
        "fact_id",  # v2
        "scope",  # v2
    ],
    "documents": [
        "source_file",
        "doc_sha256",
        "doc_type",
        "ward_code",
        "commune",
        "province",
        "period_start",
        "period_end",
        "issued_on",
        "signer",
        "pages",
        "status",
        "reason",
    ],
    "quarantine": ["source_file", "doc_sha256", "reason", "at"],
    "flags": ["source_file", "rule", "metrics", "expected", "actual", "evidence"],
}
CONTRACT_TYPES = {
    ("facts", "ward_code"): "INTEGER",
    ("facts", "value"): "DOUBLE",
    ("facts", "period_start"): "DATE",
    ("facts", "page"): "INTEGER",
    ("facts", "confidence"): "DOUBLE",
    ("facts", "fact_id"): "VARCHAR",
    ("facts", "scope"): "VARCHAR",
    ("facts", "char_start"): "INTEGER",
}


def fact(metric: str, value: float, kind: str = "actual", unit: str = "count", start: int = 0) -> Fact:
    sentence = f"{metric} là {value}"
    return Fact(metric, kind, value, unit, "eq", start, start + len(sentence), sentence, "test", 0.9, page=1)


def result(
    name: str,
    *facts: Fact,
    salt: str = "",
    ward: int | None = 15661,
    commune: str | None = "Tân Thành",
    period: tuple[date, date] | None = (date(2025, 7, 1), date(2025, 7, 31)),
    flags: list[Flag] | None = None,
    subject: str | None = None,
) -> ProcessResult:
    meta = DocMeta(
        doc_type="report",
        commune=commune,
        province="Thanh Hóa" if commune else None,
        ward_code=ward,
        period_start=period[0] if period else None,
        period_end=period[1] if period else None,
        subject=subject,
    )
    sha = hashlib.sha256(f"{name}|{salt}".encode()).hexdigest()
    return ProcessResult(
        name,
        f"/inbox/{name}",
        sha,
        100,
        "ok",
        file_type="txt",
        meta=meta,
        facts=list(facts),
        flags=flags or [],
        pages=None,
    )


def bad(name: str, code: str = "corrupt", salt: str = "") -> ProcessResult:
    sha = hashlib.sha256(f"bad|{name}|{salt}".encode()).hexdigest()
    return ProcessResult(name, f"/inbox/{name}", sha, 7, "quarantined", code=code, reason="cannot be read")


@pytest.fixture
def wh_path(tmp_path: Path) -> Path:
    return tmp_path / "wh" / "warehouse.duckdb"


def load(path: Path, *results: ProcessResult) -> list:
    with open_warehouse(path, lock_timeout=5) as wh:
        run = wh.start_run("test")
        outcomes = [wh.load(r, run) for r in results]
        wh.finish_run(run, {})
    return outcomes


def query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = connect_readonly(path)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_contract_views_have_the_contract_columns_in_order(wh_path: Path) -> None:
    load(wh_path)
    con = connect_readonly(wh_path)
    for view, columns in CONTRACT.items():
        described = con.execute(f"DESCRIBE {view}").fetchall()
        assert [r[0] for r in described][: len(columns)] == columns, view
        for (v, column), expected_type in CONTRACT_TYPES.items():
            if v == view:
                assert dict((r[0], r[1]) for r in described)[column] == expected_type
    for extra in (
        "commune_latest",
        "comparison",
        "document_history",
        "fact_history",
        "runs",
        "communes",
        "metrics",
        "schema_version",
    ):
        con.execute(f"SELECT * FROM {extra} LIMIT 1")
    con.close()


def test_schema_is_reapplied_and_a_new_sql_file_takes_effect(tmp_path: Path, wh_path: Path) -> None:
    load(wh_path, result("a.txt", fact("dossiers.received", 10)))
    sql_dir = tmp_path / "sql"
    shutil.copytree(SQL_DIR, sql_dir)
    (sql_dir / "90_extra.sql").write_text(
        "CREATE OR REPLACE VIEW extra_view AS SELECT count(*) AS n FROM facts;"
    )
    con = duckdb.connect(str(wh_path))
    apply_schema(con, sql_dir)
    apply_schema(con, sql_dir)  # twice: idempotent
    assert con.execute("SELECT n FROM extra_view").fetchone() == (1,)
    files = [r[0] for r in con.execute("SELECT file FROM schema_version").fetchall()]
    assert files.count("90_extra.sql") == 1 and "00_tables.sql" in files
    con.close()


def test_same_bytes_twice_change_nothing(wh_path: Path) -> None:
    r = result("a.txt", fact("dossiers.received", 120), fact("dossiers.received_online", 30, start=40))
    first = load(wh_path, r)[0]
    counts_before = query(
        wh_path, "SELECT (SELECT count(*) FROM fact_rows), (SELECT count(*) FROM document_versions)"
    )
    second = load(wh_path, r)[0]
    assert (first.outcome, second.outcome) == ("loaded", "unchanged")
    assert (
        query(wh_path, "SELECT (SELECT count(*) FROM fact_rows), (SELECT count(*) FROM document_versions)")
        == counts_before
        == [(2, 1)]
    )
    assert query(wh_path, "SELECT outcome FROM run_files ORDER BY run_id") == [("loaded",), ("unchanged",)]


def test_corrected_resend_becomes_current_and_old_version_is_history(wh_path: Path) -> None:
    v1 = result("bc_thang7.txt", fact("dossiers.received", 120))
    v2 = result("bc_thang7_sua.txt", fact("dossiers.received", 125), salt="corrected")
    o1, o2 = load(wh_path, v1, v2)
    assert (o2.outcome, o2.version, o2.replaced_version) == ("loaded", 2, 1)
    assert query(wh_path, "SELECT value, source_file FROM facts") == [(125.0, "bc_thang7_sua.txt")]
    assert query(wh_path, "SELECT count(*) FROM documents WHERE status = 'loaded'") == [(1,)]
    history = query(
        wh_path,
        "SELECT version, is_current, superseded_by IS NOT NULL FROM document_history ORDER BY version",
    )
    assert history == [(1, False, True), (2, True, False)]
    assert sorted(query(wh_path, "SELECT value FROM fact_history")) == [(120.0,), (125.0,)]
    # A different period of the same commune is another report, not a version.
    other = result(
        "bc_thang8.txt", fact("dossiers.received", 90), period=(date(2025, 8, 1), date(2025, 8, 31))
    )
    assert load(wh_path, other)[0].version == 1
    assert query(wh_path, "SELECT count(*) FROM documents WHERE status = 'loaded'") == [(2,)]


def test_resend_whose_period_is_now_readable_replaces_the_undated_version(wh_path: Path) -> None:
    # A poor scan gave no period; the better scan of the same file does: one report, two versions.
    subject = "Kết quả giải quyết thủ tục hành chính tháng 7 năm 2025"
    v1 = result("bc_scan.pdf", fact("dossiers.received", 72), period=None, subject=subject)
    v2 = result("bc_scan.pdf", fact("dossiers.received", 726), salt="rescanned", subject=subject)
    o1, o2 = load(wh_path, v1, v2)
    assert (o2.version, o2.replaced_version) == (2, 1)
    assert query(wh_path, "SELECT value FROM facts") == [(726.0,)]
    # An undated report on another subject is still another report.
    other = result("bc_khac.pdf", fact("dossiers.received", 5), period=None, salt="other",
                   subject="Tình hình triển khai Nghị quyết 57 và vận hành hệ thống công nghệ thông tin")
    assert load(wh_path, other)[0].version == 1
    assert query(wh_path, "SELECT count(*) FROM documents WHERE status = 'loaded'") == [(2,)]


def test_identity_key_names_slot_period_and_number_or_subject_never_the_file() -> None:
    full = DocMeta(
        doc_type="report", ward_code=4, period_start=date(2025, 1, 1), period_end=date(2025, 1, 31),
        doc_number="87/BC-UBND",
    )
    assert document_key(full, "a.pdf") == document_key(full, "b.docx")
    assert document_key(full).endswith("|no:87/BC-UBND") and "ward:4" in document_key(full)
    by_subject = DocMeta(doc_type="plan", commune="Tân Thành", province="Thanh Hóa", subject="Kế hoạch CĐS")
    assert "commune:" in document_key(by_subject) and "subject:kế hoạch cđs" in document_key(by_subject)
    assert document_key(None, text_sha256="ab" * 32).endswith("text:" + "ab" * 8)


def test_quarantine_counts_attempts_and_clears_on_success(wh_path: Path) -> None:
    load(wh_path, bad("broken.pdf"))
    load(wh_path, bad("broken.pdf"))
    assert query(wh_path, 'SELECT source_file, reason, attempts, "at" IS NOT NULL FROM quarantine') == [
        ("broken.pdf", "cannot be read", 2, True)
    ]
    assert query(wh_path, "SELECT status, reason FROM documents") == [
        ("quarantined", "corrupt: cannot be read")
    ]
    # The same bytes loading fine later (a fixed reader) leave the quarantine view.
    fixed = result("broken.pdf", fact("computers.total", 40))
    fixed.sha256 = query(wh_path, "SELECT doc_sha256 FROM quarantine")[0][0]
    load(wh_path, fixed)
    assert query(wh_path, "SELECT count(*) FROM quarantine") == [(0,)]
    assert query(wh_path, "SELECT status FROM documents") == [("loaded",)]


def test_failure_mid_document_leaves_nothing_of_it(wh_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    load(wh_path, result("ok.txt", fact("dossiers.received", 1)))

    def explode(self, doc_id, res):  # after the document row and its facts were written
        assert (
            self.con.execute("SELECT count(*) FROM fact_rows WHERE doc_id = ?", [doc_id]).fetchone()[0] == 3
        )
        raise RuntimeError("disk full")

    monkeypatch.setattr(store_module.Warehouse, "_insert_flags", explode)
    doomed = result(
        "doomed.txt",
        fact("dossiers.received", 5),
        fact("dossiers.resolved", 4, start=20),
        fact("staff.trained", 3, start=40),
        ward=4,
        commune="Ba Đình",
    )
    with pytest.raises(RuntimeError, match="disk full"):
        load(wh_path, doomed)
    assert query(wh_path, "SELECT source_file FROM document_versions") == [("ok.txt",)]
    assert query(wh_path, "SELECT count(*) FROM fact_rows") == [(1,)]
    monkeypatch.undo()
    assert load(wh_path, doomed)[0].outcome == "loaded"  # nothing stale blocks a retry
    assert query(wh_path, "SELECT count(*) FROM facts WHERE source_file = 'doomed.txt'") == [(3,)]


def test_failure_while_replacing_keeps_the_old_version_current(
    wh_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(wh_path, result("r.txt", fact("dossiers.received", 120)))
    monkeypatch.setattr(
        store_module.Warehouse,
        "_insert_facts",
        lambda self, doc_id, res: (_ for _ in ()).throw(KeyboardInterrupt()),
    )
    with pytest.raises(KeyboardInterrupt):
        load(wh_path, result("r2.txt", fact("dossiers.received", 121), salt="v2"))
    assert query(wh_path, "SELECT value FROM facts") == [(120.0,)]
    assert query(wh_path, "SELECT count(*), bool_and(is_current) FROM document_versions") == [(1, True)]


def test_flags_are_stored_for_current_documents(wh_path: Path) -> None:
    flag = Flag(
        rule="received_equals_online_plus_offline",
        metrics=["dossiers.received", "dossiers.received_online"],
        expected=100,
        actual=90,
        difference=10,
        message="parts do not add up",
        evidence=["Tiếp nhận 100 hồ sơ.", "Trực tuyến 60, trực tiếp 30."],
        fact_indexes=[0, 1],
    )
    load(
        wh_path,
        result(
            "f.txt",
            fact("dossiers.received", 100),
            fact("dossiers.received_online", 60, start=30),
            flags=[flag],
        ),
    )
    rows = query(wh_path, "SELECT source_file, rule, metrics, expected, actual, evidence FROM flags")
    assert rows == [
        (
            "f.txt",
            "received_equals_online_plus_offline",
            "dossiers.received,dossiers.received_online",
            100.0,
            90.0,
            "Tiếp nhận 100 hồ sơ.\nTrực tuyến 60, trực tiếp 30.",
        )
    ]


def test_values_reach_sql_as_parameters(wh_path: Path) -> None:
    name = "x'); DROP TABLE fact_rows; --.txt"
    load(wh_path, result(name, fact("dossiers.received", 1), commune="O'Brien \"; --"))
    assert query(wh_path, "SELECT source_file, commune FROM facts") == [(name, "O'Brien \"; --")]


def test_comparison_formulas(wh_path: Path) -> None:
    load(
        wh_path,
        # counts only: shares computed from the same document
        result(
            "a.txt",
            fact("dossiers.received", 200),
            fact("dossiers.received_online", 50, start=10),
            fact("dossiers.resolved", 180, start=20),
            fact("dossiers.resolved_overdue", 9, start=30),
            fact("computers.total", 40, start=40),
            fact("computers.antivirus", 17, start=50),
            fact("staff.present", 20, start=60),
            fact("staff.trained", 15, start=70),
        ),
        # percentages as written win for online share and staff trained share
        result(
            "b.txt",
            fact("dossiers.online_pct", 64.5, unit="percent"),
            fact("dossiers.received", 10, start=9),
            fact("dossiers.received_online", 1, start=19),
            fact("staff.trained_pct", 80, unit="percent", start=29),
            fact("dossiers.resolved", 100, start=39),
            fact("dossiers.resolved_in_time_pct", 97, start=49, unit="percent"),
            ward=4,
            commune="Ba Đình",
        ),
    )
    rows = {
        r[0]: r[1:]
        for r in query(
            wh_path,
            "SELECT commune, online_share, overdue_share, antivirus_coverage, staff_trained_share, "
            "dossiers_received FROM comparison",
        )
    }
    assert rows["Tân Thành"] == (25.0, 5.0, 42.5, 75.0, 200.0)
    online, overdue, antivirus, trained, received = rows["Ba Đình"]
    assert (online, trained, antivirus, received) == (64.5, 80.0, None, 10.0)
    assert overdue == pytest.approx(3.0)


def test_implausible_shares_are_left_out_of_the_comparison(wh_path: Path) -> None:
    # staff.present misread as 12 while 72 were trained: 600 % cannot be right.
    load(
        wh_path,
        result(
            "scan.pdf",
            fact("staff.trained", 72),
            fact("staff.present", 12, start=10),
            fact("dossiers.received", 100, start=20),
            fact("dossiers.received_online", 40, start=30),
        ),
    )
    assert query(wh_path, "SELECT staff_trained_share, online_share FROM comparison") == [(None, 40.0)]
    assert query(wh_path, "SELECT count(*) FROM facts WHERE metric LIKE 'staff.%'") == [(2,)]


def test_comparison_and_latest_take_the_latest_period(wh_path: Path) -> None:
    july = result("t7.txt", fact("computers.total", 40), fact("computers.antivirus", 10, start=9))
    august = result("t8.txt", fact("computers.total", 40), period=(date(2025, 8, 1), date(2025, 8, 31)))
    load(wh_path, august, july)  # loaded out of order on purpose
    assert query(
        wh_path, "SELECT value, source_file FROM commune_latest WHERE metric = 'computers.total'"
    ) == [(40.0, "t8.txt")]
    assert query(
        wh_path, "SELECT value, source_file FROM commune_latest WHERE metric = 'computers.antivirus'"
    ) == [(10.0, "t7.txt")]
    # August has no antivirus count: coverage comes from July, the latest document that has it.
    assert query(wh_path, "SELECT antivirus_coverage, documents, latest_period_end FROM comparison") == [
        (25.0, 2, date(2025, 8, 31))
    ]


def test_second_writer_waits_then_gives_a_clear_error(wh_path: Path) -> None:
    load(wh_path)
    holder = WriterLock(wh_path)
    holder.acquire(timeout=1)
    waits: list[str] = []
    try:
        with pytest.raises(WarehouseBusyError, match="another run is still writing"):
            with open_warehouse(wh_path, lock_timeout=0.3, on_wait=waits.append):
                pass
    finally:
        holder.release()
    assert waits and "waiting for another run" in waits[0]
    with open_warehouse(wh_path, lock_timeout=0.3):  # free again
        pass


def test_readonly_connection_on_a_missing_warehouse(tmp_path: Path) -> None:
    with pytest.raises(WarehouseNotFoundError, match="commune-metrics ingest"):
        connect_readonly(tmp_path / "none.duckdb")
    assert not (tmp_path / "none.duckdb").exists()


def test_runs_are_recorded(wh_path: Path) -> None:
    with open_warehouse(wh_path) as wh:
        run = wh.start_run("test")
        wh.load(result("a.txt"), run)
        wh.load(bad("b.pdf"), run)
        wh.finish_run(run, {"loaded": 1, "quarantined": 1})
    assert query(
        wh_path, "SELECT status, files_seen, loaded, quarantined, finished_at >= started_at FROM runs"
    ) == [("ok", 2, 1, 1, True)]
