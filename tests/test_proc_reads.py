"""The /proc readers of commune_metrics.core.lifecycle run inside signal handlers (a second
SIGTERM during the first one's clean-up kills the children it finds there). A text-mode open looks
its codec up, which can import a module, and a signal arriving during that import once made the
handler fail with "unknown encoding: ascii" and the run exit 1 instead of 143. So they read bytes."""

from __future__ import annotations

import builtins
import os
import subprocess
import sys

import pytest

from commune_metrics.core import lifecycle


@pytest.fixture
def bytes_only(monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = builtins.open

    def guarded(file, mode="r", *args, **kwargs):
        if str(file).startswith("/proc/") and "b" not in mode:
            raise LookupError("unknown encoding: ascii")  # what a text open met in the handler
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_proc_readers_need_no_codec(bytes_only: None) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in lifecycle.child_pids()
        assert child.pid in lifecycle.descendant_pids()
        assert lifecycle.process_start_time(child.pid) is not None
        assert lifecycle.pid_alive(child.pid)
        assert not lifecycle._zombie(child.pid)
    finally:
        child.kill()
        child.wait()
    assert child.pid not in lifecycle.child_pids()
