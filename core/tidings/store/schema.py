"""The Redis store's schema version, one per namespace, and the migration of older layouts to the current one.

A namespace's keys follow one layout (`tidings.store.redis`), and the layout has changed: a tidings
that finds keys of an older one would meet them with the wrong commands (``WRONGTYPE`` on the delivery
log, which was a hash and is a stream). So each namespace says which layout it holds in ``schema`` (a
string: the version), and `ensure_schema` brings an older one up to `SCHEMA` when a store is opened:

=======  ==========================================================================================
version  layout
=======  ==========================================================================================
1        the first: the log a hash of sequence numbers (``log``, ``log:seq``, index lists of sequence
         numbers), ``event:{id}``, ``sent:{key}`` and ``attempt:{key}`` strings with a Redis TTL, no
         ``held`` counts and no ``subjects`` expiry index
2        history by the store's clock: the log a stream, seen ids, sent keys and attempts sorted sets
         scored by expiry, ``held``, ``subjects``
3        the client's index of bookings (``book:{client}``), which repeat-visit asks instead of every
         subject of the client; pending payloads may be compact (``tidings.store.records``: readers take
         both forms, so nothing of them is rewritten)
=======  ==========================================================================================

A namespace without ``schema`` is version 1 when it has keys of that layout, version 2 when it has
others, and new (written as `SCHEMA` at once) when it has none. Each step is safe to run again: a
process killed half-way leaves a namespace the next store open finishes, and ``schema`` is written only
after the last step. One process migrates at a time (the ``migrating`` lock); others opening the store
meanwhile wait for it. A namespace of a *newer* schema than this tidings knows is refused
(`SchemaError`): an older tidings must not write into a layout it does not know.

What is moved keeps its meaning: a seen event id, a sent key or an attempt mark is kept for the
retention from the migration (their Redis TTLs were a year and longer), a snapshot for the retention
from the migration unless something is pending about it, and log entries keep their time (their stream
id is the time in their ``at``) and their order.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from tidings.errors import TidingsError
from tidings.store.plan import booking, client_of
from tidings.store.records import pending_subject

if TYPE_CHECKING:
    from redis import Redis

__all__ = ["SCHEMA", "SchemaError", "ensure_schema", "schema_of"]

SCHEMA = 3
MIGRATION_LOCK_SECONDS = 600
_BATCH = 500

# The log of layout 1 (a hash of sequence numbers, the index lists of sequence numbers) made a stream, in
# one script so that nothing reads a half-converted log. ARGV: prefix, then per entry its sequence number
# and its stream id (increasing), then "|" and the index lists' keys.
_LOG_TO_STREAM = """
local P = ARGV[1]
local log = P .. 'log'
if redis.call('TYPE', log)['ok'] ~= 'hash' then
  return 0
