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

from commune_metrics.core.config import DEFAULT_INBOX, DEFAULT_WAREHOUSE
from commune_metrics.core.errors import SetupError
from commune_metrics.core.lifecycle import StopOnSignal, Stopped, stop_requested, terminate_descendants
from commune_metrics.warehouse import (
    LOADED,
    OUTCOMES,
    QUARANTINED,
    SKIPPED,
    UNPACKED,
    LoadOutcome,
    WarehouseError,
)

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

KeepInboxOpt = Annotated[bool, typer.Option(
    "--keep-inbox", help="Copy files of the inbox to the archive too, do not move them.")]
MoveOpt = Annotated[bool, typer.Option(
    "--move", help="Move files given from outside the inbox to the archive (default: read in place, copy).")]
WarehouseOpt = Annotated[Path, typer.Option("--warehouse", "-w", help="DuckDB file.")]


@app.callback()
def _root(debug: Annotated[bool, typer.Option("--debug", help="Show stack traces.")] = False) -> None:
    _state["debug"] = debug


def _say_waiting(message: str) -> None:
    """Who holds the warehouse, once, on stderr (a writer waiting for a run)."""
    err_console.print(f"[dim]{escape(message)}[/]", soft_wrap=True)


# -- ingest ----------------------------------------------------------------------------

_STYLE = {LOADED: "green", "unchanged": "dim", QUARANTINED: "yellow", SKIPPED: "magenta", UNPACKED: "cyan"}


def format_outcome(o: LoadOutcome) -> str:
    detail = ""
    if o.outcome == LOADED:
        detail = f"v{o.version}"
        if o.replaced_file and o.current:
            detail += f", replaces {o.replaced_file}"
        elif o.replaced_file:
            detail += f", older than the current {o.replaced_file} (kept as history)"
        if o.why:
            detail += f": {o.why}"
        detail += f"; {o.facts} fact{'s' if o.facts != 1 else ''}"
        if o.flags:
            detail += f", {o.flags} flag{'s' if o.flags != 1 else ''}"
    if o.reason:
        detail = f"{detail}; {o.reason}" if detail else o.reason
    style = _STYLE.get(o.outcome, "")
    indent = "  " if o.container else ""
    return f"[{style}]{o.outcome:<11}[/] {indent}{escape(o.source_file)}  {escape(detail)}".rstrip()


