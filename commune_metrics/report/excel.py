"""Excel export: one sheet per report view, Vietnamese headers, numbers stored as numbers
and dates as dates (so analysts can filter and sum them)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from commune_metrics.report.data import TABLES, ReportData
from commune_metrics.report.labels import column_label

# Internal join keys: useful in SQL, noise in a spreadsheet.
HIDDEN_COLUMNS = {"commune_key", "seq", "fact_indexes"}
METRIC_LABEL_COLUMN = "metric_label"
_ILLEGAL = {chr(c) for c in range(32)} - {"\t", "\n", "\r"}


def sheet_columns(data: ReportData, table: str) -> list[str]:
    """Columns of a sheet in order; a Vietnamese metric label follows each metric code."""
    out = []
    for c in data.columns[table]:
        if c in HIDDEN_COLUMNS:
            continue
        out.append(c)
        if c == "metric":
            out.append(METRIC_LABEL_COLUMN)
    return out


def _cell(value: object) -> object:
    if isinstance(value, str):
        # Control characters make openpyxl refuse the whole workbook.
        return "".join(ch for ch in value if ch not in _ILLEGAL)
    return value


def write_workbook(data: ReportData, path: Path) -> None:
    wb = Workbook()
    wb.remove(wb.active)
    header_font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="EEF3F9")
    for table in TABLES:
        ws = wb.create_sheet(table.name[:31])
        columns = sheet_columns(data, table.name)
        ws.append([column_label(c) for c in columns])
        for cell in ws[1]:
            cell.font, cell.fill = header_font, header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in data.rows(table.name):
            values = [
                data.label(row["metric"]) if c == METRIC_LABEL_COLUMN else _cell(row[c]) for c in columns
            ]
            ws.append(values)
            for cell in ws[ws.max_row]:
                # openpyxl stores any string starting with "=" as a formula; text from a document
                # ('=HYPERLINK("http://...")') must stay text when an analyst opens the file.
                if cell.data_type == "f":
                    cell.data_type = "s"
        for idx, c in enumerate(columns, start=1):
            letter = get_column_letter(idx)
            wide = c in ("evidence", "message", "target_evidence", "actual_evidence", "metric_label")
            ws.column_dimensions[letter].width = 60 if wide else 18
            for cell in ws[letter][1:]:
                if isinstance(cell.value, datetime):
                    cell.number_format = "dd/mm/yyyy hh:mm"
                elif isinstance(cell.value, date):
                    cell.number_format = "dd/mm/yyyy"
        ws.freeze_panes = "A2"
        if ws.max_row > 1:
            ws.auto_filter.ref = ws.dimensions
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