end
local ids, entries = {}, {}
local i = 2
while ARGV[i] ~= '|' do
  ids[ARGV[i]] = ARGV[i + 1]
  entries[#entries + 1] = {ARGV[i + 1], redis.call('HGET', log, ARGV[i])}
  i = i + 2
end
redis.call('DEL', log, P .. 'log:seq')
for _, entry in ipairs(entries) do
  if entry[2] then redis.call('XADD', log, entry[1], 'e', entry[2]) end
end
for j = i + 1, #ARGV do
  local index = ARGV[j]
  if redis.call('TYPE', index)['ok'] == 'list' then
    local kept = {}
    for _, seq in ipairs(redis.call('LRANGE', index, 0, -1)) do
      if ids[seq] then kept[#kept + 1] = ids[seq] end
    end
    redis.call('DEL', index)
    for k = 1, #kept, 1000 do
      redis.call('RPUSH', index, unpack(kept, k, math.min(k + 999, #kept)))
    end
  end
end
return #entries
"""


class SchemaError(TidingsError):
    """The namespace holds a layout this tidings cannot use (newer than it knows, or a migration stuck)."""


def schema_of(client: Redis, prefix: str) -> int | None:
    """The namespace's schema version as written, or None when it has none written."""
    found = cast("str | None", client.get(f"{prefix}schema"))
    return int(found) if found is not None else None


def ensure_schema(client: Redis, prefix: str, *, expires: float, wait: float = MIGRATION_LOCK_SECONDS) -> int:
    """Bring the namespace `prefix` to `SCHEMA`, migrating an older layout; returns the version it was at.

    Args:
        expires: the store time (a timestamp) migrated history is kept until: now + the retention.
        wait: how long to wait for another process's migration.

    Raises:
        SchemaError: the namespace is of a newer schema, or another process's migration did not end in `wait`.
    """
    found = schema_of(client, prefix)
    if found == SCHEMA:
        return found
    if found is not None and found > SCHEMA:
        raise SchemaError(f"the store's namespace {prefix[:-1]!r} has schema {found}, newer than this tidings knows "
                          f"({SCHEMA}): run the tidings that wrote it, or a newer one")
    deadline = time.monotonic() + wait
    while not client.set(f"{prefix}migrating", "1", nx=True, ex=MIGRATION_LOCK_SECONDS):
        if schema_of(client, prefix) == SCHEMA:
            return SCHEMA
        if time.monotonic() > deadline:
            raise SchemaError(f"the store's namespace {prefix[:-1]!r} is being migrated by another process, which "
                              f"has not finished in {wait:.0f} s (its lock: {prefix}migrating)")
        time.sleep(0.2)
    try:
        at = schema_of(client, prefix)
        if at is None:
            at = _detect(client, prefix)
        if at == 0:
            at = SCHEMA          # nothing there: a new namespace
        if at < 2:
            _from_1(client, prefix, expires)
        if at < 3:
            _bookings(client, prefix)
        client.set(f"{prefix}schema", str(SCHEMA))
        return at
    finally:
        client.delete(f"{prefix}migrating")


def _pattern(prefix: str) -> str:
    """`prefix` as a literal in a SCAN pattern."""
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in prefix)


def _scan(client: Redis, prefix: str, name: str) -> list[str]:
    return [cast(str, k) for k in client.scan_iter(match=f"{_pattern(prefix)}{name}", count=1000)]


def _detect(client: Redis, prefix: str) -> int:
    """The layout of a namespace without a ``schema`` key: 1, 2, or 0 when it holds nothing."""
    if client.type(f"{prefix}log") == "hash" or client.exists(f"{prefix}log:seq"):
        return 1
    for name in ("event:*", "sent:*", "attempt:*"):
        if next(iter(client.scan_iter(match=f"{_pattern(prefix)}{name}", count=1000)), None) is not None:
            return 1
    return 2 if next(iter(client.scan_iter(match=f"{_pattern(prefix)}*", count=1000)), None) is not None else 0


def _from_1(client: Redis, prefix: str, expires: float) -> None:
    """Layout 1 to 2: the log a stream; seen ids, sent keys and attempts scored by expiry; ``held`` and ``subjects``."""
    if client.type(f"{prefix}log") == "hash":
        raw = cast("dict[str, str]", client.hgetall(f"{prefix}log"))
        args: list[str] = [prefix]
        last = 0
        for seq in sorted(raw, key=int):
            last = max(last, _ms(raw[seq]))      # the entry's own time; never before an earlier entry's
            args += [seq, f"{last}-{seq}"]
        args.append("|")
        args += _scan(client, prefix, "log:subject:*") + _scan(client, prefix, "log:client:*")
        client.eval(_LOG_TO_STREAM, 0, *args)
    client.delete(f"{prefix}log:seq")
    for old, family in (("event:", "events"), ("sent:", "sent"), ("attempt:", "attempts")):
        keys = _scan(client, prefix, f"{old}*")
        for i in range(0, len(keys), _BATCH):
            batch = keys[i:i + _BATCH]
            with client.pipeline(transaction=True) as pipe:
                pipe.zadd(f"{prefix}{family}", {k[len(prefix) + len(old):]: expires for k in batch}, nx=True)
                pipe.delete(*batch)
                pipe.execute()
    # what is pending per subject, counted again from the pending messages; every snapshot kept for the retention
    held: dict[str, int] = {}
    for _, stored in cast("Any", client.hscan_iter(f"{prefix}pending", count=1000)):
        subject = pending_subject(json.loads(stored))
        if isinstance(subject, str):
            held[subject] = held.get(subject, 0) + 1
    with client.pipeline(transaction=True) as pipe:
        pipe.delete(f"{prefix}held")
        if held:
            pipe.hset(f"{prefix}held", mapping=held)   # type: ignore[arg-type]
        pipe.execute()
    ids = [k[len(prefix) + len("subj:"):] for k in _scan(client, prefix, "subj:*")]
    for i in range(0, len(ids), _BATCH):
        client.zadd(f"{prefix}subjects", {i_: expires for i_ in ids[i:i + _BATCH]}, nx=True)


def _bookings(client: Redis, prefix: str) -> None:
    """Layout 2 to 3: the client's index of bookings, from every snapshot kept."""
    keys = _scan(client, prefix, "subj:*")
    for i in range(0, len(keys), _BATCH):
        batch = keys[i:i + _BATCH]
        with client.pipeline(transaction=False) as pipe:
            for key, stored in zip(batch, cast("list[str | None]", client.mget(batch))):
                if stored is None:
                    continue
                snapshot = json.loads(stored)
                owner, booked = client_of(snapshot), booking(snapshot.get("subject") or {})
                if owner and booked is not None:
                    subject_id = key[len(prefix) + len("subj:"):]
                    for category in booked[1]:
                        pipe.zadd(f"{prefix}book:{owner}", {f"{category}\x1f{subject_id}": booked[0]})
            pipe.execute()


def _ms(entry: str) -> int:
    """A log entry's time (its ``at``) in ms; 0 when it has none readable."""
    try:
        return max(0, int(datetime.fromisoformat(json.loads(entry)["at"].replace("Z", "+00:00")).timestamp() * 1000))
    except (ValueError, KeyError, TypeError, AttributeError):
        return 0
