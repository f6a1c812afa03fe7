"""An ingest plan: one event's reads and writes against the store, written back in one round trip.

Planning an event reads the store (the seen event id, the subject's snapshot, the pending messages of
the rules' slots, the client's other subjects) and then writes it (the snapshot, pending messages
scheduled and dropped, log entries, the seen event id). `ScheduleStore.begin_plan` reads all that up
front in one round trip, together with the client's planning lock; a `Plan` answers the triggers and
intents from it, reads what else they ask for through to the store, and keeps every write, in order,
as a `PlanOp`, so `ScheduleStore.apply_plan` writes them all at once: atomically (in Redis one Lua
script), the lock's release last. A plan that raises half-way writes nothing.

Whether a message was sent is not read while planning: the plan assumes it was not (an ``unsent``
op), and `apply_plan` checks every assumption before it writes anything. When one fails (a
visit moved back to the time of a message already sent), nothing is written and the event is
planned again, knowing the key was sent: two round trips in the common case, four in that one.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import attrs
from attrs import define, field

from tidings.store.plan import PlanOp, PlanState, books, client_of, newer_than

if TYPE_CHECKING:
    from tidings.clock import Clock
    from tidings.store import ScheduleStore
    from tidings.store.entries import LogEntry
    from tidings.store.records import PendingMessage

__all__ = ["Plan"]


@define
class Plan:
    """A `ScheduleStore` for planning one event: reads from its `PlanState` (or through), writes kept as ops."""

    store: ScheduleStore
    state: PlanState
    sent: Collection[str] = frozenset()    # keys an earlier try of this plan found sent
    ops: list[PlanOp] = field(factory=list)
    _subjects: dict[str, dict[str, Any] | None] = field(factory=dict)   # snapshots written or read
    _pending: dict[str, PendingMessage | None] = field(factory=dict)
    _seen: set[str] = field(factory=set)
    _assumed: set[str] = field(factory=set)

    def __attrs_post_init__(self) -> None:
        self._pending.update(self.state.pending)

    # ------------------------------------------------------------ events and subjects

    def add_event(self, event_id: str) -> None:
        self._seen.add(event_id)
        self.ops.append(PlanOp("add_event", (event_id,)))

    def has_event(self, event_id: str) -> bool:
        return event_id in self._seen or self.store.has_event(event_id)

    def put_subject(self, kind: str, subject: Mapping[str, Any], *, occurred_at: datetime, order: str = "") -> bool:
        stored = self.subject(subject["id"])
        # not copied: the plan only reads it, the Redis store writes its JSON, the memory store copies what it keeps
        data = dict(subject)
        self.ops.append(PlanOp("put_subject", (kind, data, occurred_at, order)))
        if newer_than(stored, occurred_at, order):
            return False
        snapshot = {"kind": kind, "occurred_at": occurred_at.timestamp(), "subject": data}
        if order:
            snapshot["order"] = order
        self._subjects[subject["id"]] = snapshot
        return True

    # The snapshots a plan hands out are its own, not copies (planning only reads them): not to be changed.

    def subject(self, subject_id: str) -> dict[str, Any] | None:
        if subject_id not in self._subjects:
            self._subjects[subject_id] = self.state.snapshot if subject_id == self.state.subject_id \
                else self.store.subject(subject_id)
        return self._subjects[subject_id]

    def client_subjects(self, client_id: str) -> list[dict[str, Any]]:
        found = self.state.client_subjects
        base = found if found is not None else self.store.client_subjects(client_id)
        # the snapshots this plan wrote stand in for the stored ones
        by_id = {s["subject"]["id"]: s for s in base}
        for subject_id, snapshot in self._subjects.items():
            if snapshot is not None and client_of(snapshot) == client_id:
                by_id[subject_id] = snapshot
            elif snapshot is not None:
                by_id.pop(subject_id, None)
        return [by_id[i] for i in sorted(by_id)]

    def client_bookings(self, client_id: str, *, categories: Collection[str], after: datetime) -> list[dict[str, Any]]:
        moment = after.timestamp()
        base: list[dict[str, Any]] = []
        index = self.state.bookings if client_id == self.state.client_id else None
        if index is None:
            base = self.store.client_bookings(client_id, categories=categories, after=after)
        else:
            # the index read up front says which bookings match; only those the plan has no snapshot of are read
            wanted = set(categories)
            unknown = [s for s, start, cats in index
                       if start > moment and not wanted.isdisjoint(cats) and s not in self._subjects]
            if unknown:
                base = self.store.client_bookings(client_id, categories=categories, after=after)
        # the snapshots this plan wrote (or read) stand in for the stored ones
        by_id = {s["subject"]["id"]: s for s in base}
        for subject_id, snapshot in self._subjects.items():
            if books(snapshot, client_id, categories, moment):
                by_id[subject_id] = snapshot   # type: ignore[assignment]
            else:
                by_id.pop(subject_id, None)
        return [by_id[i] for i in sorted(by_id)]

    # ------------------------------------------------------------ pending messages

    def pending(self, slot: str) -> PendingMessage | None:
        if slot not in self._pending:
            self._pending[slot] = self.store.pending(slot)
        return self._pending[slot]

    def schedule(self, slot: str, *, send_at: datetime | None, message: PendingMessage) -> int:
        self.ops.append(PlanOp("schedule", (slot, send_at, message)))
        # the version is the store's to give, when the plan is applied: nothing that plans reads it
        self._pending[slot] = attrs.evolve(message, slot=slot, version=0,
                                           send_at=send_at.astimezone(timezone.utc) if send_at else None)
        return 0

    def drop(self, slot: str) -> PendingMessage | None:
        found = self.pending(slot)
        self.ops.append(PlanOp("drop", (slot,)))
        self._pending[slot] = None
        return found

    def was_sent(self, key: str) -> bool:
        """Whether `key` was sent: known from an earlier try of this plan, or assumed not, which `apply_plan`
        checks before it writes anything (a plan whose assumption fails is planned again, knowing the key)."""
        if key in self.sent:
            return True
        if key not in self._assumed:
            self._assumed.add(key)
            self.ops.append(PlanOp("unsent", (key,)))
        return False

    # ------------------------------------------------------------ the delivery log and the lock

    def record(self, entry: LogEntry) -> None:
        self.ops.append(PlanOp("record", (entry,)))

    def release(self, key: str) -> None:
        self.ops.append(PlanOp("release", (key,)))

    # ------------------------------------------------------------ the rest, straight to the store

    def log(self, *, subject: str | None = None, client: str | None = None) -> list[dict[str, Any]]:
        return self.store.log(subject=subject, client=client)

    def claim_due(self, now: datetime, *, limit: int, lease: timedelta) -> list[tuple[str, int]]:
        return self.store.claim_due(now, limit=limit, lease=lease)

    def complete(self, slot: str, version: int) -> bool:
        return self.store.complete(slot, version)

    def hold(self, claims: Collection[tuple[str, int]], *, until: datetime) -> int:
        return self.store.hold(claims, until=until)

    def refuse(self, key: str, *, channel: str, address: str) -> None:
        self.store.refuse(key, channel=channel, address=address)

    def refused(self, key: str) -> dict[str, str]:
        return self.store.refused(key)

    # plugins' own data is theirs to write when they please, not part of an ingest plan: straight to the store

    def data_get(self, namespace: str, key: str) -> dict[str, Any] | None:
        return self.store.data_get(namespace, key)

    def data_put(self, namespace: str, key: str, value: Mapping[str, Any], *, new: bool = False,
                 ttl: timedelta | None = None) -> bool:
        return self.store.data_put(namespace, key, value, new=new, ttl=ttl)

    def data_delete(self, namespace: str, key: str) -> bool:
        return self.store.data_delete(namespace, key)

    def data_append(self, namespace: str, name: str, item: str) -> None:
        self.store.data_append(namespace, name, item)

    def data_items(self, namespace: str, name: str) -> list[str]:
        return self.store.data_items(namespace, name)

    def data_remove(self, namespace: str, name: str, item: str) -> bool:
        return self.store.data_remove(namespace, name, item)

    def next_due(self) -> datetime | None:
        return self.store.next_due()

    def count_pending(self) -> int:
        return self.store.count_pending()

    def mark_sent(self, key: str) -> bool:
        return self.store.mark_sent(key)

    def mark_attempt(self, key: str) -> bool:
        return self.store.mark_attempt(key)

    def acquire(self, key: str, *, ttl: timedelta) -> bool:
        return self.store.acquire(key, ttl=ttl)

    def mark_gone(self, key: str) -> None:
        self.store.mark_gone(key)

    def gone(self, keys: Collection[str]) -> set[str]:
        return self.store.gone(keys)

    def set_retention(self, retention: timedelta, *, clock: Clock) -> None:
        self.store.set_retention(retention, clock=clock)

    def expire(self) -> int:
        return self.store.expire()

    def forget_client(self, client_id: str) -> dict[str, int]:
        return self.store.forget_client(client_id)

    def begin_plan(self, owner: str, *, ttl: timedelta, event_id: str, subject_id: str, slots: Collection[str],
                   client_id: str | None) -> PlanState | None:
        return self.store.begin_plan(owner, ttl=ttl, event_id=event_id, subject_id=subject_id, slots=slots,
                                     client_id=client_id)

    def apply_plan(self, ops: Collection[PlanOp]) -> set[str]:
        return self.store.apply_plan(ops)

    def finish_dispatch(self, slot: str, version: int, *, sent: str | None = None, entries: Sequence[LogEntry] = (),
                        release: str | None = None) -> bool:
        return self.store.finish_dispatch(slot, version, sent=sent, entries=entries, release=release)

    def close(self) -> None:
        pass
