"""Analyst corrections through the public functions (commune_metrics.warehouse.corrections)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from commune_metrics.warehouse.corrections import (
    CorrectionError,
    apply_corrections_csv,
    correct_fact,
    fact_id,
)
from tests.test_analysis_views import Doc, load_docs, query, report


@pytest.fixture()
def loaded(tmp_path: Path) -> tuple[Path, Doc]:
    wh = tmp_path / "wh.duckdb"
    doc = report("Vạn Tường", 21061, start=date(2025, 7, 1), end=date(2025, 9, 25))
    doc.add("dossiers.received", 5676).add("dossiers.received_online", 5297).add(
        "dossiers.received_offline", 382
    )
    load_docs(wh, [doc])
    return wh, doc


def fid(doc: Doc, metric: str, kind: str = "actual") -> str:
    f = next(f for f in doc.facts if f.metric == metric and f.kind == kind)
    return fact_id(doc.sha256, f.metric, f.kind, f.char_start)


def corrected(wh: Path, metric: str) -> tuple:
    (row,) = query(
        wh,
        "SELECT value, original_value, corrected, rejected, correction_note, corrected_by "
        "FROM facts_corrected WHERE metric = ?",
        [metric],
    )
    return row


def test_correct_value_then_reject_then_revert(loaded):
    wh, doc = loaded
    correct_fact(wh, fid(doc, "dossiers.received"), 5679, False, "cộng lại từ sổ", "lan")
    assert corrected(wh, "dossiers.received") == (5679.0, 5676.0, True, False, "cộng lại từ sổ", "lan")
    correct_fact(wh, fid(doc, "dossiers.received"), None, True, "trùng số liệu", "lan")
    assert corrected(wh, "dossiers.received")[:4] == (None, 5676.0, True, True)
    correct_fact(wh, fid(doc, "dossiers.received"), None, False, "hoàn tác", "lan")
    assert corrected(wh, "dossiers.received")[:4] == (5676.0, 5676.0, False, False)
    # the history is kept
    assert query(wh, "SELECT count(*) FROM corrections") == [(3,)]


def test_corrections_reach_the_comparison_and_latest_views(loaded):
    wh, doc = loaded
    online = query(wh, "SELECT online_share FROM comparison")[0][0]
    assert online == pytest.approx(100 * 5297 / 5676)
    correct_fact(wh, fid(doc, "dossiers.received"), 5679, False, "cộng lại từ sổ", "lan")
    assert query(wh, "SELECT online_share FROM comparison")[0][0] == pytest.approx(100 * 5297 / 5679)
    assert query(wh, "SELECT value, original_value, corrected FROM commune_latest "
                     "WHERE metric = 'dossiers.received'") == [(5679.0, 5676.0, True)]
    correct_fact(wh, fid(doc, "dossiers.received"), None, True, "không dùng", "lan")
    assert query(wh, "SELECT count(*) FROM commune_latest WHERE metric = 'dossiers.received'") == [(0,)]
    assert query(wh, "SELECT online_share FROM comparison")[0][0] is None
    # the contract view shows the rejection and keeps what the extractor read
    assert query(wh, "SELECT value, original_value, rejected, corrected_why FROM facts "
                     "WHERE metric = 'dossiers.received'") == [(None, 5676.0, True, "không dùng")]


def test_fact_id_is_case_and_space_tolerant(loaded):
    wh, doc = loaded
    correct_fact(wh, "  " + fid(doc, "dossiers.received_online").upper() + " ", 5294, False, "gõ nhầm", "lan")
    assert corrected(wh, "dossiers.received_online")[0] == 5294.0


@pytest.mark.parametrize(
    "value, reject, note, message",
    [
        (1.0, True, "x", "either"),
        (float("nan"), False, "x", "finite"),
        (1.0, False, "  ", "note"),
    ],
)
def test_bad_corrections_are_refused(loaded, value, reject, note, message):
    wh, doc = loaded
    with pytest.raises(CorrectionError, match=message):
        correct_fact(wh, fid(doc, "dossiers.received"), value, reject, note, "lan")
    assert query(wh, "SELECT count(*) FROM corrections") == [(0,)]


def test_unknown_fact_id_is_refused(loaded):
    wh, _ = loaded
    with pytest.raises(CorrectionError, match="no current fact"):
        correct_fact(wh, "0123456789ab", 1.0, False, "x", "lan")


def test_csv_is_applied_once(loaded, tmp_path):
    wh, doc = loaded
    csv_path = tmp_path / "corrections.csv"
    csv_path.write_text(
        "fact_id,value,reject,note,who\n"
        f'{fid(doc, "dossiers.received")},"5.679",,đối chiếu,lan\n'  # thousands dot as typed
        f"{fid(doc, 'dossiers.received_offline')},,true,trùng,\n"
        "ffffffffffff,1,,không có số liệu này,lan\n"
        "\n",
        encoding="utf-8",
    )
    assert apply_corrections_csv(wh, csv_path) == 2
    assert corrected(wh, "dossiers.received")[0] == 5679.0  # "5.679" read the Vietnamese way
    assert corrected(wh, "dossiers.received_offline")[:4] == (None, 382.0, True, True)
    assert corrected(wh, "dossiers.received_offline")[5] == "csv:corrections.csv"
    assert apply_corrections_csv(wh, csv_path) == 0  # idempotent
    assert query(wh, "SELECT count(*) FROM corrections") == [(2,)]


def test_csv_with_key_columns_and_decimal_comma(loaded, tmp_path):
    wh, doc = loaded
    f = doc.facts[1]
    csv_path = tmp_path / "c.csv"
    csv_path.write_text(
        "doc_sha256,metric,kind,char_start,value,note\n"
        f'{doc.sha256},{f.metric},{f.kind},{f.char_start},"5296,5",số lẻ\n',
        encoding="utf-8",
    )
    assert apply_corrections_csv(wh, csv_path) == 1
    assert corrected(wh, "dossiers.received_online")[0] == 5296.5


def test_semicolon_csv_as_excel_saves_it_in_vietnamese(loaded, tmp_path):
    """Excel in a comma-decimal locale separates fields with ';' and writes 5296,5 unquoted."""
    wh, doc = loaded
    csv_path = tmp_path / "excel.csv"
    csv_path.write_bytes(
        ("\ufefffact_id;value;reject;note;who\r\n"
         f"{fid(doc, 'dossiers.received_online')};5296,5;;số lẻ, kiểm tra lại;lan\r\n"
         f"{fid(doc, 'dossiers.received_offline')};;có;trùng;lan\r\n").encode()
    )
    assert apply_corrections_csv(wh, csv_path) == 2
    expected = (5296.5, 5297.0, True, False, "số lẻ, kiểm tra lại")
    assert corrected(wh, "dossiers.received_online")[:5] == expected
    assert corrected(wh, "dossiers.received_offline")[3] is True


@pytest.mark.parametrize(
    "body, message",
    [
        ("metric,value\nx,1\n", "fact_id column"),
        ("fact_id,value\nabc,mười\n", "line 2: value must be a number"),
        ("fact_id,value,reject\nabc,,maybe\n", "reject must be"),
        ("fact_id,value,reject\nabc,,\n", "give a value or reject"),
        ("fact_id,value\n,5\n", "fact_id is empty"),
    ],
)
def test_malformed_csv_is_refused_with_its_line(loaded, tmp_path, body, message):
    wh, _ = loaded
    csv_path = tmp_path / "bad.csv"
    csv_path.write_text(body, encoding="utf-8")
    with pytest.raises(CorrectionError, match=message):
        apply_corrections_csv(wh, csv_path)
    assert query(wh, "SELECT count(*) FROM corrections") == [(0,)]


@pytest.mark.parametrize(
    "text, value",
    [
        ("5.679", 5679.0),
        ("1.234.567", 1234567.0),
        ("1.234,5", 1234.5),
        ("80,05", 80.05),
        ("93.32", 93.32),
        ("42", 42.0),
        (" 7 ", 7.0),
        ("", None),
    ],
)
def test_csv_values_are_read_the_vietnamese_way(text, value):
    from commune_metrics.warehouse.corrections import parse_value

    assert parse_value(text, "here") == value


def test_default_csv_is_applied_after_ingest_and_survives_reingest(tmp_path, monkeypatch):
    from commune_metrics.ingest.inbox import ingest
    from commune_metrics.warehouse import corrections
    from tools.samples.generator import compose_corpus, write_document

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    ((sample, _),) = compose_corpus(1, seed=5, formats=("txt",))
    write_document(sample, inbox / sample.name, "txt")
    wh = tmp_path / "wh.duckdb"
    csv_path = tmp_path / "corrections.csv"
    monkeypatch.setattr(corrections, "DEFAULT_CORRECTIONS_CSV", csv_path)

    def run() -> None:
        ingest([inbox], warehouse=wh, archive_root=tmp_path / "archive", keep_inbox=True, settle_seconds=0)

    run()
    fid, metric, value = query(wh, "SELECT fact_id, metric, value FROM facts_corrected ORDER BY char_start")[
        0
    ]
    csv_path.write_text(f"fact_id,value,note,who\n{fid},{value + 1:g},sửa tay,lan\n", encoding="utf-8")
    run()  # same bytes: the document is unchanged, the CSV is applied at the end of the run
    assert query(wh, "SELECT value, original_value FROM facts_corrected WHERE fact_id = ?", [fid]) == [
        (value + 1, value)
    ]
    run()
    assert query(wh, "SELECT count(*) FROM corrections") == [(1,)]


def test_malformed_default_csv_does_not_fail_ingest(loaded, tmp_path, caplog):
    from commune_metrics.warehouse import open_warehouse
    from commune_metrics.warehouse.corrections import apply_default_corrections

    wh, _ = loaded
    bad = tmp_path / "corrections.csv"
    bad.write_text("fact_id,value\nabc,mười\n", encoding="utf-8")
    with open_warehouse(wh) as w:
        assert apply_default_corrections(w.con, bad) == 0
        assert apply_default_corrections(w.con, tmp_path / "absent.csv") == 0
    assert "corrections not applied" in caplog.text


def test_cli_correct_command(loaded, tmp_path):
    from typer.testing import CliRunner

    from commune_metrics.cli import app

    wh, doc = loaded
    runner = CliRunner()
    target = fid(doc, "dossiers.received")
    ok = runner.invoke(
        app, ["correct", target, "--value", "5679", "--note", "sổ", "--who", "lan", "-w", str(wh)]
    )
    assert ok.exit_code == 0, ok.output
    assert corrected(wh, "dossiers.received")[:3] == (5679.0, 5676.0, True)
    both = runner.invoke(app, ["correct", target, "--value", "1", "--reject", "--note", "x", "-w", str(wh)])
    no_note = runner.invoke(app, ["correct", target, "--reject", "-w", str(wh)])
    unknown = runner.invoke(app, ["correct", "0123456789ab", "--reject", "--note", "x", "-w", str(wh)])
    assert (both.exit_code, no_note.exit_code, unknown.exit_code) == (2, 2, 2)
    assert query(wh, "SELECT count(*) FROM corrections") == [(1,)]
    csv_path = tmp_path / "c.csv"
    csv_path.write_text(
        f"fact_id,reject,note\n{fid(doc, 'dossiers.received_offline')},true,trùng\n", encoding="utf-8"
    )
    applied = runner.invoke(app, ["correct", "--csv", str(csv_path), "-w", str(wh)])
    assert applied.exit_code == 0 and "1 new correction" in applied.output
    assert corrected(wh, "dossiers.received_offline")[3] is True
