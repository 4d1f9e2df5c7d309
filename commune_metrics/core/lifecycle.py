"""Child processes die with their parent, whatever kills the parent.

A SIGKILLed run cannot clean up after itself, so every child arranges its own end:

- `die_with_parent()` asks Linux (prctl PR_SET_PDEATHSIG) to send the child a signal when
  its parent dies; it is the only mechanism that also covers SIGKILL of the parent.
- `watch_parent()` is the fallback where that signal cannot be relied on (not Linux, or the
  parent *thread* that started the child ended while the parent lives on): a daemon thread
  that ends the process once its parent pid changes.
- `preexec_die_with_parent` is for subprocess.Popen(preexec_fn=...): it runs between fork and
  exec, so it only calls a libc function resolved beforehand (no import, no allocation).

Also here: whether a recorded pid still runs the process that wrote it (`pid_alive`), used
to mark runs whose process is gone as crashed; and `StopOnSignal`, which makes SIGTERM and
Ctrl-C stop a run in bounded time (a first signal unwinds, a second exits at once).

PR_SET_PDEATHSIG fires when the *thread* that started the child ends, not only the process:
it is armed only for children started from the main thread (pool workers of the CLI, the
private Prefect server, tesseract from a worker's main thread or a task thread waiting on it).
Children started from other threads (Prefect's flow-run processes) rely on the watchdog.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

PARENT_PID_ENV = "CM_PARENT_PID"  # set by a parent that wants its grandchildren to watch it
_PR_SET_PDEATHSIG = 1


def _load_prctl():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl
    except (OSError, AttributeError):
        return None


# Resolved at import, in the parent: preexec_fn must not load libraries after fork.
_prctl = _load_prctl()


def die_with_parent(sig: int = signal.SIGKILL, parent_pid: int | None = None) -> bool:
    """Have this process receive `sig` when its parent dies. When `parent_pid` is given and
    the parent is already gone (it died before this call), exit at once. Returns whether the
    kernel will deliver the signal (False: not Linux; use watch_parent as well)."""
    armed = _prctl is not None and _prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)  # orphaned before the request took effect: nobody will collect our work
    return armed


def preexec_die_with_parent() -> None:
    """For Popen(preexec_fn=...): SIGKILL the child when the process that started it dies."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def watch_parent(parent_pid: int, interval: float = 1.0) -> threading.Thread:
    """Start a daemon thread that ends this process (without cleanup: the parent that would
    collect the results is gone) once its parent is no longer `parent_pid`."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os._exit(1)

    thread = threading.Thread(target=watch, name="parent-watchdog", daemon=True)
    thread.start()
    return thread


def bind_to_parent(parent_pid: int | None = None, deathsig: bool = True) -> None:
    """Both guards, for a child started by a process of ours. `deathsig`: only when the child
    was started from the parent's main thread (see the module docstring)."""
    parent_pid = os.getppid() if parent_pid is None else parent_pid
    if deathsig:
        die_with_parent(signal.SIGKILL, parent_pid)
    elif os.getppid() != parent_pid:
        os._exit(1)
    watch_parent(parent_pid)


_bound_from_env = False


def bind_to_parent_from_env() -> bool:
    """In a process started by a third party on our behalf (a Prefect flow-run process started
    by `serve`'s runner thread): watch the parent when $CM_PARENT_PID names it. Returns whether
    this process is bound (once is enough)."""
    global _bound_from_env
    raw = os.environ.get(PARENT_PID_ENV, "")
    if _bound_from_env or not raw.isdigit() or int(raw) != os.getppid() or int(raw) == os.getpid():
        return _bound_from_env
    bind_to_parent(int(raw), deathsig=False)
    _bound_from_env = True
    return True


# -- is a recorded process still running? ------------------------------------------------------

def _read_proc(path: str) -> str:
    """A /proc file's text. Read as bytes: a text-mode open looks its codec up, which may import a
    module, and this also runs inside a signal handler that can interrupt that very import (a
    second SIGTERM during the first one's clean-up once gave "unknown encoding: ascii")."""
    with open(path, "rb") as fh:
        return fh.read().decode("ascii", "replace")


def _boot_time() -> float | None:
    try:
        for line in _read_proc("/proc/stat").splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except OSError:
        pass
    return None


