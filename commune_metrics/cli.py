"""Command line: `commune-metrics` (also `python -m pipeline`).

Errors reach the user as one line on stderr (exit 1; 2 for bad arguments); `--debug`
shows the stack trace. Heavy or optional pieces (Prefect, evaluation, report) are imported
only by the command that needs them, so `ingest` and `compare` start fast.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from commune_metrics.core.config import DEFAULT_INBOX, DEFAULT_WAREHOUSE
from commune_metrics.core.errors import SetupError
from commune_metrics.core.lifecycle import StopOnSignal, Stopped, stop_requested, terminate_descendants
from commune_metrics.warehouse import LOADED, OUTCOMES, QUARANTINED, SKIPPED, LoadOutcome, WarehouseError

app = typer.Typer(
    name="commune-metrics",
    help="Vietnamese commune reports -> evidence-backed facts in DuckDB.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console(highlight=False)
if not console.is_terminal:
    # Piped output (make, CI logs): rich would assume 80 columns and squeeze the tables.
    console = Console(highlight=False, width=160, soft_wrap=True)
err_console = Console(stderr=True, highlight=False)
_state = {"debug": False}
STOP_DEADLINE = 27.0  # seconds from SIGTERM/Ctrl-C to a forced exit (the promise is 30)

KeepInboxOpt = Annotated[bool, typer.Option("--keep-inbox", help="Copy files to the archive, do not move.")]
WarehouseOpt = Annotated[Path, typer.Option("--warehouse", "-w", help="DuckDB file.")]


@app.callback()
def _root(debug: Annotated[bool, typer.Option("--debug", help="Show stack traces.")] = False) -> None:
    _state["debug"] = debug


# -- ingest ----------------------------------------------------------------------------

_STYLE = {LOADED: "green", "unchanged": "dim", QUARANTINED: "yellow", SKIPPED: "magenta"}


def format_outcome(o: LoadOutcome) -> str:
    detail = ""
    if o.outcome == LOADED:
        detail = f"v{o.version}"
        if o.replaced_version:
            detail += f" (replaces v{o.replaced_version})"
        detail += f", {o.facts} fact{'s' if o.facts != 1 else ''}"
        if o.flags:
            detail += f", {o.flags} flag{'s' if o.flags != 1 else ''}"
    if o.reason:
        detail = f"{detail}; {o.reason}" if detail else o.reason
    style = _STYLE.get(o.outcome, "")
    return f"[{style}]{o.outcome:<11}[/] {escape(o.source_file)}  {escape(detail)}".rstrip()


@app.command()
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders (default: the inbox).")] = None,
    warehouse: WarehouseOpt = DEFAULT_WAREHOUSE,
    workers: Annotated[int | None, typer.Option(
        "--workers", "-j", min=1, max=64, help="Extraction processes (default: $CM_WORKERS, else the cores).",
    )] = None,
    prefect: Annotated[bool, typer.Option("--prefect", help="Run as a Prefect flow (slow start).")] = False,
    keep_inbox: KeepInboxOpt = False,
    archive_root: Annotated[Path | None, typer.Option("--archive", help="Archive root (data/raw).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Extract every supported file under PATH... and load it into the warehouse."""
    from commune_metrics.ingest.inbox import DEFAULT_ARCHIVE_ROOT

    paths = list(paths or [DEFAULT_INBOX])
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise typer.BadParameter(f"no such file or folder: {', '.join(missing)}", param_hint="PATH")
    archive_root = archive_root or DEFAULT_ARCHIVE_ROOT

    def on_wait(message: str) -> None:
        err_console.print(f"[dim]{escape(message)}[/]")

    if workers is None:
        from commune_metrics.ingest.parallel import default_workers

        workers = default_workers()
    if prefect:
        from commune_metrics.flows._env import check_prefect_home

        check_prefect_home()  # before Prefect is imported or anything starts: one line if not
    # SIGTERM / Ctrl-C: the document in hand is abandoned (rolled back), workers and a private
    # server are stopped, and the command exits within 30 s; a second signal exits at once.
    stopper = StopOnSignal(STOP_DEADLINE).install()
    try:
        if prefect:
            from commune_metrics.flows.ingest import run_ingest_flow

            summary = run_ingest_flow(
                workers=workers, paths=[str(p) for p in paths], warehouse=str(warehouse),
                archive_root=str(archive_root), keep_inbox=keep_inbox,
            )
            if not as_json:
                for outcome in summary.outcomes:
                    console.print(format_outcome(outcome))
        else:
            summary = _ingest_in_process(paths, warehouse, archive_root, keep_inbox, workers, on_wait,
                                         as_json)
    finally:
        stopper.uninstall()

    if as_json:
        console.print_json(json.dumps(summary.as_dict(), default=str))
        return
    counts = summary.counts
    total = sum(counts.values())
    parts = ", ".join(f"{counts.get(k, 0)} {k}" for k in OUTCOMES)
    console.print(
        f"{total} file{'s' if total != 1 else ''} in {summary.seconds:.1f} s: {parts}"
        f" -> {escape(str(warehouse))} (run {summary.run_id})"
    )


