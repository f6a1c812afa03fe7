"""`tidings simulate`: the real pipeline on a virtual clock, with recording transports (PRODUCT §9).

The pipeline's own steps run in the calling thread, one after another, in the order a Dramatiq worker
with one thread takes them from the queue: an event's ingest, then at each due time the claim and the
dispatch of every message claimed, in the order claimed. The actors' functions, the store, the
triggers, the templates and the channel selection are those of production; only the hand-off through
a broker is left out, which would cost three thread switches per event and per due time and add
nothing a simulation shows. (A delivery that fails is not retried: the recording transports never
fail.) The hand-off is kept as `Simulation(threaded=True)`, Dramatiq's `StubBroker` and one worker
thread, so a test can prove both write the same, byte for byte; ``TIDINGS_SIMULATE_THREADED=1`` in the
environment makes `run` (so ``tidings simulate``) take it, for that comparison only.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TextIO

from attrs import define, field, frozen

from tidings.clock import VirtualClock
from tidings.deployment import Deployment, as_deployment
from tidings.errors import EventError
from tidings.intake import EventReader
from tidings.logging import get_logger
from tidings.models import Event
from tidings.pipeline import Pipeline, build_pipeline, events_from_lines
from tidings.recording import RecordingTransport
from tidings.rules import Config
from tidings.store import ScheduleStore
from tidings.store.memory import MemoryStore

if TYPE_CHECKING:
    from dramatiq.brokers.stub import StubBroker

log = get_logger(__name__)

_EXPLAINED = ("skipped", "suspended", "restored", "rescheduled", "dropped", "failed", "scheduled", "ignored")
_FAR = datetime.max.replace(tzinfo=timezone.utc)
# messages a channel took: sent, or queued for staff to send (`Channel.outcome`); a queued one says so
_MESSAGES = ("sent", "queued")
THREADED_ENV = "TIDINGS_SIMULATE_THREADED"   # internal: "1" runs `run` through the StubBroker hand-off (tests compare)


@define
class Simulation:
    """A pipeline on a virtual clock; feed it events, then run it until a time or until nothing is pending.

    Args:
        threaded: through Dramatiq's `StubBroker` and one worker thread, as the pipeline runs with a
            broker (slower; kept to compare against, see the module's docstring).
    """

    deployment: Deployment = field(converter=as_deployment)   # a Config is taken too: its plugins are loaded
    store: ScheduleStore = field(factory=MemoryStore)
    clock: VirtualClock = field(factory=lambda: VirtualClock(datetime(1970, 1, 1, tzinfo=timezone.utc)))
    entries: list[dict[str, Any]] = field(factory=list)
    threaded: bool = field(default=False, kw_only=True)
    pipeline: Pipeline = field(init=False)
    _broker: StubBroker | None = field(init=False, default=None)
    _worker: Any = field(init=False, default=None)

    def __attrs_post_init__(self) -> None:
        transports = {name: RecordingTransport(name, self.clock) for name in self.deployment.config.plugins.channels}
        if self.threaded:
            from dramatiq.brokers.stub import StubBroker

            self._broker = StubBroker()
            self._broker.emit_after("process_boot")
        # without a broker the pipeline runs each step in this thread: publish ingests, enqueue_due dispatches
        self.pipeline = build_pipeline(self._broker, self.deployment, self.store, transports=transports, clock=self.clock)
        self.pipeline.listeners.append(self.entries.append)
        if self._broker is not None:
            from dramatiq import Worker

            # one worker thread: the same actors as production, one message at a time, in order
            self._worker = Worker(self._broker, worker_threads=1, worker_timeout=50)
            self._worker.start()

    def close(self) -> None:
        if self._worker is not None:
            self._worker.stop()

    def feed(self, event: Event) -> None:
        """Run everything due before the event, then the event itself at its time."""
        self.advance(event.occurred_at, inclusive=False)
        self.clock.set(max(self.clock.now(), event.occurred_at))
        self.pipeline.publish(event)
        self._drain()

    def advance(self, until: datetime = _FAR, *, inclusive: bool = True) -> None:
        """Jump from due time to due time, sending what is due, up to `until`."""
        store = self.pipeline.store
        while (due := store.next_due()) is not None and (due <= until if inclusive else due < until):
            self.clock.set(max(self.clock.now(), due))
            self.pipeline.enqueue_due()
            self._drain()
        if until is not _FAR:
            self.clock.set(max(self.clock.now(), until))

    def _drain(self) -> None:
        if self._broker is not None:
            self._broker.join(self.pipeline.queue, fail_fast=True)

    def sent(self) -> list[dict[str, Any]]:
        return [e for e in self.entries if e["status"] == "sent"]


def output_records(entries: Iterable[dict[str, Any]], *, explain: bool) -> Iterator[dict[str, Any]]:
    """The output lines of simulate: messages in the order sent (ties by rule, then recipient)."""
    chosen = [e for e in entries if e["status"] in _MESSAGES or (explain and e["status"] in _EXPLAINED)]
    order = sorted(range(len(chosen)), key=lambda i: (chosen[i]["at"], chosen[i]["status"] not in _MESSAGES,
                                                      chosen[i]["rule"] or "", chosen[i].get("to") or "", i))
    for i in order:
        e = chosen[i]
        if e["status"] in _MESSAGES:
            message = {"at": e["at"], "rule": e["rule"], "channel": e["channel"], "to": e["to"], "subject": e["subject"],
                       "client": e.get("client"), "title": e.get("title"), "text": e.get("text")}
            yield message if e["status"] == "sent" else {**message, "status": e["status"]}
        else:
            record = {"at": e["at"], "rule": e["rule"], "subject": e["subject"], "client": e.get("client"),
                      "status": e["status"], "event": e.get("event"), "reason": e.get("reason")}
            for extra in ("due", "channel", "to", "error", "refused", "detail", "type"):
                if e.get(extra) is not None:
                    record[extra] = e[extra]
            yield record


@frozen
class Run:
    """What one simulation did: every delivery-log entry in order, the events it took, and how many it refused."""

    entries: list[dict[str, Any]]
    events: list[Event]
    rejected: int

    def records(self, *, explain: bool = False) -> list[dict[str, Any]]:
        """The output lines of simulate for this run (with `explain`: skipped, dropped, ... with reasons)."""
        return list(output_records(self.entries, explain=explain))


def run(config: Deployment | Config, lines: Iterable[str], *, until: datetime | None = None, errors: TextIO = sys.stderr,
        store: ScheduleStore | None = None, progress: Callable[[], None] | None = None, threaded: bool | None = None) -> Run:
    """Run events (JSON lines) through the real pipeline on a virtual clock; returns all that happened.

    Args:
        progress: called once per input line read (a progress bar's tick).
        threaded: through a `StubBroker` and a worker thread (see `Simulation`); None: as `THREADED_ENV` says.
    """
    if threaded is None:
        threaded = os.environ.get(THREADED_ENV) == "1"
    sim = Simulation(as_deployment(config), store=store or MemoryStore(), threaded=threaded)
    events: list[Event] = []
    rejected = 0
    # this run's own reader: each unknown key path is printed once per run, beside the rejected lines
    reader = EventReader.for_config(sim.deployment.config, reported=set(), on_unknown=lambda event_id, path: print(
        f"warning: event {event_id or '?'}: {path} is not a key of the event contract (ignored)", file=errors))
    try:
        for number, item in events_from_lines(lines, reader):
            if progress is not None:
                progress()
            if isinstance(item, EventError):
                # a malformed event is reported and skipped; the rest still run (PRODUCT §3)
                print(f"line {number}: {item}", file=errors)
                rejected += 1
                continue
            if until is not None and item.occurred_at > until:
                break
            sim.feed(item)
            events.append(item)
        sim.advance(until or _FAR)
    finally:
        sim.close()
    return Run(entries=sim.entries, events=events, rejected=rejected)


def simulate(config: Deployment | Config, lines: Iterable[str], *, until: datetime | None = None, explain: bool = False,
             errors: TextIO = sys.stderr, store: ScheduleStore | None = None) -> list[dict[str, Any]]:
    """Run events (JSON lines) through the real pipeline on a virtual clock; returns the output records."""
    return run(config, lines, until=until, errors=errors, store=store).records(explain=explain)
