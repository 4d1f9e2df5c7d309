"""`commune-metrics compare` answers who lags: derived shares (marked), each value's own period,
plans out of actuals, --sort / --worst / --below, blanks that say why, valid codes listed."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from commune_metrics.cli import main
from commune_metrics.warehouse import open_warehouse
from commune_metrics.warehouse.corrections import fact_id, lookup_fact, record_correction
from tests.test_analysis_views import Doc, load_docs, query, report

JULY = (date(2025, 7, 1), date(2025, 7, 31))
AUGUST = (date(2025, 8, 1), date(2025, 8, 31))


def month(commune: str, ward: int, period: tuple[date, date], name: str,
          province: str = "Tuyên Quang") -> Doc:
    return report(commune, ward, province=province, start=period[0], end=period[1], name=name)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wh = tmp_path_factory.mktemp("compare") / "w.duckdb"
    meo_vac = month("Mèo Vạc", 769, AUGUST, "mv.txt").add("computers.total", 40)
    meo_vac.add("computers.antivirus", 17).add("dossiers.received", 310).add("dossiers.received_online", 96)
    lung_cu = month("Lũng Cú", 715, AUGUST, "lc.txt").add("computers.antivirus_pct", 90.5, unit="percent")
    # July's written online share, then an August report without one: the share keeps July's period.
    dong_van_july = month("Đồng Văn", 721, JULY, "dv7.txt").add("dossiers.online_pct", 70, unit="percent")
    dong_van_aug = month("Đồng Văn", 721, AUGUST, "dv8.txt").add("computers.total", 30)
    dong_van_aug.add("computers.antivirus", 27)
    # A plan's "actual" is a baseline: never compared as the period's result.
    plan = report("Mèo Vạc", 769, province="Tuyên Quang", doc_type="plan", name="kh.txt")
    plan.add("computers.antivirus_pct", 5, unit="percent").add("dossiers.online_pct", 99, unit="percent")
    # A commune whose only antivirus figure is held for review (the verifier held it back).
    held = month("Mường Lát", 14845, AUGUST, "ml.txt", province="Thanh Hóa").add("computers.antivirus", 12)
    held.add("computers.total", 20)
    held.facts[0].confidence = 0.3
    held.facts[0].status, held.facts[0].reason = "review", "low confidence: 0.3 < 0.45"
    load_docs(wh, [meo_vac, lung_cu, dong_van_july, dong_van_aug, plan, held])
    return wh


def run(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def rows_of(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("│")]


def test_derived_shares_are_marked_and_plans_stay_out(warehouse: Path) -> None:
    got = {r[0]: r[1:] for r in query(
        warehouse, "SELECT commune, value, derived, derived_from FROM commune_latest "
                   "WHERE metric = 'computers.antivirus_pct'")}
    assert got["Mèo Vạc"] == (42.5, True, "17/40")  # not the plan's 5 %
    assert got["Lũng Cú"] == (90.5, False, None)
    assert got["Đồng Văn"] == (90.0, True, "27/30")
    assert "Mường Lát" not in got  # its count is held for review
    sql = "SELECT online_share, online_share_derived FROM comparison WHERE commune = 'Mèo Vạc'"
    assert query(warehouse, sql) == [(pytest.approx(100 * 96 / 310), True)]


def test_worst_lists_the_laggard_first_with_its_counts(warehouse: Path, capsys) -> None:
    code, out, _ = run(["compare", "--metric", "computers.antivirus_pct", "--worst", "2",
                        "-w", str(warehouse)], capsys)
    assert code == 0
    lines = rows_of(out)
    assert len(lines) == 2
    assert "Mèo Vạc" in lines[0] and "42.5%*" in lines[0] and "derived 17/40" in lines[0]
    assert "Đồng Văn" in lines[1] and "90.0%*" in lines[1]


def test_below_keeps_only_communes_under_the_threshold(warehouse: Path, capsys) -> None:
    _, out, _ = run(["compare", "--metric", "computers.antivirus_pct", "--below", "90.2",
                     "-w", str(warehouse)], capsys)
    assert [line.split("│")[1].strip() for line in rows_of(out)] == ["Mèo Vạc", "Đồng Văn"]


def test_blanks_say_why(warehouse: Path, capsys) -> None:
    _, out, _ = run(["compare", "--metric", "computers.antivirus_pct", "-w", str(warehouse)], capsys)
    by_commune = {line.split("│")[1].strip(): line.split("│")[4].strip() for line in rows_of(out)}
    assert by_commune["Mường Lát"] == "?"  # held for review
    _, out, _ = run(["compare", "-w", str(warehouse)], capsys)
    lung_cu = next(line for line in rows_of(out) if "Lũng Cú" in line)
    assert "–" in lung_cu  # no online share reported


def test_every_value_carries_its_own_period_when_older(warehouse: Path, capsys) -> None:
    _, out, _ = run(["compare", "--sort", "online", "-w", str(warehouse)], capsys)
    dong_van = next(line for line in rows_of(out) if "Đồng Văn" in line)
    assert "70.0% (Jul 2025)" in dong_van and "2025-08-31" in dong_van
    assert query(warehouse, "SELECT online_share_period_end, latest_period_end FROM comparison "
                            "WHERE commune = 'Đồng Văn'") == [(JULY[1], AUGUST[1])]


def test_sort_orders_worst_first_and_reverse_flips(warehouse: Path, capsys) -> None:
    _, out, _ = run(["compare", "--sort", "antivirus", "-w", str(warehouse)], capsys)
    order = [line.split("│")[1].strip() for line in rows_of(out)]
    assert order[:3] == ["Mèo Vạc", "Đồng Văn", "Lũng Cú"]
    _, out, _ = run(["compare", "--sort", "antivirus", "--reverse", "-w", str(warehouse)], capsys)
    assert [line.split("│")[1].strip() for line in rows_of(out)][:3] == ["Lũng Cú", "Đồng Văn", "Mèo Vạc"]
    _, out, _ = run(["compare", "--sort", "commune", "-w", str(warehouse)], capsys)
    names = [line.split("│")[1].strip() for line in rows_of(out)]
    assert names == sorted(names, key=str.casefold)


@pytest.mark.parametrize("argv, message", [
    (["--metric", "computers.antivirus_pc"], "did you mean computers.antivirus_pct"),
    (["--metric", "nope"], "valid codes: "),
    (["--sort", "speed"], "sort by one of: online"),
    (["--worst", "3"], "--worst and --below need a figure"),
])
def test_bad_options_list_what_is_valid(warehouse: Path, capsys, argv: list[str], message: str) -> None:
    code, _, err = run(["compare", *argv, "-w", str(warehouse)], capsys)
    assert code == 2 and message in re.sub(r"[\s│╭╮╰╯─]+", " ", err)


def test_a_rejected_count_removes_the_derived_share(warehouse: Path, tmp_path: Path) -> None:
    # On a copy: the module's warehouse stays as built for the other tests.
    wh = tmp_path / "copy.duckdb"
    doc = month("Mèo Vạc", 769, AUGUST, "mv.txt").add("computers.total", 40).add("computers.antivirus", 17)
    load_docs(wh, [doc])
    with open_warehouse(wh) as w:
        key = lookup_fact(w.con, fact_id(doc.sha256, "computers.total", "actual", doc.facts[0].char_start))
        record_correction(w.con, key, None, True, "đếm cả máy hỏng", "lan")
    assert query(wh, "SELECT count(*) FROM commune_latest WHERE metric = 'computers.antivirus_pct'") == [(0,)]
    assert query(wh, "SELECT antivirus_coverage FROM comparison") == [(None,)]
