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
to mark runs whose process is gone as crashed.
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


def bind_to_parent(parent_pid: int | None = None) -> None:
    """Both guards at once, for a child started by a process of ours (pool worker, flow run)."""
    parent_pid = os.getppid() if parent_pid is None else parent_pid
    die_with_parent(signal.SIGKILL, parent_pid)
    watch_parent(parent_pid)


def bind_to_parent_from_env() -> bool:
    """In a process started by a third party on our behalf (a Prefect flow-run process started
    by `serve`): bind to the parent when $CM_PARENT_PID names it. Returns whether it did."""
    raw = os.environ.get(PARENT_PID_ENV, "")
    if not raw.isdigit() or int(raw) != os.getppid() or int(raw) == os.getpid():
        return False
    bind_to_parent(int(raw))
    return True


# -- is a recorded process still running? ------------------------------------------------------

def _boot_time() -> float | None:
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("btime "):
                    return float(line.split()[1])
    except OSError:
        pass
    return None


def process_start_time(pid: int) -> float | None:
    """When `pid` started (Unix time), from /proc; None when unknown (not Linux) or no such pid."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
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
