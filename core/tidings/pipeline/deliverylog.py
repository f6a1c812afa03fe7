"""The delivery log: every decision and outcome stored, logged, and told to whoever listens.

An entry goes to the store first (the "event feed" of a subject, `tidings log`), then becomes one log
line, then is handed to each plugin implementing `tidings_delivery_recorded` and then to the host's
own listeners. Each observer is called by itself inside a guard, as Dramatiq's `emit_after` calls
middleware: in pluggy one raising implementation would stop the others, and here an observer's
fault is logged (`delivery_listener_failed`) and delivery goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from attrs import define, field

from tidings.logging import get_logger
from tidings.store.entries import LogEntry, entry_json

if TYPE_CHECKING:
    from tidings.store import ScheduleStore

__all__ = ["DeliveryLog", "Listener", "Recorder"]

log = get_logger("tidings.pipeline")

Listener = Callable[[dict[str, Any]], Any]


class Recorder(Protocol):
    """Where entries are recorded: the `DeliveryLog`, or a dispatch that writes them with its outcome."""

    def record(self, entry: LogEntry) -> None: ...
_LOGGED = ("rule", "subject", "channel", "reason", "detail", "to", "at")


@define
class DeliveryLog:
    """Records entries: into the store, as a log line, and to the plugins' hook and the host's listeners."""

    store: ScheduleStore
    # (plugin name, implementation) of `tidings_delivery_recorded`, from the registry
    recorders: Sequence[tuple[str, Callable[..., Any]]] = ()
    # called with every entry after the plugins (hosts, simulate, tests)
    listeners: list[Listener] = field(factory=list)

    # entries stored but not yet announced: see `deferred`
    held: list[LogEntry] | None = None

    def record(self, entry: LogEntry) -> None:
        """Store `entry`, log it, and tell every observer; an observer that raises is logged and skipped."""
        self.store.record(entry)
        if self.held is not None:
            self.held.append(entry)
        else:
            self.announce(entry)

    def deferred(self, store: ScheduleStore) -> DeliveryLog:
        """A log recording into `store` that keeps the entries in `held` instead of announcing them: an ingest
        plan announces them (`announce`) once they are written."""
        return DeliveryLog(store, self.recorders, self.listeners, held=[])

    def announce(self, entry: LogEntry) -> None:
        """Log a stored entry and tell every observer."""
        data = entry_json(entry)
        fields = {k: data[k] for k in _LOGGED if data.get(k) is not None}
        if entry.status == "ignored":   # an event nothing reacted to, not a message
            log.info("event_ignored", event_id=data.get("event"), type=data.get("type"), **fields)
        else:
            log.info(f"message_{entry.status}", **fields)
        for name, recorder in self.recorders:
            # each implementation gets a copy of its own: one that edits it changes nothing for the rest
            self._notify(name, lambda: recorder(record=entry_json(entry)), fields)
        for listener in self.listeners:
            self._notify(getattr(listener, "__qualname__", repr(listener)), lambda: listener(data), fields)

    @staticmethod
    def _notify(name: str, call: Callable[[], Any], fields: Mapping[str, Any]) -> None:
        try:
            call()
        except Exception:   # noqa: BLE001 - an observer's fault must never stop a delivery
            log.exception("delivery_listener_failed", listener=name, **fields)