def _ingest_in_process(paths, warehouse, archive_root, keep_inbox, workers, on_wait, quiet):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from commune_metrics.ingest.inbox import ingest
    from commune_metrics.ingest.parallel import make_processor

    # Workers start only once enough new files turn up (commune_metrics.ingest.parallel), so an ingest with
    # nothing new, or a handful of files, starts no process.
    pool = make_processor(workers)
    show_bar = console.is_terminal and not quiet
    progress = Progress(TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=console, transient=True, disable=not show_bar)
    task = progress.add_task("ingest", total=None)

    def on_start(total: int) -> None:
        progress.update(task, total=total)

    def on_file(outcome: LoadOutcome) -> None:
        if not quiet:
            progress.console.print(format_outcome(outcome))
        progress.advance(task)

    try:
        with progress:
            return ingest(paths, warehouse=warehouse, archive_root=archive_root, keep_inbox=keep_inbox,
                          process_many=pool, trigger="cli", on_start=on_start, on_file=on_file,
                          on_wait=on_wait)
    except (Stopped, KeyboardInterrupt):
        pool.terminate()  # not close(): that would wait for the workers' current files
        raise
    finally:
        pool.close()


# -- compare ---------------------------------------------------------------------------

def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}%"


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


@app.command()
def compare(
    metric: Annotated[str | None, typer.Option("--metric", "-m", help="One metric across communes.")] = None,
    warehouse: WarehouseOpt = DEFAULT_WAREHOUSE,
) -> None:
    """Cross-commune comparison table (or one metric across communes)."""
    from commune_metrics.warehouse import connect_readonly

    con = connect_readonly(warehouse)
    try:
        if metric:
            _compare_metric(con, metric)
        else:
            _compare_all(con)
    finally:
        con.close()


def _compare_all(con) -> None:
    rows = con.execute(
        """SELECT commune, province, ward_code, online_share, overdue_share, antivirus_coverage,
                  staff_trained_share, dossiers_received, documents, latest_period_end
           FROM comparison ORDER BY province NULLS LAST, commune"""
    ).fetchall()
    if not rows:
        loaded = con.execute("SELECT count(*) FROM documents WHERE status = 'loaded'").fetchone()[0]
        console.print(f"no communes to compare yet ({loaded} documents loaded, none with a known commune)")
        return
    table = Table(title="Communes compared (latest figures)", title_justify="left")
    for header, justify in [("commune", "left"), ("province", "left"), ("code", "right"),
                            ("online", "right"), ("overdue", "right"), ("antivirus", "right"),
                            ("trained", "right"), ("dossiers", "right"), ("docs", "right"),
                            ("period end", "left")]:
        table.add_column(header, justify=justify)
    for r in rows:
        table.add_row(escape(r[0] or ""), escape(r[1] or ""), "" if r[2] is None else str(r[2]),
                      _pct(r[3]), _pct(r[4]), _pct(r[5]), _pct(r[6]), _num(r[7]), str(r[8]),
                      "" if r[9] is None else str(r[9]))
    console.print(table)
    console.print("[dim]online = online dossiers / received (or as written); overdue = resolved late / "
                  "resolved; antivirus = computers with antivirus / computers; trained = staff trained "
                  "/ staff[/]")


def _compare_metric(con, metric: str) -> None:
    rows = con.execute(
        """SELECT commune, province, ward_code, value, unit, qualifier, period_end, source_file, page
           FROM commune_latest WHERE metric = ? ORDER BY value DESC NULLS LAST, commune""",
        [metric],
    ).fetchall()
    if not rows:
        known = con.execute("SELECT count(*) FROM metrics").fetchone()[0]
        exists = con.execute("SELECT count(*) FROM metrics WHERE code = ?", [metric]).fetchone()[0]
        if known and not exists:
            raise typer.BadParameter(f"unknown metric code {metric!r} (see the metrics table)",
                                     param_hint="--metric")
        console.print(f"no actual values for {escape(metric)} yet")
        return
    table = Table(title=f"{escape(metric)}: latest actual value per commune", title_justify="left")
    for header, justify in [("commune", "left"), ("province", "left"), ("code", "right"), ("value", "right"),
                            ("unit", "left"), ("period end", "left"), ("source", "left")]:
        table.add_column(header, justify=justify)
    qualifier_sign = {"gt": ">", "gte": "≥", "lt": "<", "lte": "≤", "approx": "≈"}
    for r in rows:
        value = qualifier_sign.get(r[5], "") + _num(r[3])
        source = f"{r[7]} p.{r[8]}" if r[8] is not None else r[7]
        table.add_row(escape(r[0] or ""), escape(r[1] or ""), "" if r[2] is None else str(r[2]), value,
                      r[4] or "", "" if r[6] is None else str(r[6]), escape(source or ""))
    console.print(table)


