"""`commune-metrics report`: apply pending analyst corrections, read the views once, write
the HTML report and/or the Excel export."""

from __future__ import annotations

import logging
from pathlib import Path

from commune_metrics.core.config import DATA_DIR
from commune_metrics.report.data import ReportData, load_report_data
from commune_metrics.report.excel import write_workbook
from commune_metrics.report.html_report import render_html
from commune_metrics.warehouse import WarehouseBusyError
from commune_metrics.warehouse.corrections import DEFAULT_CORRECTIONS_CSV, apply_corrections_csv

DEFAULT_HTML = DATA_DIR / "report.html"
log = logging.getLogger(__name__)


# The report must not wait for a run to apply data/corrections.csv: the run applies it itself
# when it finishes, and the next report shows it.
CSV_LOCK_WAIT_SECONDS = 5.0


def read_report_data(warehouse: Path) -> ReportData:
    """From the analysts' snapshot (which is republished when the schema changed)."""
    from commune_metrics.warehouse import connect_readonly

    con = connect_readonly(Path(warehouse))
    try:
        return load_report_data(con)
    finally:
        con.close()


def build_report(
    warehouse: Path,
    out_html: Path | None,
    out_xlsx: Path | None,
    corrections_csv: Path | None = DEFAULT_CORRECTIONS_CSV,
) -> None:
    """Write the report. With neither output given, the HTML goes to data/report.html."""
    if out_html is None and out_xlsx is None:
        out_html = DEFAULT_HTML
    if corrections_csv is not None and Path(corrections_csv).is_file():
        try:
            applied = apply_corrections_csv(warehouse, Path(corrections_csv),
                                            lock_timeout=CSV_LOCK_WAIT_SECONDS)
            log.info("%s: %d new correction(s) applied", corrections_csv, applied)
        except WarehouseBusyError as exc:
            log.warning("%s not applied now (%s); the running ingest applies it when it finishes",
                        corrections_csv, exc)
    data = read_report_data(warehouse)
    if out_html is not None:
        out_html = Path(out_html)
        out_html.parent.mkdir(parents=True, exist_ok=True)
        out_html.write_text(render_html(data), encoding="utf-8")
    if out_xlsx is not None:
        write_workbook(data, Path(out_xlsx))
