"""Signals a process obeys: SIGTERM and SIGINT stop it gracefully, SIGHUP asks it to reload its configuration."""

from __future__ import annotations

import signal
import threading
from typing import Any

from attrs import define, field

__all__ = ["Signals"]


@define
class Signals:
    """What the process was asked to do; `wait` returns as soon as it was asked anything."""

    stop: threading.Event = field(factory=threading.Event)
    reload: threading.Event = field(factory=threading.Event)
    _woken: threading.Event = field(factory=threading.Event, init=False)

    @classmethod
    def install(cls) -> Signals:
        """Handle SIGTERM, SIGINT and SIGHUP in this (the main) thread from now on."""
        signals = cls()
        signal.signal(signal.SIGTERM, signals._stop)
        signal.signal(signal.SIGINT, signals._stop)
        signal.signal(signal.SIGHUP, signals._reload)
        return signals

    def _stop(self, *_: Any) -> None:
        self.stop.set()
        self._woken.set()

    def _reload(self, *_: Any) -> None:
        self.reload.set()
        self._woken.set()

    def wait(self, timeout: float | None = None) -> None:
        """Sleep until a signal arrives or `timeout` seconds pass; the caller then looks at `stop` and `reload`."""
        self._woken.wait(timeout)
        self._woken.clear()

    def take_reload(self) -> bool:
        """Whether a reload was asked since the last call."""
        if not self.reload.is_set():
            return False
        self.reload.clear()
        return True
