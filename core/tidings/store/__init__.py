"""The schedule store: pending messages by slot, subject snapshots, sent keys and the delivery log.

Two backends implement one protocol: `MemoryStore` (the embedded default) and `RedisStore`. Pending
messages live here, not as delayed broker messages, because reminders may be due months ahead.

Addresses a provider reported gone are remembered here too, by the identity their channel gives
them (`tidings.plugin_types.Channel.address_key`), so no worker uses one again; the Redis store
keeps them as long as sent keys (`tidings.store.redis.KEEP_SECONDS`).

Plugins keep data of their own here too, each under its namespace (`tidings.store.data.PluginData`):
JSON values by key and lists of strings, written with the same guarantees as everything else.

Pending messages and log entries are typed records (`tidings.store.records`, `tidings.store.entries`):
the memory store keeps them as they are, the Redis store as the JSON the one converter makes of them.

A pending message sits under a stable *slot* key, so scheduling again replaces it (a reschedule),
dropping it removes it (a cancellation) and suspending keeps it out of the due index while keeping
its original time. Each write bumps the slot's *version*, and so does each claim: a dispatch carries
the version it was claimed at, and a stale one does nothing, so when a lease runs out and a scheduler
claims the slot again, the earlier dispatch and its retries stop at their next attempt. A write takes
its version from one counter per store (above the slot's own), so a slot scheduled again after a drop
never gets a version an old dispatch still carries.

Retention (``[tidings] retention``, `set_retention`) bounds what the store keeps of the past, by the
store's clock (the pipeline's: a simulation's virtual clock too), each thing exactly as long as
exactly-once needs it:

- **Pending messages** are never expired: they are the future.
- **Subject snapshots** are kept while anything is pending about the subject (a dispatch reads the
  snapshot at due time, and an older event arriving late is recognised by it), and then for the
  retention after the last thing that happened to the subject: an event, or a message of it
  written, dropped or completed. A late event of a subject gone quiet for longer than the retention
  is planned as a new subject's; what it plans is still guarded by the sent keys (below). With the
  last snapshot of a client the client's index and log index go too.
- **Sent keys** (and attempt marks) are kept for the retention after the send. The pipeline never
  plans a message for a time more than the retention before the event that plans it
  (`tidings.pipeline.intents`: skipped, ``beyond_retention``), and a message is sent no earlier than
  its time. So for an event planned when it happens (a worker takes it within minutes), a key that
  could have expired (sent more than the retention ago) is for a time more than the retention
  before the event, and is not planned again: a message never goes out twice. The one thing the
  retention does not cover is an event published long after it happened (a backfill) that plans a
  message again which was sent more than the retention ago.
- **Seen event ids** are kept for the retention after the event was ingested. They only save work:
  an event replayed after that plans the same pending messages again (scheduling a slot again with
  the same plan changes nothing) and whatever it planned before and was sent is caught by its sent
  key.
- **Delivery-log entries** are kept for the retention after they were recorded: they are history for
  people (`tidings log`, ``--explain``), which nothing of exactly-once reads.

Expiry runs in the store, not by Redis TTLs in real time: `add_event` (once per ingested event)
removes what is past, and `expire` does it on demand. Addresses a provider reported gone are no
history and are kept for a year in real time. `forget_client` erases one client (the right to
erasure, ``tidings forget``): the snapshots of its subjects, their pending messages and the log
entries of it and of its subjects.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from tidings.store.data import DataStore, PluginData

if TYPE_CHECKING:
    from tidings.clock import Clock
    from tidings.store.entries import LogEntry
    from tidings.store.plan import PlanOp, PlanState
    from tidings.store.records import PendingMessage

__all__ = ["PluginData", "ScheduleStore", "open_store"]


class ScheduleStore(DataStore, Protocol):
    """What the pipeline needs from a schedule store, and plugins' own data (`DataStore`, per namespace)."""

    # events and subjects
    def add_event(self, event_id: str) -> None: ...
    def has_event(self, event_id: str) -> bool: ...
    # keeps the snapshot of the latest event, by (occurred_at, order); False when the stored one is later
    def put_subject(self, kind: str, subject: Mapping[str, Any], *, occurred_at: datetime, order: str = "") -> bool: ...
    def subject(self, subject_id: str) -> dict[str, Any] | None: ...
    def client_subjects(self, client_id: str) -> list[dict[str, Any]]: ...
    # the client's bookings (`tidings.store.plan.booking`) in any of `categories` starting after `after`, by
    # subject id: an index by client and category, not a read of every subject the client had
    def client_bookings(self, client_id: str, *, categories: Collection[str], after: datetime) -> list[dict[str, Any]]: ...

    # pending messages: what `schedule` is given comes back from `pending` with its slot, version and
    # send time (in UTC) filled in
    def pending(self, slot: str) -> PendingMessage | None: ...
    def schedule(self, slot: str, *, send_at: datetime | None, message: PendingMessage) -> int: ...
    def drop(self, slot: str) -> PendingMessage | None: ...
    # a claim bumps each slot's version (a dispatch of an earlier claim is stale: one retry chain per
    # message) and keeps it out of the due index for `lease`; `hold` keeps claimed slots out until a
    # later time (never shortening a hold), if still at their versions; returns how many
    def claim_due(self, now: datetime, *, limit: int, lease: timedelta) -> list[tuple[str, int]]: ...
    def hold(self, claims: Collection[tuple[str, int]], *, until: datetime) -> int: ...
    def complete(self, slot: str, version: int) -> bool: ...
    def next_due(self) -> datetime | None: ...
    def count_pending(self) -> int: ...

    # exactly once
    def was_sent(self, key: str) -> bool: ...
    def mark_sent(self, key: str) -> bool: ...
    def mark_attempt(self, key: str) -> bool: ...   # False when this key was attempted before
    def acquire(self, key: str, *, ttl: timedelta) -> bool: ...
    def release(self, key: str) -> None: ...

    # channels that refused a message for good, by idempotency key: channel -> the address refused
    # ("" when any address would be: a template that does not render)
    def refuse(self, key: str, *, channel: str, address: str) -> None: ...
    def refused(self, key: str) -> dict[str, str]: ...

    # addresses a provider reported gone (push subscriptions answered 404/410), by identity
    def mark_gone(self, key: str) -> None: ...
    def gone(self, keys: Collection[str]) -> set[str]: ...   # those of `keys` remembered as gone

    # the delivery log: entries come back as `tidings log` prints them (`tidings.store.entries.entry_json`)
    def record(self, entry: LogEntry) -> None: ...
    def log(self, *, subject: str | None = None, client: str | None = None) -> list[dict[str, Any]]: ...

    # one round trip per ingest plan (`tidings.store.plan`): the planning lock `owner` and the reads (None when
    # another worker holds the lock), then every write in order, atomically, unless a key assumed ``unsent``
    # was sent: then nothing but the lock's release is written, and those keys are returned
    def begin_plan(self, owner: str, *, ttl: timedelta, event_id: str, subject_id: str, slots: Collection[str],
                   client_id: str | None) -> PlanState | None: ...
    def apply_plan(self, ops: Collection[PlanOp]) -> set[str]: ...
    # one round trip per dispatch outcome: `sent` marked sent, `entries` recorded, the slot completed at
    # `version` (False when it was stale: then nothing is completed, the rest is still done), `release` released
    def finish_dispatch(self, slot: str, version: int, *, sent: str | None = None, entries: Sequence[LogEntry] = (),
                        release: str | None = None) -> bool: ...

    # retention and erasure (see above)
    def set_retention(self, retention: timedelta, *, clock: Clock) -> None: ...
    def expire(self) -> int: ...   # removes what expired by the store's clock; returns how many subjects went
    # erases a client's snapshots, pending messages and log entries; counts by "subjects", "pending", "log"
    def forget_client(self, client_id: str) -> dict[str, int]: ...

    def close(self) -> None: ...


def open_store(url: str, *, namespace: str = "tidings", ride_out: bool = False) -> ScheduleStore:
    """Open the store a URL names: ``memory://`` or ``redis://host:port/db``; Redis keys start ``NAMESPACE:``.

    With `ride_out` (a worker's or a scheduler's store), a Redis command waits out a short outage
    (`tidings.store.redis.RedisStore.from_url`).
    """
    if url.startswith("memory://"):
        from tidings.store.memory import MemoryStore
        return MemoryStore()
    if url.startswith(("redis://", "rediss://", "unix://")):
        from tidings.store.redis import RedisStore
        return RedisStore.from_url(url, prefix=f"{namespace}:", ride_out=ride_out)
    raise ValueError(f"{url!r} is not a store URL (use memory:// or redis://host:6379/0)")
