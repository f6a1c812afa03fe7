"""The in-memory schedule store: the embedded default, one process, nothing kept across restarts.

Pending messages and log entries are kept as the frozen records they are given; subject snapshots,
which the pipeline hands over as dicts, are copied. Retention follows the store's clock as in
`tidings.store.redis`: what expires is scored by its store time in one heap, and `add_event` and
`expire` remove what is past.
"""

from __future__ import annotations

import copy
import heapq
import threading
from collections import deque
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
from attrs import define, field

from tidings.clock import Clock, SystemClock
from tidings.store.entries import LogEntry, entry_json
from tidings.store.plan import PlanOp, PlanState, booking
from tidings.store.records import PendingMessage

_DEFAULT_RETENTION = timedelta(days=90)


_ATOMS = frozenset({str, int, float, bool, type(None)})


def _copied(value: Any) -> Any:
    """A deep copy of a snapshot: its dicts and lists rebuilt, its scalars shared (they are immutable).

    Snapshots are JSON-shaped, and this walks them two to three times faster than `copy.deepcopy`, which
    keeps a memo for shared and cyclic references they cannot have; any other value is deep-copied.
    """
    kind = type(value)
    if kind is dict:
        return {k: v if type(v) in _ATOMS else _copied(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _ATOMS else _copied(v) for v in value]
    if kind in _ATOMS:
        return value
    return copy.deepcopy(value)


@define
class MemoryStore:
    """A `ScheduleStore` in dicts and a heap, safe across worker threads of one process."""

    retention: timedelta = _DEFAULT_RETENTION
    clock: Clock = field(factory=SystemClock)
    _events: dict[str, float] = field(factory=dict)         # seen event id -> when it expires
    _subjects: dict[str, dict[str, Any]] = field(factory=dict)
    _subject_expiry: dict[str, float] = field(factory=dict)  # subject id -> when its snapshot expires
    _held: dict[str, int] = field(factory=dict)             # subject id -> pending messages about it
    _by_client: dict[str, set[str]] = field(factory=dict)
    # the index of bookings: client -> subject id -> (start timestamp, categories), see `tidings.store.plan.booking`
    _bookings: dict[str, dict[str, tuple[float, tuple[str, ...]]]] = field(factory=dict)
    _pending: dict[str, PendingMessage] = field(factory=dict)
    _due: dict[str, float] = field(factory=dict)            # slot -> send time (or lease expiry) as a timestamp
    _heap: list[tuple[float, str]] = field(factory=list)    # lazily cleaned: entries that disagree with _due are stale
    _version: int = 0                                       # the last version given, of any slot
    _sent: dict[str, float] = field(factory=dict)
    _attempts: dict[str, float] = field(factory=dict)
    _refused: dict[str, dict[str, str]] = field(factory=dict)
    _gone: set[str] = field(factory=set)
    _locks: dict[str, float] = field(factory=dict)
    _values: dict[tuple[str, str], tuple[dict[str, Any], float | None]] = field(factory=dict)  # -> (value, expiry)
    _lists: dict[tuple[str, str], list[str]] = field(factory=dict)
    _log: deque[tuple[float, LogEntry]] = field(factory=deque)   # (store time, entry), oldest first
    # (expiry, family, key), lazily cleaned: an entry that disagrees with its family's dict is stale
    _expiring: list[tuple[float, str, str]] = field(factory=list)
    _mutex: threading.RLock = field(factory=threading.RLock)

    def set_retention(self, retention: timedelta, *, clock: Clock) -> None:
        with self._mutex:
            self.retention, self.clock = retention, clock

    def add_event(self, event_id: str) -> None:
        with self._mutex:
            self._keep(self._events, "events", event_id)
            self._sweep()

    def has_event(self, event_id: str) -> bool:
        with self._mutex:
            return event_id in self._events

    def put_subject(self, kind: str, subject: Mapping[str, Any], *, occurred_at: datetime, order: str = "") -> bool:
        """Keep this snapshot unless the stored one is of a later event: later `occurred_at`, or the same
        time and a later `order` (a tie-break string compared by code point; equal replaces)."""
        with self._mutex:
            self._touch(subject["id"])
            current = self._subjects.get(subject["id"])
            if current is not None and (current["occurred_at"], current.get("order", "")) > (occurred_at.timestamp(), order):
                return False   # an older event arrived late: the newer snapshot stays
            snapshot = {"kind": kind, "occurred_at": occurred_at.timestamp(), "subject": _copied(dict(subject))}
            if order:
                snapshot["order"] = order
            before = _client_of(current)
            client = _client_of(snapshot)
            if before and before != client:
                self._by_client.get(before, set()).discard(subject["id"])   # the subject moved to another client
            self._subjects[subject["id"]] = snapshot
            if client:
                self._by_client.setdefault(client, set()).add(subject["id"])
            self._unbook(before, subject["id"])
            booked = booking(snapshot["subject"])
            if client and booked is not None:
                self._bookings.setdefault(client, {})[subject["id"]] = booked
            return True

    def _unbook(self, client: str | None, subject_id: str) -> None:
        found = self._bookings.get(client) if client else None
        if client and found is not None:
            found.pop(subject_id, None)
            if not found:
                del self._bookings[client]

    def subject(self, subject_id: str) -> dict[str, Any] | None:
        with self._mutex:
            found = self._subjects.get(subject_id)
            return _copied(found) if found else None

    def client_subjects(self, client_id: str) -> list[dict[str, Any]]:
        with self._mutex:
            snapshots = (self._subjects[s] for s in sorted(self._by_client.get(client_id, ())))
            return [_copied(s) for s in snapshots if _client_of(s) == client_id]

    def client_bookings(self, client_id: str, *, categories: Collection[str], after: datetime) -> list[dict[str, Any]]:
        moment, wanted = after.timestamp(), set(categories)
        with self._mutex:
            found = self._bookings.get(client_id, {})
            return [_copied(self._subjects[s]) for s in sorted(found)
                    if found[s][0] > moment and not wanted.isdisjoint(found[s][1])]

    def pending(self, slot: str) -> PendingMessage | None:
        with self._mutex:
            return self._pending.get(slot)

    def schedule(self, slot: str, *, send_at: datetime | None, message: PendingMessage) -> int:
        with self._mutex:
            old = self._pending.get(slot)
            # one counter for every slot, and above the slot's own version (a claim bumps that by one)
            self._version = version = max(self._version, old.version if old is not None else 0) + 1
            if old is None or old.subject != message.subject:
                if old is not None:
                    self._release(old.subject)
                self._held[message.subject] = self._held.get(message.subject, 0) + 1
            self._touch(message.subject)
            self._pending[slot] = attrs.evolve(message, slot=slot, version=version,
                                               send_at=send_at.astimezone(timezone.utc) if send_at else None)
            if send_at is None:
                self._due.pop(slot, None)
            else:
                self._push(slot, send_at.timestamp())
            return version

    def drop(self, slot: str) -> PendingMessage | None:
        with self._mutex:
            self._due.pop(slot, None)
            found = self._pending.pop(slot, None)
            if found is not None:
                self._release(found.subject)
            return found

    def claim_due(self, now: datetime, *, limit: int, lease: timedelta) -> list[tuple[str, int]]:
        with self._mutex:
            claimed: list[tuple[str, int]] = []
            until = now.timestamp()
            while self._heap and len(claimed) < limit:
                score, slot = self._heap[0]
                if self._due.get(slot) != score:
                    heapq.heappop(self._heap)
                    continue
                if score > until:
                    break
                heapq.heappop(self._heap)
                # the lease: a claimed slot comes back when nobody completes it in time; the claim bumps
                # the version, so a dispatch of an earlier claim is stale
                self._push(slot, until + lease.total_seconds())
                version = self._pending[slot].version + 1
                self._version = max(self._version, version)   # no later schedule of any slot gives it again
                self._pending[slot] = attrs.evolve(self._pending[slot], version=version)
                claimed.append((slot, version))
            return claimed

    def hold(self, claims: Collection[tuple[str, int]], *, until: datetime) -> int:
        with self._mutex:
            held = 0
            for slot, version in claims:
                found = self._pending.get(slot)
                if found is not None and found.version == version and slot in self._due:
                    self._push(slot, max(until.timestamp(), self._due[slot]))   # never shorter than it was
                    held += 1
            return held

    def complete(self, slot: str, version: int) -> bool:
        with self._mutex:
            found = self._pending.get(slot)
            if found is None or found.version != version:
                return False
            del self._pending[slot]
            self._due.pop(slot, None)
            self._release(found.subject)
            return True

    def next_due(self) -> datetime | None:
        with self._mutex:
            while self._heap and self._due.get(self._heap[0][1]) != self._heap[0][0]:
                heapq.heappop(self._heap)
            return datetime.fromtimestamp(self._heap[0][0], timezone.utc) if self._heap else None

    def count_pending(self) -> int:
        with self._mutex:
            return len(self._pending)

    def was_sent(self, key: str) -> bool:
        with self._mutex:
            return key in self._sent

    def mark_sent(self, key: str) -> bool:
        return self._add_once(self._sent, "sent", key)

    def mark_attempt(self, key: str) -> bool:
        return self._add_once(self._attempts, "attempts", key)

    def _add_once(self, marks: dict[str, float], family: str, key: str) -> bool:
        """Add `key` to `marks` until it expires; False when it was there already (one atomic test-and-set)."""
        with self._mutex:
            if key in marks:
                return False
            self._keep(marks, family, key)
            return True

    def acquire(self, key: str, *, ttl: timedelta) -> bool:
        import time
        with self._mutex:
            now = time.monotonic()
            if self._locks.get(key, 0) > now:
                return False
            self._locks[key] = now + ttl.total_seconds()
            return True

    def release(self, key: str) -> None:
        with self._mutex:
            self._locks.pop(key, None)

    def refuse(self, key: str, *, channel: str, address: str) -> None:
        with self._mutex:
            self._refused.setdefault(key, {})[channel] = address

    def refused(self, key: str) -> dict[str, str]:
        with self._mutex:
            return dict(self._refused.get(key, {}))

    def mark_gone(self, key: str) -> None:
        with self._mutex:
            self._gone.add(key)

    def gone(self, keys: Collection[str]) -> set[str]:
        with self._mutex:
            return {k for k in keys if k in self._gone}

    def record(self, entry: LogEntry) -> None:
        with self._mutex:
            now = self.clock.now().timestamp()
            self._log.append((max(now, self._log[-1][0]) if self._log else now, entry))

    def log(self, *, subject: str | None = None, client: str | None = None) -> list[dict[str, Any]]:
        with self._mutex:
            return [entry_json(e) for _, e in self._log
                    if (subject is None or e.subject == subject) and (client is None or e.client == client)]

    def data_get(self, namespace: str, key: str) -> dict[str, Any] | None:
        with self._mutex:
            found = self._live(namespace, key)
            return copy.deepcopy(found) if found is not None else None

    def data_put(self, namespace: str, key: str, value: Mapping[str, Any], *, new: bool = False,
                 ttl: timedelta | None = None) -> bool:
        import time
        with self._mutex:
            if new and self._live(namespace, key) is not None:
                return False
            expiry = time.monotonic() + ttl.total_seconds() if ttl is not None else None
            self._values[(namespace, key)] = (copy.deepcopy(dict(value)), expiry)
            return True

    def data_delete(self, namespace: str, key: str) -> bool:
        with self._mutex:
            found = self._live(namespace, key)
            self._values.pop((namespace, key), None)
            return found is not None

    def data_append(self, namespace: str, name: str, item: str) -> None:
        with self._mutex:
            self._lists.setdefault((namespace, name), []).append(item)

    def data_items(self, namespace: str, name: str) -> list[str]:
        with self._mutex:
            return list(self._lists.get((namespace, name), ()))

    def data_remove(self, namespace: str, name: str, item: str) -> bool:
        with self._mutex:
            items = self._lists.get((namespace, name), [])
            kept = [i for i in items if i != item]
            self._lists[(namespace, name)] = kept
            return len(kept) != len(items)

    def _live(self, namespace: str, key: str) -> dict[str, Any] | None:
        import time
        found = self._values.get((namespace, key))
        if found is None:
            return None
        value, expiry = found
        if expiry is not None and expiry <= time.monotonic():
            del self._values[(namespace, key)]
            return None
        return value
    def begin_plan(self, owner: str, *, ttl: timedelta, event_id: str, subject_id: str, slots: Collection[str],
                   client_id: str | None) -> PlanState | None:
        """Take the planning lock `owner` and read what planning an event needs (`tidings.store.plan`)."""
        with self._mutex:
            if not self.acquire(owner, ttl=ttl):
                return None
            return PlanState(subject_id=subject_id, seen=event_id in self._events, snapshot=self.subject(subject_id),
                             pending={slot: self._pending.get(slot) for slot in slots}, client_subjects=None,
                             bookings=tuple((s, start, cats) for s, (start, cats) in
                                            sorted(self._bookings.get(client_id, {}).items())) if client_id else None,
                             client_id=client_id)

    def apply_plan(self, ops: Collection[PlanOp]) -> set[str]:
        """Write a plan's ops in order, at once, unless a key it assumed unsent was sent (`tidings.store.plan`)."""
        with self._mutex:
            sent = {op.args[0] for op in ops if op.name == "unsent" and op.args[0] in self._sent}
            if sent:
                for op in ops:
                    if op.name == "release":
                        self.release(op.args[0])
                return sent
            for op in ops:
                if op.name == "unsent":
                    continue
                if op.name == "put_subject":
                    kind, subject, occurred_at, order = op.args
                    self.put_subject(kind, subject, occurred_at=occurred_at, order=order)
                elif op.name == "schedule":
                    slot, send_at, message = op.args
                    self.schedule(slot, send_at=send_at, message=message)
                elif op.name == "drop":
                    self.drop(op.args[0])
                elif op.name == "record":
                    self.record(op.args[0])
                elif op.name == "add_event":
                    self.add_event(op.args[0])
                elif op.name == "release":
                    self.release(op.args[0])
                else:
                    raise ValueError(f"unknown plan op {op.name!r}")
            return set()

    def finish_dispatch(self, slot: str, version: int, *, sent: str | None = None, entries: Sequence[LogEntry] = (),
                        release: str | None = None) -> bool:
        """A dispatch's outcome at once: `sent` marked sent, `entries` recorded, the slot completed, `release` released."""
        with self._mutex:
            if sent is not None:
                self.mark_sent(sent)
            for entry in entries:
                self.record(entry)
            done = self.complete(slot, version)
            if release is not None:
                self.release(release)
            return done

    def expire(self) -> int:
        """Remove what expired by the store's clock (`add_event` does it too); returns how many subjects went."""
        with self._mutex:
            return self._sweep()

    def forget_client(self, client_id: str) -> dict[str, int]:
        """Erase a client: its subjects' snapshots, their pending messages and its log entries; returns the counts."""
        with self._mutex:
            subjects = {s for s in self._by_client.pop(client_id, set()) if _client_of(self._subjects.get(s)) == client_id}
            scope = f"|client:{client_id}|"
            slots = [slot for slot, message in self._pending.items() if scope in slot or message.subject in subjects]
            for slot in slots:
                self.drop(slot)
            self._bookings.pop(client_id, None)
            for subject in subjects:
                del self._subjects[subject]
                self._subject_expiry.pop(subject, None)
                self._held.pop(subject, None)
            kept = deque((at, e) for at, e in self._log if e.client != client_id and e.subject not in subjects)
            removed = len(self._log) - len(kept)
            self._log = kept
            return {"subjects": len(subjects), "pending": len(slots), "log": removed}

    def close(self) -> None:
        pass

    # ------------------------------------------------------------ retention

    def _expires(self) -> float:
        return self.clock.now().timestamp() + self.retention.total_seconds()

    def _keep(self, marks: dict[str, float], family: str, key: str) -> None:
        marks[key] = expires = self._expires()
        heapq.heappush(self._expiring, (expires, family, key))

    def _touch(self, subject: str) -> None:
        """Something happened to `subject`: its snapshot is kept for the retention from now, at least."""
        expires = self._expires()
        if self._subject_expiry.get(subject, float("-inf")) < expires:
            self._subject_expiry[subject] = expires
            heapq.heappush(self._expiring, (expires, "subjects", subject))

    def _release(self, subject: str) -> None:
        left = self._held.get(subject, 0) - 1
        if left > 0:
            self._held[subject] = left
        else:
            self._held.pop(subject, None)
        self._touch(subject)

    def _sweep(self) -> int:
        now = self.clock.now().timestamp()
        cutoff = now - self.retention.total_seconds()
        while self._log and self._log[0][0] < cutoff:
            self._log.popleft()
        forgotten = 0
        families = {"events": self._events, "sent": self._sent, "attempts": self._attempts,
                    "subjects": self._subject_expiry}
        while self._expiring and self._expiring[0][0] < now:
            expires, family, key = heapq.heappop(self._expiring)
            if families[family].get(key) != expires:
                continue   # kept longer since (a later entry is in the heap), or gone already
            if family != "subjects":
                del families[family][key]
            elif self._held.get(key):
                self._touch(key)   # something is pending about it: look again later
            else:
                forgotten += 1
                del self._subject_expiry[key]
                client = _client_of(self._subjects.pop(key, None))
                self._unbook(client, key)
                if client and client in self._by_client:
                    self._by_client[client].discard(key)
                    if not self._by_client[client]:
                        del self._by_client[client]
        return forgotten

    def _push(self, slot: str, score: float) -> None:
        self._due[slot] = score
        heapq.heappush(self._heap, (score, slot))



def _client_of(snapshot: Mapping[str, Any] | None) -> str | None:
    client = (snapshot["subject"].get("client") or {}).get("id") if snapshot is not None else None
    return client or None