# -- status ----------------------------------------------------------------------------

_STATUS_STYLE = {"ok": "green", "running": "cyan", "failed": "red", "stopped": "yellow", "crashed": "red"}


def _runs_section(warehouse: Path, inbox: Path, limit: int) -> None:
    from commune_metrics.ingest.status import describe_pid, recent_runs

    if not warehouse.is_file():
        console.print(f"runs: none yet (no warehouse at {escape(str(warehouse))})")
        return
    runs = recent_runs(warehouse, limit)
    if not runs:
        console.print("runs: none yet")
        return
    table = Table(title=f"Last {len(runs)} run{'s' if len(runs) != 1 else ''}", title_justify="left")
    for header, justify in [("run", "right"), ("trigger", "left"), ("started", "left"), ("took", "right"),
                            ("status", "left"), ("loaded", "right"), ("unchanged", "right"),
                            ("quarantined", "right"), ("skipped", "right"), ("note", "left")]:
        table.add_column(header, justify=justify)
    for r in runs:
        took = "" if r.seconds is None else f"{r.seconds:.0f} s"
        style = _STATUS_STYLE.get(r.status, "")
        note = r.error_text.splitlines()[0] if r.error_text else ""
        if r.status == "running":
            note = describe_pid(r)
        table.add_row(str(r.run_id), r.trigger, r.started_at.strftime("%Y-%m-%d %H:%M:%S"), took,
                      f"[{style}]{r.status}[/]", str(r.loaded), str(r.unchanged), str(r.quarantined),
                      str(r.skipped), escape(note[:100]))
    console.print(table)


def _inbox_section(warehouse: Path, inbox: Path, limit: int) -> None:
    from commune_metrics.ingest.status import inbox_backlog

    backlog = inbox_backlog(inbox)
    if not backlog.exists:
        console.print(f"inbox: {escape(str(inbox))} does not exist")
        return
    oldest = f", oldest from {backlog.oldest:%Y-%m-%d %H:%M}" if backlog.oldest else ""
    console.print(f"inbox: {backlog.files} file{'s' if backlog.files != 1 else ''} "
                  f"({backlog.bytes / 1024 / 1024:.1f} MB) waiting in {escape(str(inbox))}{oldest}")


# One function per section, in display order: a new section (e.g. the next scheduled run) is
# one more function here. Each reads only; status never writes.
STATUS_SECTIONS = [_runs_section, _inbox_section]


@app.command()
def status(
    warehouse: WarehouseOpt = DEFAULT_WAREHOUSE,
    inbox: Annotated[Path, typer.Option("--inbox", help="Inbox folder to count.")] = DEFAULT_INBOX,
    limit: Annotated[int, typer.Option("--last", "-n", min=1, help="How many runs to show.")] = 10,
) -> None:
    """Last runs (crashed ones included) and the inbox backlog. Reads only."""
    for section in STATUS_SECTIONS:
        section(warehouse, inbox, limit)


# -- eval / report / serve (their modules are imported only when used) -----------------

