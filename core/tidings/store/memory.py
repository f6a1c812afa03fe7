"""The in-memory schedule store: the embedded default, one process, nothing kept across restarts.

Pending messages and log entries are kept as the frozen records they are given; subject snapshots,
which the pipeline hands over as dicts, are copied.
"""

from __future__ import annotations

import copy
import heapq
import threading
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
from attrs import define, field

from tidings.store.entries import LogEntry, entry_json
from tidings.store.records import PendingMessage


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

    _events: set[str] = field(factory=set)
    _subjects: dict[str, dict[str, Any]] = field(factory=dict)
    _by_client: dict[str, set[str]] = field(factory=dict)
    _pending: dict[str, PendingMessage] = field(factory=dict)
    _due: dict[str, float] = field(factory=dict)            # slot -> send time (or lease expiry) as a timestamp
    _heap: list[tuple[float, str]] = field(factory=list)    # lazily cleaned: entries that disagree with _due are stale
    _versions: dict[str, int] = field(factory=dict)
    _sent: set[str] = field(factory=set)
    _attempts: set[str] = field(factory=set)
    _refused: dict[str, dict[str, str]] = field(factory=dict)
    _gone: set[str] = field(factory=set)
    _locks: dict[str, float] = field(factory=dict)
    _log: list[LogEntry] = field(factory=list)
    _values: dict[tuple[str, str], tuple[dict[str, Any], float | None]] = field(factory=dict)  # -> (value, expiry)
    _lists: dict[tuple[str, str], list[str]] = field(factory=dict)
    _mutex: threading.RLock = field(factory=threading.RLock)

    def add_event(self, event_id: str) -> None:
        with self._mutex:
            self._events.add(event_id)

    def has_event(self, event_id: str) -> bool:
        with self._mutex:
            return event_id in self._events

    def put_subject(self, kind: str, subject: Mapping[str, Any], *, occurred_at: datetime, order: str = "") -> bool:
        """Keep this snapshot unless the stored one is of a later event: later `occurred_at`, or the same
        time and a later `order` (a tie-break string compared by code point; equal replaces)."""
        with self._mutex:
            current = self._subjects.get(subject["id"])
            if current is not None and (current["occurred_at"], current.get("order", "")) > (occurred_at.timestamp(), order):
                return False   # an older event arrived late: the newer snapshot stays
            snapshot = {"kind": kind, "occurred_at": occurred_at.timestamp(), "subject": _copied(dict(subject))}
            if order:
                snapshot["order"] = order
            self._subjects[subject["id"]] = snapshot
            client = (subject.get("client") or {}).get("id")
            if client:
                self._by_client.setdefault(client, set()).add(subject["id"])
            return True

    def subject(self, subject_id: str) -> dict[str, Any] | None:
        with self._mutex:
            found = self._subjects.get(subject_id)
            return _copied(found) if found else None

    def client_subjects(self, client_id: str) -> list[dict[str, Any]]:
        with self._mutex:
            snapshots = (self._subjects[s] for s in sorted(self._by_client.get(client_id, ())))
            # the index is only added to: a subject that moved to another client is filtered out here
            return [_copied(s) for s in snapshots if (s["subject"].get("client") or {}).get("id") == client_id]

    def pending(self, slot: str) -> PendingMessage | None:
        with self._mutex:
            return self._pending.get(slot)

    def schedule(self, slot: str, *, send_at: datetime | None, message: PendingMessage) -> int:
        with self._mutex:
            version = self._versions.get(slot, 0) + 1
            self._versions[slot] = version
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
            return self._pending.pop(slot, None)

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
                version = self._versions[slot] = self._versions.get(slot, 0) + 1
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
        return self._add_once(self._sent, key)

    def mark_attempt(self, key: str) -> bool:
        return self._add_once(self._attempts, key)

    def _add_once(self, marks: set[str], key: str) -> bool:
        """Add `key` to `marks`; False when it was there already (one atomic test-and-set)."""
        with self._mutex:
            if key in marks:
                return False
            marks.add(key)
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
            self._log.append(entry)

    def log(self, *, subject: str | None = None, client: str | None = None) -> list[dict[str, Any]]:
        with self._mutex:
            return [entry_json(e) for e in self._log
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

    def close(self) -> None:
        pass

    def _push(self, slot: str, score: float) -> None:
        self._due[slot] = score
        heapq.heappush(self._heap, (score, slot))

