"""``tidings worker --processes N``: N worker processes under one parent that passes signals on and replaces any that dies.

The parent is what a service manager watches (its pid is the pid file's): SIGTERM or SIGINT is passed to
every child, which finishes the messages in hand, and the parent exits when they all have; SIGHUP is
passed on too, and each child reloads the configuration (checked first). A child that exits by itself
(killed, or out of memory) is logged and started again after a backoff.

A parent that is killed itself (SIGKILL, out of memory) cannot pass anything on, so its children must
not need it: on Linux each asks the kernel for a SIGTERM when its parent dies (``PR_SET_PDEATHSIG``), and
wherever it runs a child also watches its parent's pid (`PARENT_ENV`, `parent_gone`) once a second. Either
way it stops as on SIGTERM, giving back the messages it had not begun, instead of running on as an orphan
that nothing supervises.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence

from attrs import define, field

from tidings.logging import get_logger
from tidings.runtime.outages import Backoff
from tidings.runtime.signals import Signals

__all__ = ["PARENT_ENV", "Supervisor", "parent_gone"]

log = get_logger(__name__)

PARENT_ENV = "TIDINGS_SUPERVISOR_PID"   # in a child's environment: the pid of the parent it belongs to
_PR_SET_PDEATHSIG = 1   # linux/prctl.h


def parent_gone() -> bool:
    """Whether this process is a child of a `Supervisor` that is no longer its parent (the parent died)."""
    parent = os.environ.get(PARENT_ENV)
    return parent is not None and parent.isdigit() and os.getppid() != int(parent)


def _die_with(parent: int) -> Callable[[], None] | None:
    """What a child runs before its program: on Linux, a SIGTERM from the kernel when `parent` dies."""
    if not sys.platform.startswith("linux"):
        return None

    def ask() -> None:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:   # it died before the request was made: nobody would send it
            os.kill(os.getpid(), signal.SIGTERM)
    return ask


@define
class Supervisor:
    """Runs `count` copies of the command `argv`, until told to stop."""

    argv: Sequence[str]
    count: int
    signals: Signals
    _children: list[subprocess.Popen[bytes] | None] = field(factory=list, init=False)
    _backoff: Backoff = field(factory=lambda: Backoff(first=0.5, cap=30.0), init=False)

    def run(self) -> int:
        """Start the children and watch them; returns 0 when every child stopped cleanly when asked."""
        self._children = [self._start(i) for i in range(self.count)]
        log.warning("worker_processes_started", processes=self.count, pids=[c.pid for c in self._children if c])
        while not self.signals.stop.is_set():
            self.signals.wait(0.5)
            if self.signals.take_reload():
                self._send(signal.SIGHUP)
            if self.signals.stop.is_set():
                break
            for i, child in enumerate(self._children):
                if child is not None and child.poll() is not None:
                    log.error("worker_process_died", pid=child.pid, exit_code=child.returncode, action="starting another")
                    self.signals.wait(self._backoff.delay())   # a stop asked meanwhile is not kept waiting
                    if self.signals.stop.is_set():
                        self._children[i] = None
                        break
                    self._children[i] = self._start(i)
        self._send(signal.SIGTERM)
        codes = [child.wait() for child in self._children if child is not None]
        log.warning("worker_processes_stopped", exit_codes=codes)
        return 0 if all(code == 0 for code in codes) else 1

    def _start(self, index: int) -> subprocess.Popen[bytes]:
        # the children handle no SIGINT of a terminal's own: the parent passes it on as SIGTERM; and they stop
        # when the parent dies (module docstring)
        parent = os.getpid()
        return subprocess.Popen(list(self.argv), start_new_session=True, env={**os.environ, PARENT_ENV: str(parent)},
                                preexec_fn=_die_with(parent))  # noqa: PLW1509 - async-signal-safe enough: one prctl

    def _send(self, sig: int) -> None:
        for child in self._children:
            if child is not None and child.poll() is None:
                child.send_signal(sig)
