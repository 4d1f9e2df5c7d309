"""`commune-metrics sql`: SQL on the analysts' read snapshot, so nobody needs the DuckDB CLI.

    commune-metrics sql "SELECT commune, online_share FROM comparison"
    commune-metrics sql                       # interactive: end a statement with ';'

The snapshot is attached read-only (warehouse/snapshot.py): a statement that would write
fails with DuckDB's "read-only mode" message, and a session left open never blocks a run.
Between statements the prompt reconnects when a newer snapshot has been published, so a
long session sees the latest committed batch without restarting.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from commune_metrics.warehouse import connect_readonly
from commune_metrics.warehouse.snapshot import snapshot_path_for

MAX_ROWS_SHOWN = 200
HELP = """End a statement with ';' (it may span lines). Commands:
  .tables    views and tables you can query (start with facts, documents, comparison)
  .schema X  the columns of view or table X
  .help      this text
  .quit      leave (Ctrl-D too)"""


def fetch(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], list[tuple]]:
    cur = con.execute(sql)
    if cur.description is None:
        return [], []
    return [d[0] for d in cur.description], cur.fetchall()


def _cell(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) < 1e15 else repr(value)
    return str(value)


def print_table(console: Console, columns: list[str], rows: list[tuple],
                limit: int = MAX_ROWS_SHOWN) -> None:
    if not columns:
        console.print("ok")
        return
    table = Table(show_lines=False, highlight=False)
    for c in columns:
        table.add_column(escape(c), overflow="fold")
    for row in rows[:limit]:
        # Document text may contain '[...]', which rich would read as markup.
        table.add_row(*(escape(_cell(v)) for v in row))
    console.print(table)
    more = f" (first {limit} shown; add LIMIT/OFFSET or use --csv)" if len(rows) > limit else ""
    console.print(f"[dim]{len(rows)} row{'s' if len(rows) != 1 else ''}{more}[/]")


def write_csv(columns: list[str], rows: list[tuple], out=None) -> None:
    writer = csv.writer(out or sys.stdout)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])


def list_tables(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[tuple]]:
    return fetch(con, """
        SELECT table_name AS name, lower(table_type) AS type
        FROM information_schema.tables
        WHERE table_catalog = current_database() AND table_schema = 'main'
        ORDER BY table_type DESC, table_name""")


def describe(con: duckdb.DuckDBPyConnection, name: str) -> tuple[list[str], list[tuple]]:
    return fetch(con, f"""
        SELECT column_name AS column, data_type AS type
        FROM information_schema.columns
        WHERE table_catalog = current_database() AND table_name = '{name.replace("'", "''")}'
        ORDER BY ordinal_position""")


def error_text(exc: duckdb.Error) -> str:
    """DuckDB's message without the caret diagram: 'Catalog Error: ... Did you mean "facts"?'."""
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    kept = []
    for ln in lines:
        if ln.startswith("LINE "):
            break
        kept.append(ln)
    return " ".join(kept) or type(exc).__name__


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
        return st.st_ino, st.st_mtime_ns
    except OSError:
        return None


class Session:
    """One analyst's prompt: a snapshot connection renewed when a newer snapshot appears."""

    def __init__(self, warehouse: Path) -> None:
        self.warehouse = Path(warehouse)
        self.snapshot = snapshot_path_for(self.warehouse)
        self.con = connect_readonly(self.warehouse)
        self.seen = _stamp(self.snapshot)

    def refreshed(self) -> bool:
        now = _stamp(self.snapshot)
        if now is None or now == self.seen:
            return False
        self.con.close()
        self.con = connect_readonly(self.warehouse)
        self.seen = _stamp(self.snapshot)
        return True

    def as_of(self) -> str:
        try:
            return datetime.fromtimestamp(self.snapshot.stat().st_mtime).strftime("%Y-%m-%d %H:%M:%S")
        except OSError:
            return "unknown"

    def close(self) -> None:
        self.con.close()


def interactive(warehouse: Path, console: Console, read_line: Callable[[str], str] = input) -> int:
    """The prompt. Errors in a statement are printed and the session goes on."""
    session = Session(warehouse)
    console.print(f"commune-metrics sql on {escape(str(session.snapshot))} "
                  f"(data as of {session.as_of()}); .help for help, .quit to leave")
    buffer: list[str] = []
    try:
        while True:
            try:
                line = read_line("...> " if buffer else "sql> ")
            except EOFError:
                console.print()
                return 0
            stripped = line.strip()
            if not buffer and stripped.startswith("."):
                word, _, arg = stripped.partition(" ")
                if word in (".quit", ".exit", ".q"):
                    return 0
                if word == ".help":
                    console.print(HELP)
                elif word == ".tables":
                    print_table(console, *list_tables(session.con))
                elif word == ".schema" and arg.strip():
                    print_table(console, *describe(session.con, arg.strip()))
                else:
                    console.print(f"unknown command {escape(word)}; .help lists them")
                continue
            if not stripped:
                continue
            buffer.append(line)
            if not stripped.endswith(";"):
                continue
            statement = "\n".join(buffer)
            buffer = []
            if session.refreshed():
                console.print(f"[dim](newer snapshot: data as of {session.as_of()})[/]")
            try:
                print_table(console, *fetch(session.con, statement))
            except duckdb.Error as exc:
                console.print(f"[red]error:[/] {escape(error_text(exc))}", soft_wrap=True)
    finally:
        session.close()