def process_start_time(pid: int) -> float | None:
    """When `pid` started (Unix time), from /proc; None when unknown (not Linux) or no such pid."""
    try:
        fields = _read_proc(f"/proc/{pid}/stat").rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    boot = _boot_time()
    if boot is None:
        return None
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22 of stat: starttime


def pid_alive(pid: int, started_before: float | None = None) -> bool:
    """Whether `pid` runs, and (when `started_before` is given and /proc can tell) runs a process
    started no later than that time: a recycled pid belongs to a newer process, not the recorded one."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    if started_before is not None:
        started = process_start_time(pid)
        if started is not None and started > started_before + 1.0:  # clock ticks are coarse
            return False
    return True


# -- children ----------------------------------------------------------------------------------

def child_pids(pid: int | None = None) -> list[int]:
    """Direct children of `pid` (default: this process), from /proc; [] where there is none."""
    pid = os.getpid() if pid is None else pid
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for name in entries:
        if not name.isdigit():
            continue
        try:
            ppid = int(_read_proc(f"/proc/{name}/stat").rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            found.append(int(name))
    return found


def descendant_pids(pid: int | None = None) -> list[int]:
    """Children, grandchildren... of `pid` (default: this process), parents first."""
    out: list[int] = []
    todo = child_pids(pid)
    while todo:
        child = todo.pop(0)
        out.append(child)
        todo.extend(child_pids(child))
    return out


def signal_pids(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def wait_gone(pids: list[int], timeout: float) -> list[int]:
    """Wait until none of `pids` runs, up to `timeout` seconds; returns those still running.
    A zombie counts as gone: it is not reaped here, its owner (subprocess, multiprocessing)
    collects its status."""
    deadline = time.monotonic() + timeout
    while True:
        left = [pid for pid in pids if pid_alive(pid) and not _zombie(pid)]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.1)


def _zombie(pid: int) -> bool:
    try:
        return _read_proc(f"/proc/{pid}/stat").rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


# -- stop means stop ---------------------------------------------------------------------------

_stop_signal: int | None = None


def stop_requested() -> int | None:
    """The signal that asked this process to stop, if one did. Code unwinding from an error
    checks it: a signal landing inside a C call (DuckDB) comes out as that library's error
    ("Query interrupted"), not as Stopped."""
    return _stop_signal


def terminate_descendants(grace: float = 2.0) -> None:
    """SIGTERM everything this process started, SIGKILL what is left after `grace` seconds."""
    pids = descendant_pids()
    signal_pids(pids, signal.SIGTERM)
    signal_pids(wait_gone(pids, grace), signal.SIGKILL)


class Stopped(BaseException):
    """Raised in the main thread by the first SIGTERM/SIGINT. A BaseException, like
    KeyboardInterrupt, so that `except Exception` (one bad file must not stop a batch) does not
    swallow it; the document in hand is abandoned (its transaction rolls back)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class StopOnSignal:
    """SIGTERM and SIGINT stop in bounded time:

    - the first raises Stopped in the main thread (the caller unwinds: abandons the document,
      stops its workers, stops a private server last) and starts a deadline;
    - a second signal, or the deadline passing, kills every process this one started and
      exits at once, with no clean-up that could wait on anything (os._exit: e.g. no attempt
      to deliver queued events to a server already stopped)."""

    def __init__(self, deadline: float = 25.0) -> None:
        self.deadline = deadline
        self.signum: int | None = None
        self._previous: dict[int, object] = {}

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def install(self) -> StopOnSignal:
        """Take SIGTERM and SIGINT (only possible in the main thread; elsewhere a no-op)."""
        if threading.current_thread() is not threading.main_thread():
            return self
        for sig in (signal.SIGTERM, signal.SIGINT):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def uninstall(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def request(self, signum: int) -> None:
        """Note a stop without raising (for code that stops by itself, e.g. an event loop's
        signal handler): the first starts the deadline, a second exits at once."""
        global _stop_signal
        if self.signum is not None:
            self.exit_now(signum)
        self.signum = _stop_signal = signum
        timer = threading.Timer(self.deadline, self.exit_now, args=(signum,))
        timer.daemon = True
        timer.start()

    def _handle(self, signum: int, _frame) -> None:
        self.request(signum)
        raise Stopped(signum)

    def exit_now(self, signum: int | None = None) -> None:
        """Kill everything this process started, then exit without clean-up."""
        signum = signum or self.signum or signal.SIGTERM
        signal_pids(descendant_pids(), signal.SIGKILL)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(128 + signum)
