"""What the store reads and writes for a batch of dispatches, in one round trip each (`tidings.pipeline.dispatch`).

A worker delivers a batch of claimed slots at once. Before any message is sent it reads, for every
slot of the batch, what a dispatch needs to decide (`Claimed`): the pending message if it is still
current at its claimed version (a message whose key was sent is completed there and then), its
subject's snapshot, the channels and addresses that refused it before, and it takes the message's
sending lock. After the batch was delivered, every outcome (`Finish`) is written at once: the key
sent, the log entries, the slot completed or held for its retry, the lock released.

The read also marks each message's first attempt (``KEY|CHANNEL``, for the channel its rule sends
through first when that channel's transport can look a message up): the mark is written before the
request, as `ScheduleStore.mark_attempt` would be, only earlier. A message that is then not sent
through that channel (skipped, muted, its address unusable) leaves a mark that costs a later attempt,
if any, one lookup at the provider, never a message.

`RedisStore` reads a batch in two round trips (its payloads and versions, then one Lua script for the
rest) and writes it in one (``begin_dispatch``, ``finish_dispatches``); any other store is
read and written through its single calls (`begin_each`, `finish_each`), in the order a lone dispatch
made them. Nothing of the per-message exactly-once protocol changes: the attempt is marked before a
request goes out, the sent key after its answer, and a message found attempted is looked up at the
provider before it is sent again (`tidings.pipeline.delivery`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from attrs import field, frozen

from tidings.errors import is_connection_error

if TYPE_CHECKING:
    from tidings.store.entries import LogEntry
    from tidings.store.records import PendingMessage

# a `tidings.store.ScheduleStore`: not imported here, as `tidings.store` imports the Redis store, which imports this
ScheduleStore = Any

__all__ = ["Claimed", "Finish", "begin", "begin_each", "finish", "finish_each", "sending_lock"]


def sending_lock(key: str) -> str:
    """The lock a worker holds while it sends the message of idempotency key `key` (`ScheduleStore.acquire`)."""
    return f"sending:{key}"


@frozen
class Claimed:
    """What `begin_dispatch` read for one claimed slot; `pending` None: nothing to do (stale, suspended, sent)."""

    slot: str
    version: int
    pending: PendingMessage | None = None
    snapshot: dict[str, Any] | None = None          # the subject's latest snapshot
    locked: bool = False                            # this worker took the message's sending lock
    refused: Mapping[str, str] = field(factory=dict)   # channel -> address refused for good by an earlier attempt
    # ``KEY|CHANNEL`` marked attempted by the read -> True when it was not before (`ScheduleStore.mark_attempt`)
    attempted: Mapping[str, bool] = field(factory=dict)
    unreachable: BaseException | None = None        # the store was out of reach for this one (`begin_each`)


@frozen
class Finish:
    """One dispatch's outcome, to be written: `finish_dispatches` writes a batch of them at once."""

    slot: str
    version: int
    entries: Sequence[LogEntry] = ()
    sent: str | None = None             # the idempotency key a provider took
    complete: bool = False              # nothing is pending any more (else: a retry follows, or the lease brings it back)
    release: str | None = None          # the lock to release
    hold_until: datetime | None = None  # keep the slot from the schedulers until then (its retry waits in the broker)


def begin(store: ScheduleStore, claims: Sequence[tuple[str, int]], *, lock_ttl: timedelta,
          attempt: Mapping[str, str] | None = None) -> list[Claimed]:
    """`begin_dispatch` of a store that has it (two round trips for the batch), else `begin_each`.

    Args:
        attempt: rule -> the channel its message is first sent through, when that channel's transport looks
            messages up by key: the read marks ``KEY|CHANNEL`` attempted for each message whose lock it took
            (`Claimed.attempted`), so the delivery does not ask the store again just before its request.
            `begin_each` marks nothing: the delivery marks its attempts itself.
    """
    batch = getattr(store, "begin_dispatch", None)
    if batch is not None:
        found: list[Claimed] = batch(claims, lock_ttl=lock_ttl, attempt=attempt)
        return found
    return begin_each(store, claims, lock_ttl=lock_ttl)


def finish(store: ScheduleStore, outcomes: Sequence[Finish]) -> list[bool]:
    """`finish_dispatches` of a store that has it (one round trip), else `finish_each`; whether each slot was completed."""
    if not outcomes:
        return []
    batch = getattr(store, "finish_dispatches", None)
    if batch is not None:
        done: list[bool] = batch(outcomes)
        return done
    return finish_each(store, outcomes)


def begin_each(store: ScheduleStore, claims: Sequence[tuple[str, int]], *, lock_ttl: timedelta) -> list[Claimed]:
    """What `begin_dispatch` reads, through a store's single calls."""
    out: list[Claimed] = []
    for slot, version in claims:
        try:
            out.append(_read_one(store, slot, version, lock_ttl))
        except Exception as e:
            if not is_connection_error(e):
                raise
            out.append(Claimed(slot, version, unreachable=e))   # the others of the batch go on
    return out


def _read_one(store: ScheduleStore, slot: str, version: int, lock_ttl: timedelta) -> Claimed:
    pending = store.pending(slot)
    if pending is None or pending.version != version or pending.suspended:
        return Claimed(slot, version)   # replaced, dropped or suspended since it was claimed
    if store.was_sent(pending.key):
        store.complete(slot, version)
        return Claimed(slot, version)
    return Claimed(slot, version, pending, store.subject(pending.subject),
                   store.acquire(sending_lock(pending.key), ttl=lock_ttl), store.refused(pending.key))


def finish_each(store: ScheduleStore, outcomes: Sequence[Finish]) -> list[bool]:
    """What `finish_dispatches` writes, through a store's single calls (`finish_dispatch` where it completes)."""
    done: list[bool] = []
    for outcome in outcomes:
        if outcome.complete:
            done.append(store.finish_dispatch(outcome.slot, outcome.version, sent=outcome.sent, entries=outcome.entries,
                                              release=outcome.release))
            continue
        if outcome.sent is not None:
            store.mark_sent(outcome.sent)
        for entry in outcome.entries:
            store.record(entry)
        if outcome.release is not None:
            store.release(outcome.release)
        if outcome.hold_until is not None:
            store.hold([(outcome.slot, outcome.version)], until=outcome.hold_until)
        done.append(False)
    return done