@app.command(name="eval")
def eval_(
    gold: Annotated[Path, typer.Option("--gold", exists=True, dir_okay=False, help="Gold facts (JSONL).")],
    docs: Annotated[Path, typer.Option("--docs", exists=True, file_okay=False, help="Folder of documents.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Score extraction against a gold file: precision, recall, F1, metadata accuracy."""
    from commune_metrics.evaluate import run_eval

    raise typer.Exit(run_eval(gold, docs, as_json))


@app.command()
def report(
    out: Annotated[Path | None, typer.Option("--out", help="HTML report (default report.html).")] = None,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="Excel export.")] = None,
    warehouse: WarehouseOpt = DEFAULT_WAREHOUSE,
) -> None:
    """Analyst report with charts and an Excel export."""
    # Built by commune_metrics.report (another module's owner); this command only wires it up.
    from commune_metrics.report import build_report

    if out is None and xlsx is None:
        out = Path("report.html")
    if not warehouse.is_file():
        raise WarehouseError(f"no warehouse at {warehouse}; load files first with `commune-metrics ingest`")
    build_report(warehouse, out, xlsx)
    for path in (out, xlsx):
        if path is not None:
            console.print(f"wrote {escape(str(path))}")


@app.command()
def correct(
    fact_id: Annotated[str | None, typer.Argument(help="fact_id (view facts_corrected).")] = None,
    value: Annotated[float | None, typer.Option("--value", help="The right value (metric's unit).")] = None,
    reject: Annotated[bool, typer.Option("--reject", help="The figure is wrong: leave it out.")] = False,
    note: Annotated[str, typer.Option("--note", help="Why (required).")] = "",
    who: Annotated[str | None, typer.Option("--who", help="Analyst (default: login name).")] = None,
    csv_file: Annotated[Path | None, typer.Option("--csv", exists=True, dir_okay=False,
                                                  help="Apply a corrections CSV instead.")] = None,
    warehouse: WarehouseOpt = DEFAULT_WAREHOUSE,
) -> None:
    """Correct or reject one extracted figure; the fact itself is kept (warehouse/corrections.py)."""
    from commune_metrics.warehouse.corrections import CorrectionError, apply_corrections_csv, correct_fact

    if not warehouse.is_file():
        raise WarehouseError(f"no warehouse at {warehouse}; load files first with `commune-metrics ingest`")
    if csv_file is not None:
        try:
            applied = apply_corrections_csv(warehouse, csv_file)
        except CorrectionError as exc:
            raise typer.BadParameter(str(exc), param_hint="--csv") from None
        console.print(f"{applied} new correction{'s' if applied != 1 else ''} from {escape(str(csv_file))}")
        return
    if fact_id is None:
        raise typer.BadParameter("give a FACT_ID (or --csv FILE)", param_hint="FACT_ID")
    if (value is None) == (not reject):
        raise typer.BadParameter("give exactly one of --value V or --reject", param_hint="--value/--reject")
    if not note.strip():
        raise typer.BadParameter("say why with --note", param_hint="--note")
    try:
        correct_fact(warehouse, fact_id, value, reject, note, who or "")
    except CorrectionError as exc:
        raise typer.BadParameter(str(exc), param_hint="FACT_ID") from None
    console.print(f"{escape(fact_id)}: {'rejected' if reject else f'corrected to {value:g}'}")


@app.command()
def serve(
    cron: Annotated[str, typer.Option("--cron", help="When to run (cron, local time).")] = "0 1 * * *",
    timezone: Annotated[str | None, typer.Option("--timezone", help="IANA zone (local).")] = None,
    inbox: Annotated[Path, typer.Option("--inbox", help="Folder to ingest.")] = DEFAULT_INBOX,
    warehouse: WarehouseOpt = DEFAULT_WAREHOUSE,
    keep_inbox: KeepInboxOpt = False,
    archive_root: Annotated[Path | None, typer.Option("--archive", help="Archive root (data/raw).")] = None,
    name: Annotated[str, typer.Option("--name", help="Deployment name.")] = "nightly-ingest",
) -> None:
    """Run the ingest flow on a schedule (Prefect `flow.serve`; Ctrl-C to stop)."""
    from commune_metrics.flows.serve import serve_ingest, validate_cron

    try:
        validate_cron(cron, timezone)
    except ValueError as exc:
        raise typer.BadParameter(str(exc).splitlines()[0], param_hint="--cron/--timezone") from None
    console.print(f"serving ingest of {escape(str(inbox))} on cron {escape(cron)!r}; Ctrl-C to stop")
    from commune_metrics.ingest.inbox import DEFAULT_ARCHIVE_ROOT

    serve_ingest(cron=cron, timezone=timezone, inbox=inbox, warehouse=warehouse,
                 archive_root=archive_root or DEFAULT_ARCHIVE_ROOT, keep_inbox=keep_inbox, name=name)


# -- entry point -----------------------------------------------------------------------

def _stopped(exc: BaseException) -> None:
    """Exit after a stop, leaving no child behind. Once Prefect is loaded, without interpreter
    clean-up: its exit hooks deliver queued events to a server that was just stopped,
    retrying for minutes."""
    code = exc.exit_code if isinstance(exc, Stopped) else 130
    err_console.print(f"{exc or 'interrupted'}; files not loaded yet stay for the next run")
    terminate_descendants(grace=2.0)
    if "prefect" not in sys.modules:
        sys.exit(code)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point. Typer reports bad arguments itself (exit 2); everything else that
    escapes a command is shown as one line (exit 1) unless --debug is given."""
    args = sys.argv[1:] if argv is None else list(argv)
    command = typer.main.get_command(app)
    try:
        command.main(args=args, prog_name="commune-metrics", standalone_mode=True)
    except (Stopped, KeyboardInterrupt) as exc:
        _stopped(exc)
    except Exception as exc:
        if stop_requested():  # a signal that landed inside a library call, which wrapped it
            _stopped(Stopped(stop_requested() or signal.SIGTERM))
        if _state["debug"] or "--debug" in args:
            raise
        if isinstance(exc, (WarehouseError, SetupError)):
            err_console.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        else:
            err_console.print(f"[red]error:[/] {escape(type(exc).__name__)}: {escape(str(exc))} "
                              "[dim](rerun with --debug for details)[/]", soft_wrap=True)
        sys.exit(1)
