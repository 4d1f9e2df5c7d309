"""Excel export: one sheet per report table (report/data.py TABLES), written for analysts who
open it in Excel, not for programs:

- Vietnamese headers, and Vietnamese words for every code and enum in the cells (kind, unit,
  qualifier, document type, scope, review status, yes/no); a metric code keeps its column and
  gets a Vietnamese label column beside it;
- percentages stored as fractions with a percent format (80.05 -> 0.8005 shown "80,05 %"), so
  Excel computes with them and shows them as percentages;
- ward codes as five-digit text ("00004"), as in the official list; leading zeros survive;
- numbers as numbers and dates as dates (filterable, summable), text never a formula.
The SQL views keep 0-100 percentages and codes: only this export translates.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from commune_metrics.report.data import TABLES, ReportData
from commune_metrics.report.labels import (
    BOOL_LABELS,
    DOC_TYPE_LABELS,
    FACT_SCOPE_LABELS,
    KIND_LABELS,
    QUALIFIER_LABELS,
    RATE_STATUS_LABELS,
    REVIEW_STATUS_LABELS,
    SCOPE_LABELS,
    UNIT_LABELS,
    column_label,
)

# Internal join keys: useful in SQL, noise in a spreadsheet.
HIDDEN_COLUMNS = {"commune_key", "seq", "fact_indexes"}
METRIC_LABEL_COLUMN = "metric_label"
_ILLEGAL = {chr(c) for c in range(32)} - {"\t", "\n", "\r"}

# Shares in percent (0-100) whatever the row.
PERCENT_COLUMNS = {"online_share", "overdue_share", "antivirus_coverage", "staff_trained_share"}
# Values in the row's unit: a percentage when that row's unit is percent.
UNIT_VALUE_COLUMNS = {"value", "original_value", "target_value", "actual_value", "gap"}
PERCENT_FORMAT = "0.00%"
WARD_CODE_COLUMNS = {"ward_code"}
ENUM_LABELS: dict[str, dict] = {
    "kind": KIND_LABELS,
    "unit": UNIT_LABELS,
    "qualifier": {**QUALIFIER_LABELS, "eq": "bằng"},
    "target_qualifier": {**QUALIFIER_LABELS, "eq": "bằng"},
    "actual_qualifier": {**QUALIFIER_LABELS, "eq": "bằng"},
    "doc_type": DOC_TYPE_LABELS,
    "scope": FACT_SCOPE_LABELS,
    "target_scope": SCOPE_LABELS,
    "review_status": REVIEW_STATUS_LABELS,
    "rate_status": RATE_STATUS_LABELS,
}


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


def _text(value: str) -> str:
    # Control characters make openpyxl refuse the whole workbook.
    return "".join(ch for ch in value if ch not in _ILLEGAL)


def excel_cell(column: str, value: object, row: dict) -> tuple[object, str | None]:
    """(what the cell holds, its number format) for one value of a report row."""
    if value is None:
        return None, None
    if column in WARD_CODE_COLUMNS:
        return f"{int(value):05d}", "@"
    if isinstance(value, bool):
        return BOOL_LABELS[value], None
    if column in PERCENT_COLUMNS and isinstance(value, int | float):
        return float(value) / 100, PERCENT_FORMAT
    if column in UNIT_VALUE_COLUMNS and row.get("unit") == "percent" and isinstance(value, int | float):
        return float(value) / 100, PERCENT_FORMAT
    if column in ENUM_LABELS and isinstance(value, str):
        return ENUM_LABELS[column].get(value, value), None
    if isinstance(value, datetime):
        return value, "dd/mm/yyyy hh:mm"
    if isinstance(value, date):
        return value, "dd/mm/yyyy"
    if isinstance(value, str):
        return _text(value), None
    return value, None


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
            formats = []
            values = []
            for c in columns:
                if c == METRIC_LABEL_COLUMN:
                    values.append(data.label(row["metric"]))
                    formats.append(None)
                    continue
                value, number_format = excel_cell(c, row[c], row)
                values.append(value)
                formats.append(number_format)
            ws.append(values)
            for cell, number_format in zip(ws[ws.max_row], formats, strict=True):
                # openpyxl stores any string starting with "=" as a formula; text from a document
                # ('=HYPERLINK("http://...")') must stay text when an analyst opens the file.
                if cell.data_type == "f":
                    cell.data_type = "s"
                if number_format:
                    cell.number_format = number_format
        for idx, c in enumerate(columns, start=1):
            wide = c in ("evidence", "message", "target_evidence", "actual_evidence", METRIC_LABEL_COLUMN,
                         "reason")
            ws.column_dimensions[get_column_letter(idx)].width = 60 if wide else 18
        ws.freeze_panes = "A2"
        if ws.max_row > 1:
            ws.auto_filter.ref = ws.dimensions
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
