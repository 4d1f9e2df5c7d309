"""`commune-metrics compare`: who lags, in the terminal.

Reads the views `comparison_cells` (one cell per commune and key figure) and `commune_latest`
(one metric across communes), both on the analysts' snapshot. Every value shows where it comes
from: a share computed from counts is marked derived ('42.5%*', 'derived 17/40'), a value from
an earlier period than the commune's latest report carries its own ('81.2% (Jul 2025)'), and a
blank says why: '–' nothing reported, '?' a figure behind it is held for review.

Sorting is "worst first" for figures (lowest first, except where less is better: overdue),
alphabetical for names; `--worst N` keeps the N worst, `--below X` those under X (above X
where less is better). Plans never count as actuals (view comparable_facts).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date

import duckdb
from rich.console import Console
from rich.markup import escape
from rich.table import Table

NOT_REPORTED = "–"
HELD = "?"
DERIVED_MARK = "*"


class CompareError(ValueError):
    """A bad option value; the message lists what is valid."""


@dataclass(frozen=True)
class Column:
    name: str  # --sort name and table header
    view_column: str  # comparison_cells.column_name
    percent: bool
    lower_is_better: bool = False


COLUMNS = (
    Column("online", "online_share", True),
    Column("overdue", "overdue_share", True, lower_is_better=True),
    Column("antivirus", "antivirus_coverage", True),
    Column("trained", "staff_trained_share", True),
    Column("dossiers", "dossiers_received", False),
    Column("computers", "computers_total", False),
    Column("staff", "staff_present", False),
)
TEXT_SORTS = ("commune", "province", "code", "period")


@dataclass
class Cell:
    value: float | None
    status: str  # value / held / missing
    derived: bool = False
    derived_from: str | None = None
    period_end: date | None = None


@dataclass
class Row:
    commune: str
    province: str
    ward_code: int | None
    documents: int
    latest_period_end: date | None
    cells: dict[str, Cell]


def ward_text(code: int | None) -> str:
    """Official codes are five digits with leading zeros ('00004' is Ba Đình)."""
    return "" if code is None else f"{int(code):05d}"


def _month(d: date | None) -> str:
    return "" if d is None else d.strftime("%b %Y")


def _number(value: float, percent: bool) -> str:
    if percent:
        return f"{value:.1f}%"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def cell_text(cell: Cell, column: Column, row_period: date | None) -> str:
    if cell.value is None:
        return HELD if cell.status == "held" else NOT_REPORTED
    text = _number(cell.value, column.percent)
    if cell.derived:
        text += DERIVED_MARK
    if cell.period_end is not None and row_period is not None and cell.period_end != row_period:
        text += f" ({_month(cell.period_end)})"
    return text


def load_rows(con: duckdb.DuckDBPyConnection) -> list[Row]:
    rows: dict[str, Row] = {}
    for (key, ward, commune, province, documents, latest, column, value, derived, derived_from, period_end,
         status) in con.execute(
        """SELECT commune_key, ward_code, commune, province, documents, latest_period_end, column_name,
                  value, derived, derived_from, period_end, status
           FROM comparison_cells ORDER BY commune_key, position"""
    ).fetchall():
        row = rows.setdefault(key, Row(commune or "", province or "", ward, documents, latest, {}))
        row.cells[column] = Cell(value, status, bool(derived), derived_from, period_end)
    return list(rows.values())


def column_named(name: str) -> Column:
    for c in COLUMNS:
        if c.name == name:
            return c
    raise CompareError(f"unknown column {name!r}; sort by one of: "
                       + ", ".join([c.name for c in COLUMNS] + list(TEXT_SORTS)))


def _text_key(row: Row, sort: str) -> tuple:
    return {
        "commune": (row.commune.casefold(), row.province.casefold()),
        "province": (row.province.casefold(), row.commune.casefold()),
        "code": (row.ward_code is None, row.ward_code or 0),
        "period": (row.latest_period_end is None, row.latest_period_end or date.min),
    }[sort]


def select_rows(rows: list[Row], sort: str | None, worst: int | None, below: float | None,
                reverse: bool = False) -> tuple[list[Row], Column | None]:
    """Order and filter the communes; returns the rows and the figure column they are ranked by."""
    if sort is None and (worst is not None or below is not None):
        raise CompareError("--worst and --below need a figure to rank by: --sort "
                           + "/".join(c.name for c in COLUMNS) + " (or --metric CODE)")
    if sort is None:
        return sorted(rows, key=lambda r: _text_key(r, "province")), None
    if sort in TEXT_SORTS:
        if worst is not None or below is not None:
            raise CompareError(f"--worst/--below rank by a figure, not by {sort}")
        return sorted(rows, key=lambda r: _text_key(r, sort), reverse=reverse), None
    column = column_named(sort)
    ranked = rank([(r, r.cells[column.view_column].value) for r in rows], column.lower_is_better,
                  worst, below, reverse)
    return ranked, column


def rank(items: list[tuple], lower_is_better: bool, worst: int | None, below: float | None,
         reverse: bool = False) -> list:
    """Worst first: ascending, or descending where less is better; blanks last. `below` keeps
    values under the threshold (over it where less is better); both drop blanks."""
    valued = [(item, v) for item, v in items if v is not None]
    blank = [item for item, v in items if v is None]
    if below is not None:
        valued = [(item, v) for item, v in valued if (v > below if lower_is_better else v < below)]
    valued.sort(key=lambda pair: -pair[1] if lower_is_better else pair[1], reverse=reverse)
    out = [item for item, _ in valued]
    if worst is not None:
        return out[:worst]
    return out if below is not None else out + blank


def render_all(console: Console, rows: list[Row], ranked_by: Column | None) -> None:
    if not rows:
        console.print("no communes to compare yet (no loaded document names a known commune)")
        return
    title = "Communes compared (latest figures"
    title += f"; worst {ranked_by.name} first)" if ranked_by else ")"
    table = Table(title=title, title_justify="left")
    table.add_column("commune")
    table.add_column("province")
    table.add_column("code", justify="right")
    for c in COLUMNS:
        table.add_column(c.name, justify="right")
    table.add_column("docs", justify="right")
    table.add_column("period end")
    for r in rows:
        table.add_row(escape(r.commune), escape(r.province), ward_text(r.ward_code),
                      *(escape(cell_text(r.cells[c.view_column], c, r.latest_period_end)) for c in COLUMNS),
                      str(r.documents), "" if r.latest_period_end is None else str(r.latest_period_end))
    console.print(table)
    console.print(
        f"[dim]online = online dossiers / received (or as written); overdue = resolved late / resolved "
        f"(or 100 − the in-time share written); antivirus = computers with antivirus / computers (or as "
        f"written); trained = staff trained / staff (or as written). {DERIVED_MARK} derived from counts; "
        f"(Mon YYYY) the value's own period when older than the commune's latest report; "
        f"{NOT_REPORTED} not reported; {HELD} held for review (commune-metrics review).[/]",
        soft_wrap=True,
    )


# -- one metric ----------------------------------------------------------------------------

@dataclass
class MetricRow:
    commune: str
    province: str
    ward_code: int | None
    value: float | None
    unit: str | None
    qualifier: str | None
    period_end: date | None
    source: str
    how: str
    status: str


def metric_codes(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [c for (c,) in con.execute("SELECT code FROM metrics ORDER BY code").fetchall()]


def check_metric(con: duckdb.DuckDBPyConnection, metric: str) -> None:
    codes = metric_codes(con)
    if codes and metric not in codes:
        near = difflib.get_close_matches(metric, codes, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(near)}? " if near else ""
        raise CompareError(f"unknown metric code {metric!r}; {hint}valid codes: {', '.join(codes)}")


def load_metric(con: duckdb.DuckDBPyConnection, metric: str) -> tuple[list[MetricRow], bool]:
    """Every compared commune with its latest value of `metric` (or why there is none), and
    whether less is better for it."""
    lower = bool(con.execute("SELECT lower_is_better(?)", [metric]).fetchone()[0])
    rows = []
    for (commune, province, ward, value, unit, qualifier, period_end, source_file, page, derived,
         derived_from, corrected, held) in con.execute(
        """SELECT c.commune, c.province, c.ward_code, l.value, l.unit, l.qualifier, l.period_end,
                  l.source_file, l.page, l.derived, l.derived_from, l.corrected,
                  EXISTS (SELECT 1 FROM review_queue q
                          WHERE q.commune_key = c.commune_key
                            -- the metric itself, or a count a share of it is derived from
                            AND (q.metric = ? OR q.metric IN (SELECT unnest(string_split(k.inputs, ','))
                                                             FROM comparison_columns k WHERE k.metric = ?)))
           FROM compared_communes c
           LEFT JOIN commune_latest l ON l.commune_key = c.commune_key AND l.metric = ?""",
        [metric, metric, metric],
    ).fetchall():
        if value is None:
            how, status = "", "held" if held else "missing"
        elif derived:
            how, status = f"derived {derived_from}", "value"
        else:
            how, status = "corrected" if corrected else "as written", "value"
        source = source_file or ""
        if source and page is not None:
            source += f" p.{page}"
        rows.append(MetricRow(commune or "", province or "", ward, value, unit, qualifier, period_end, source,
                              how, status))
    return rows, lower


_SIGN = {"gt": ">", "gte": "≥", "lt": "<", "lte": "≤", "approx": "≈"}


def select_metric_rows(rows: list[MetricRow], lower: bool, sort: str | None, worst: int | None,
                       below: float | None, reverse: bool = False) -> list[MetricRow]:
    if sort in (None, "value"):
        if sort is None and worst is None and below is None:
            # Without ranking options: highest first, as v1 did, blanks last.
            return rank([(r, r.value) for r in rows], not lower, None, None)
        return rank([(r, r.value) for r in rows], lower, worst, below, reverse)
    if sort not in ("commune", "province", "period"):
        raise CompareError(f"with --metric, sort by value, commune, province or period, not {sort!r}")
    if worst is not None or below is not None:
        raise CompareError(f"--worst/--below rank by value, not by {sort}")
    keys = {
        "commune": lambda r: (r.commune.casefold(), r.province.casefold()),
        "province": lambda r: (r.province.casefold(), r.commune.casefold()),
        "period": lambda r: (r.period_end is None, r.period_end or date.min),
    }
    return sorted(rows, key=keys[sort], reverse=reverse)


def render_metric(console: Console, metric: str, rows: list[MetricRow], lower: bool) -> None:
    if not any(r.value is not None for r in rows) and not rows:
        console.print(f"no communes to compare yet for {escape(metric)}")
        return
    better = "lower is better" if lower else "higher is better"
    table = Table(title=f"{escape(metric)}: latest actual value per commune ({better})", title_justify="left")
    for header, justify in [("commune", "left"), ("province", "left"), ("code", "right"), ("value", "right"),
                            ("unit", "left"), ("period end", "left"), ("how", "left"), ("source", "left")]:
        table.add_column(header, justify=justify)
    for r in rows:
        if r.value is None:
            value = HELD if r.status == "held" else NOT_REPORTED
        else:
            percent = r.unit == "percent"
            value = _SIGN.get(r.qualifier or "", "") + _number(r.value, percent)
            if r.how.startswith("derived"):
                value += DERIVED_MARK
        table.add_row(escape(r.commune), escape(r.province), ward_text(r.ward_code), escape(value),
                      escape(r.unit or ""), "" if r.period_end is None else str(r.period_end), escape(r.how),
                      escape(r.source))
    console.print(table)
    console.print(f"[dim]{DERIVED_MARK} derived from counts of the same report; {NOT_REPORTED} not reported; "
                  f"{HELD} held for review (commune-metrics review)[/]", soft_wrap=True)