@app.command()
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders (default: the inbox).")] = None,
    warehouse: WarehouseOpt = DEFAULT_WAREHOUSE,
    workers: Annotated[int | None, typer.Option(
        "--workers", "-j", min=1, max=64, help="Extraction processes (default: $CM_WORKERS, else the cores).",
    )] = None,
    prefect: Annotated[bool, typer.Option("--prefect", help="Run as a Prefect flow (slow start).")] = False,
    keep_inbox: KeepInboxOpt = False,
    move: MoveOpt = False,
    inbox: Annotated[Path, typer.Option("--inbox", help="The inbox: its files are moved out once loaded.")]
    = DEFAULT_INBOX,
    archive_root: Annotated[Path | None, typer.Option("--archive", help="Archive root (data/raw).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Extract and load every entry under PATH... (default: the inbox); one line per entry.

    Files of the inbox are moved to the archive once loaded; files given from anywhere else
    are read in place and left untouched (a copy is archived), unless --move."""
    from commune_metrics.ingest.inbox import DEFAULT_ARCHIVE_ROOT

    if not paths:
        inbox.mkdir(parents=True, exist_ok=True)  # a fresh clone: an empty inbox, not an error
    paths = list(paths or [inbox])
    missing = [str(p) for p in paths if not p.exists() and not p.is_symlink()]
    if missing:
        raise typer.BadParameter(f"no such file or folder: {', '.join(missing)}", param_hint="PATH")
    archive_root = archive_root or DEFAULT_ARCHIVE_ROOT

    def on_wait(message: str) -> None:
        err_console.print(f"[dim]{escape(message)}[/]", soft_wrap=True)  # one line, for logs

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
                archive_root=str(archive_root), keep_inbox=keep_inbox, inbox=str(inbox), move=move,
            )
            if not as_json:
                for outcome in summary.outcomes:
                    console.print(format_outcome(outcome))
        else:
            summary = _ingest_in_process(paths, warehouse, archive_root, keep_inbox, inbox, move, workers,
                                         on_wait, as_json)
    except BaseException:
        if not stopper.requested:  # stopping: the handlers stay, a second signal exits at once
            stopper.uninstall()
        raise
    stopper.uninstall()

    if as_json:
        console.print_json(json.dumps(summary.as_dict(), default=str))
        return
    console.print(summary_line(summary.counts, summary.entries, summary.members, summary.seconds)
                  + f" -> {escape(str(warehouse))} (run {summary.run_id})")


def summary_line(counts: dict[str, int], entries: int, members: int, seconds: float) -> str:
    """'7 files in 1.2 s: 4 loaded, ...': one count per line printed above it; the counts add
    up to the entries found, plus the members of any .zip (each has its own line too)."""
    shown = [k for k in OUTCOMES if k != UNPACKED or counts.get(k)]
    parts = ", ".join(f"{counts.get(k, 0)} {k}" for k in shown)
    total = entries + members
    what = f"{total} file{'s' if total != 1 else ''}"
    if members:
        what += f" ({entries} entr{'ies' if entries != 1 else 'y'} + {members} in archives)"
    return f"{what} in {seconds:.1f} s: {parts}"


def _ingest_in_process(paths, warehouse, archive_root, keep_inbox, inbox, move, workers, on_wait, quiet):
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
                          inbox=inbox, move=move, process_many=pool, trigger="cli", on_start=on_start,
                          on_file=on_file, on_wait=on_wait)
    except (Stopped, KeyboardInterrupt):
        pool.terminate()  # not close(): that would wait for the workers' current files
        raise
    finally:
        pool.close()


# -- compare ---------------------------------------------------------------------------

@app.command()
def compare(
    metric: Annotated[str | None, typer.Option("--metric", "-m", help="One metric across communes.")] = None,
    sort: Annotated[str | None, typer.Option(
        "--sort", help="online/overdue/antivirus/trained/dossiers/computers/staff (worst first), or "
                       "commune/province/code/period; with --metric: value/commune/province/period.")] = None,
    worst: Annotated[int | None, typer.Option("--worst", min=1, help="Only the N worst communes.")] = None,
    below: Annotated[float | None, typer.Option(
        "--below", help="Only communes under X (over X where less is better, e.g. overdue).")] = None,
    reverse: Annotated[bool, typer.Option("--reverse", help="Best (or Z-A) first.")] = False,
    warehouse: WarehouseOpt = DEFAULT_WAREHOUSE,
) -> None:
    """Which communes lag: the comparison table, or one metric across communes."""
    from commune_metrics.report import compare as cmp
    from commune_metrics.warehouse import connect_readonly

    con = connect_readonly(warehouse)
    try:
        if metric:
            cmp.check_metric(con, metric)
            rows, lower = cmp.load_metric(con, metric)
            chosen = cmp.select_metric_rows(rows, lower, sort, worst, below, reverse)
            cmp.render_metric(console, metric, chosen, lower)
        else:
            rows, ranked_by = cmp.select_rows(cmp.load_rows(con), sort, worst, below, reverse)
            cmp.render_all(console, rows, ranked_by)
    except cmp.CompareError as exc:
        raise typer.BadParameter(str(exc), param_hint="--metric/--sort/--worst/--below") from None
    finally:
        con.close()


# -- sql -------------------------------------------------------------------------------

@app.command()
def sql(
    query: Annotated[str | None, typer.Argument(help="A SELECT; without it, an interactive prompt.")] = None,
    warehouse: WarehouseOpt = DEFAULT_WAREHOUSE,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
) -> None:
    """Run SQL on the analysts' read snapshot of the warehouse (never blocks a run)."""
    import duckdb

    from commune_metrics.report import sql_console
    from commune_metrics.warehouse import connect_readonly

    if query is None:
        if sys.stdin.isatty():
            import readline  # noqa: F401  (line editing and history for input())
        raise typer.Exit(sql_console.interactive(warehouse, console))
    con = connect_readonly(warehouse)
    try:
        columns, rows = sql_console.fetch(con, query)
    except duckdb.Error as exc:
        err_console.print(f"[red]error:[/] {escape(sql_console.error_text(exc))}", soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        con.close()
    if as_csv:
        sql_console.write_csv(columns, rows)
    else:
        sql_console.print_table(console, columns, rows)


# -- eval / report / serve (their modules are imported only when used) -----------------

@app.command(name="eval")
def eval_(
    gold: Annotated[Path, typer.Option("--gold", exists=True, dir_okay=False, help="Gold facts (JSONL).")],
    docs: Annotated[Path | None, typer.Option("--docs", exists=True, file_okay=False,
                                              help="Folder of documents.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    warehouse: Annotated[Path | None, typer.Option(
        "--warehouse", dir_okay=False, help="Score this warehouse's views instead of extracting.")] = None,
    through_warehouse: Annotated[bool, typer.Option(
        "--through-warehouse",
        help="Ingest a copy of --docs into a temporary warehouse, score its views.")] = False,
) -> None:
    """Score extraction against a gold file: precision, recall, F1, metadata accuracy, reliability."""
    from commune_metrics.evaluate import run_eval

    raise typer.Exit(run_eval(gold, docs, as_json, warehouse, through_warehouse))


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
            applied = apply_corrections_csv(warehouse, csv_file, on_wait=_say_waiting)
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
        correct_fact(warehouse, fact_id, value, reject, note, who or "", on_wait=_say_waiting)
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
    from commune_metrics.ingest.inbox import DEFAULT_ARCHIVE_ROOT

    serve_ingest(cron=cron, timezone=timezone, inbox=inbox, warehouse=warehouse,
                 archive_root=archive_root or DEFAULT_ARCHIVE_ROOT, keep_inbox=keep_inbox, name=name,
                 say=lambda text: console.print(escape(text), soft_wrap=True))
    # Stopped in order (flow runs, runner, server). Exit without interpreter clean-up: Prefect's
    # exit hooks would deliver queued events to the server just stopped, retrying for minutes.
    terminate_descendants(grace=2.0)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


# -- review ------------------------------------------------------------------------------

@app.command()
def review(
    warehouse: WarehouseOpt = DEFAULT_WAREHOUSE,
    port: Annotated[int, typer.Option(
        "--port", min=0, max=65535, help="Port on 127.0.0.1 (0: any free).")] = 8765,
    who: Annotated[str | None, typer.Option(
        "--who", help="Your name in the corrections (default: login).")] = None,
) -> None:
    """Local review page (127.0.0.1 only): every figure with its evidence; confirm, correct or reject."""
    from commune_metrics.review.server import ReviewApp, serve
    from commune_metrics.warehouse.corrections import default_who

    app_state = ReviewApp(warehouse=warehouse, who=who or default_who(), port=port)

    def ready(url: str) -> None:
        console.print(f"review page: {url}  (open it in a browser on this computer; Ctrl-C to stop)")

    try:
        serve(app_state, ready)
    except KeyboardInterrupt:
        console.print("review page stopped")
    except OSError as exc:
        if exc.errno == 98:  # EADDRINUSE
            raise WarehouseError(f"port {port} is in use (another review page?); try --port 0") from None
        raise


@app.command(name="export-labels")
def export_labels(
    out: Annotated[Path, typer.Option("--out", help="Gold JSONL to write.")] = Path("reviewed_gold.jsonl"),
    negatives: Annotated[Path | None, typer.Option(
        "--negatives", help="Also write the rejected candidates (JSONL), for training a verifier.")] = None,
    docs: Annotated[Path | None, typer.Option(
        "--docs", help="Also write each document's text to this folder (a batch `make train` learns from).",
    )] = None,
    warehouse: WarehouseOpt = DEFAULT_WAREHOUSE,
) -> None:
    """Write the reviewed facts as gold JSONL (the format of ../shared/gold/seeds.jsonl)."""
    from commune_metrics.review.labels import export_labels as export
    from commune_metrics.warehouse import connect_readonly

    con = connect_readonly(warehouse)
    try:
        summary = export(con, out, negatives, docs)
    finally:
        con.close()
    console.print(f"wrote {summary.facts} reviewed fact{'s' if summary.facts != 1 else ''} of "
                  f"{summary.documents} document{'s' if summary.documents != 1 else ''} to {escape(str(out))}"
                  + (f"; {summary.negatives} rejected to {escape(str(negatives))}" if negatives else "")
                  + (f"; {summary.texts} text{'s' if summary.texts != 1 else ''} to {escape(str(docs))}"
                     if docs else ""))


# -- status ------------------------------------------------------------------------------

@app.command()
def status(
    warehouse: WarehouseOpt = DEFAULT_WAREHOUSE,
    inbox: Annotated[Path, typer.Option("--inbox", help="Inbox folder to count.")] = DEFAULT_INBOX,
    runs: Annotated[int, typer.Option("--runs", min=1, help="How many recent runs.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Last runs (crashed ones included), next scheduled run, inbox backlog."""
    from commune_metrics.report import status as status_view
    from commune_metrics.warehouse import connect_readonly

    con = connect_readonly(warehouse)
    try:
        found = status_view.collect(con, warehouse, inbox, runs)
    finally:
        con.close()
    if as_json:
        console.print_json(json.dumps(found.as_dict()))
    else:
        status_view.render(console, found)


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


def _debug_first(args: list[str]) -> list[str]:
    """`--debug` is the root's option, but users type it anywhere (`ingest x --debug`): move it
    to the front so every command accepts it. Arguments after `--` are left alone."""
    cut = args.index("--") if "--" in args else len(args)
    if "--debug" not in args[:cut]:
        return args
    return ["--debug", *(a for a in args[:cut] if a != "--debug"), *args[cut:]]


def main(argv: list[str] | None = None) -> None:
    """Entry point. Typer reports bad arguments itself (exit 2); everything else that
    escapes a command is shown as one line (exit 1) unless --debug is given."""
    args = _debug_first(sys.argv[1:] if argv is None else list(argv))
    command = typer.main.get_command(app)
    try:
        command.main(args=args, prog_name="commune-metrics", standalone_mode=True)
    except (Stopped, KeyboardInterrupt) as exc:
        _stopped(exc)
    except Exception as exc:
        if stop_requested():  # a signal that landed inside a library call, which wrapped it
            _stopped(Stopped(stop_requested() or signal.SIGTERM))
        if _state["debug"] or args[:1] == ["--debug"]:
            raise
        if isinstance(exc, (WarehouseError, SetupError)):
            err_console.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        else:
            err_console.print(f"[red]error:[/] {escape(type(exc).__name__)}: {escape(str(exc))} "
                              "[dim](rerun with --debug for details)[/]", soft_wrap=True)
        sys.exit(1)
