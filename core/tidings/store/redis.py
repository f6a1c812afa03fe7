"""The Redis schedule store: shared by any number of schedulers and workers, kept across restarts.

Every key lives under one prefix (``tidings:`` by default), so tests and several deployments can share
a database. The layout, each name following the prefix:

==========================  ===========  ==========================================================
key                         type         holds
==========================  ===========  ==========================================================
``pending``                 hash         slot -> the pending message as compact JSON (with ``send_at``)
``versions``                hash         slot -> its version, bumped by every `schedule`
``due``                     sorted set   slot, scored by its send time (or lease expiry) timestamp
``subj:{id}``               string       the subject's latest snapshot, JSON (kind, occurred_at, order, subject)
``client:{id}``             set          ids of the client's subjects
``event:{id}``              string       a seen event id, kept for `KEEP_SECONDS`
``sent:{key}``              string       a sent idempotency key, kept for `KEEP_SECONDS`
``lock:{key}``              string       a lock, expiring after its ttl
``refused:{key}``           hash         channel -> the address that refused the message for good, kept for `KEEP_SECONDS`
``gone:{key}``              string       an address a provider reported gone, kept for `KEEP_SECONDS`
``log``                     hash         sequence number -> delivery log entry as JSON
``log:seq``                 string       the last sequence number of the log
``log:subject:{id}``        list         sequence numbers of the subject's entries, oldest first
``log:client:{id}``         list         sequence numbers of the client's entries, oldest first
``data:{ns}:value:{key}``   string       a plugin's JSON value (`tidings.store.data.PluginData`)
``data:{ns}:list:{name}``   list         a plugin's list of strings
==========================  ===========  ==========================================================

Every write that touches more than one key is a Lua script, registered once per store, so a
process killed half-way leaves nothing half-written, and `claim_due` can be called by any number of
schedulers at once without two of them claiming one version of a slot.

Memory: a pending reminder costs its payload JSON plus about 400 bytes of hash, sorted-set and version
entries. ``bench/store_memory.py`` measured 842 bytes per pipeline-shaped reminder (a 433-byte payload)
on Redis 7.0, so a million pending reminders take about 850 MB. A slot's version entry (about 90 bytes)
outlives the slot, because a dispatch claimed before a drop must not match the slot scheduled again.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, cast

import attrs
from attrs import define, field

from tidings.store.entries import LogEntry, entry_json
from tidings.store.records import PendingMessage, pending_from_json, pending_json

if TYPE_CHECKING:
    from redis import Redis
    from redis.commands.core import Script

__all__ = ["KEEP_SECONDS", "OUTAGE_RIDDEN", "RedisStore"]

# Sent keys and seen event ids are kept for 400 days, not forever and not for days: a reminder may be due
# months after it was planned (a repeat-visit invitation after "6mo"), and a visit moved back to its first
# time must still find its earlier message marked sent, so exactly-once has to hold for more than a year.
KEEP_SECONDS = 400 * 24 * 3600

# how often a command is tried again through a connection failure (backoff doubling from 0.05 s to 2 s):
# about OUTAGE_RIDDEN seconds in all, the length of a Redis restart
OUTAGE_RETRIES = 35
OUTAGE_RIDDEN = 60

# KEYS: versions, pending, due. ARGV: slot, payload JSON, score ("" = suspended: out of the due index).
_SCHEDULE = """
local version = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if ARGV[3] == '' then
  redis.call('ZREM', KEYS[3], ARGV[1])
else
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
end
return version
"""

# KEYS: versions, pending, due. ARGV: slot. Returns {payload, version} or nil.
_DROP = """
local payload = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if not payload then
  return nil
end
redis.call('HDEL', KEYS[2], ARGV[1])
return {payload, redis.call('HGET', KEYS[1], ARGV[1])}
"""

# KEYS: versions, pending, due. ARGV: now, lease expiry, limit. Returns {slot1, version1, slot2, ...}.
# The claimed slots are re-scored to the lease expiry instead of removed: a scheduler that dies after
# claiming but before enqueuing loses nothing, the slot just comes due again when the lease runs out.
# Each claim bumps the slot's version, so a dispatch of an earlier claim is stale from then on.
_CLAIM_DUE = """
local slots = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local claimed = {}
for _, slot in ipairs(slots) do
  if redis.call('HEXISTS', KEYS[2], slot) == 1 then
    local version = redis.call('HINCRBY', KEYS[1], slot, 1)
    redis.call('ZADD', KEYS[3], ARGV[2], slot)
    claimed[#claimed + 1] = slot
    claimed[#claimed + 1] = version
  else
    redis.call('ZREM', KEYS[3], slot)
  end
end
return claimed
"""

# KEYS: versions, pending, due. ARGV: until, then slot1, version1, slot2, ... Returns how many were held:
# each slot still at its version is kept out of the due index until `until` (a lease renewed), never
# less long than it already was (GT: a retry's longer hold stays).
_HOLD = """
local held = 0
for i = 2, #ARGV, 2 do
  local slot = ARGV[i]
  if redis.call('HGET', KEYS[1], slot) == ARGV[i + 1] and redis.call('HEXISTS', KEYS[2], slot) == 1 then
    redis.call('ZADD', KEYS[3], 'GT', ARGV[1], slot)
    held = held + 1
  end
end
return held
"""

# KEYS: versions, pending, due. ARGV: slot, version. Returns 1 when completed, 0 when stale or gone.
_COMPLETE = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] or redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then
  return 0
end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
"""

# KEYS: subj:{id}, client:{id} (optional). ARGV: occurred_at timestamp, snapshot JSON, subject id, order.
# An older event arriving late loses to the newer snapshot; at the same time the later order wins, and an
# equal one replaces it, as in MemoryStore. Orders are compared byte by byte (UTF-8: code point order, as
# Python compares them), not with Lua's `<`, which follows the server's locale.
_PUT_SUBJECT = """
local function later(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x > y end
  end
  return #a > #b
end
local current = redis.call('GET', KEYS[1])
if current then
  local stored = cjson.decode(current)
  local at = tonumber(ARGV[1])
  if stored['occurred_at'] > at or (stored['occurred_at'] == at and later(stored['order'] or '', ARGV[4])) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[2])
if KEYS[2] then
  redis.call('SADD', KEYS[2], ARGV[3])
end
return 1
"""

# KEYS: log:seq, log, then the index lists (log:subject:{id}, log:client:{id}) the entry belongs to.
# ARGV: entry JSON. Each entry is stored once and indexed by its sequence number.
_RECORD = """
local seq = redis.call('INCR', KEYS[1])
redis.call('HSET', KEYS[2], seq, ARGV[1])
for i = 3, #KEYS do
  redis.call('RPUSH', KEYS[i], seq)
end
return seq
"""


def _dumps(value: Mapping[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _score(moment: datetime) -> str:
    return repr(moment.timestamp())


@define
class _Scripts:
    schedule: Script
    drop: Script
    claim_due: Script
    hold: Script
    complete: Script
    put_subject: Script
    record: Script

    @classmethod
    def register(cls, client: Redis) -> _Scripts:
        return cls(schedule=client.register_script(_SCHEDULE), drop=client.register_script(_DROP),
                   claim_due=client.register_script(_CLAIM_DUE), hold=client.register_script(_HOLD),
                   complete=client.register_script(_COMPLETE),
                   put_subject=client.register_script(_PUT_SUBJECT), record=client.register_script(_RECORD))


@define
class RedisStore:
    """A `ScheduleStore` in Redis, with the semantics of `MemoryStore`, safe across processes and machines.

    Pending messages and log entries are kept as the JSON of `tidings.store.records`; snapshots
    must be JSON values. What a record holds in an untyped field (a trigger's ``info``, a
    transport's ``details``) comes back as JSON decodes it: tuples as lists.

    Args:
        client: a redis-py client created with ``decode_responses=True``.
        prefix: prepended to every key.
    """

    client: Redis
    prefix: str = "tidings:"
    _scripts: _Scripts = field(init=False)

    @_scripts.default
    def _register_scripts(self) -> _Scripts:
        return _Scripts.register(self.client)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "tidings:", ride_out: bool = False) -> RedisStore:
        """Connect to the Redis a URL names (``redis://host:6379/0``, ``rediss://…``, ``unix://…``).

        Args:
            ride_out: try a command that meets a dropped connection or a restarting Redis again, with
                backoff, for about `OUTAGE_RIDDEN` seconds before it raises (the worker's and the
                scheduler's store): an ingest waits a short outage out with its message in hand, instead
                of failing at a moment when the broker could not take its retry. Without it, redis-py's
                default (three quick retries), so a command run by hand says at once that Redis is away.
        """
        import redis
        from redis.backoff import ExponentialBackoff
        from redis.retry import Retry

        options: dict[str, Any] = {"retry": Retry(ExponentialBackoff(cap=2.0, base=0.05), retries=OUTAGE_RETRIES)} \
            if ride_out else {}
        return cls(redis.Redis.from_url(url, decode_responses=True, **options), prefix=prefix)

    # ------------------------------------------------------------ events and subjects

    def add_event(self, event_id: str) -> None:
        self.client.set(self._key("event", event_id), 1, ex=KEEP_SECONDS)

    def has_event(self, event_id: str) -> bool:
        return bool(self.client.exists(self._key("event", event_id)))

    def put_subject(self, kind: str, subject: Mapping[str, Any], *, occurred_at: datetime, order: str = "") -> bool:
        stored: dict[str, Any] = {"kind": kind, "occurred_at": occurred_at.timestamp(), "subject": dict(subject)}
        if order:
            stored["order"] = order
        keys = [self._key("subj", subject["id"])]
        client = (subject.get("client") or {}).get("id")
        if client:
            keys.append(self._key("client", client))
        return bool(self._scripts.put_subject(keys=keys, args=[repr(occurred_at.timestamp()), _dumps(stored),
                                                               subject["id"], order]))

    def subject(self, subject_id: str) -> dict[str, Any] | None:
        found = cast("str | None", self.client.get(self._key("subj", subject_id)))
        return json.loads(found) if found is not None else None

    def client_subjects(self, client_id: str) -> list[dict[str, Any]]:
        ids = sorted(cast("set[str]", self.client.smembers(self._key("client", client_id))))
        if not ids:
            return []
        found = cast("list[str | None]", self.client.mget([self._key("subj", i) for i in ids]))
        snapshots = (json.loads(s) for s in found if s is not None)
        # the index is only added to: a subject that moved to another client is filtered out here
        return [s for s in snapshots if (s["subject"].get("client") or {}).get("id") == client_id]

    # ------------------------------------------------------------ pending messages

    def pending(self, slot: str) -> PendingMessage | None:
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hget(self._key("pending"), slot)
            pipe.hget(self._key("versions"), slot)
            payload, version = pipe.execute()
        return self._pending(slot, payload, version) if payload is not None else None

    def schedule(self, slot: str, *, send_at: datetime | None, message: PendingMessage) -> int:
        stored = pending_json(attrs.evolve(message, send_at=send_at.astimezone(timezone.utc) if send_at else None))
        version = self._scripts.schedule(keys=self._pending_keys(),
                                         args=[slot, _dumps(stored), _score(send_at) if send_at else ""])
        return int(version)

    def drop(self, slot: str) -> PendingMessage | None:
        found = self._scripts.drop(keys=self._pending_keys(), args=[slot])
        return self._pending(slot, found[0], found[1]) if found else None

    def claim_due(self, now: datetime, *, limit: int, lease: timedelta) -> list[tuple[str, int]]:
        if limit <= 0:
            return []
        until = now.timestamp()
        flat = self._scripts.claim_due(keys=self._pending_keys(),
                                       args=[repr(until), repr(until + lease.total_seconds()), limit])
        return [(flat[i], int(flat[i + 1])) for i in range(0, len(flat), 2)]

    def hold(self, claims: Collection[tuple[str, int]], *, until: datetime) -> int:
        if not claims:
            return 0
        args: list[str] = [_score(until)]
        for slot, version in claims:
            args += [slot, str(version)]
        return int(self._scripts.hold(keys=self._pending_keys(), args=args))

    def complete(self, slot: str, version: int) -> bool:
        return bool(self._scripts.complete(keys=self._pending_keys(), args=[slot, str(version)]))

    def next_due(self) -> datetime | None:
        first = cast("list[tuple[str, float]]", self.client.zrange(self._key("due"), 0, 0, withscores=True))
        return datetime.fromtimestamp(first[0][1], timezone.utc) if first else None

    def count_pending(self) -> int:
        return int(self.client.hlen(self._key("pending")))

    # ------------------------------------------------------------ exactly once

    def was_sent(self, key: str) -> bool:
        return bool(self.client.exists(self._key("sent", key)))

    def mark_sent(self, key: str) -> bool:
        return bool(self.client.set(self._key("sent", key), 1, nx=True, ex=KEEP_SECONDS))

    def mark_attempt(self, key: str) -> bool:
        return bool(self.client.set(self._key("attempt", key), 1, nx=True, ex=KEEP_SECONDS))

    def acquire(self, key: str, *, ttl: timedelta) -> bool:
        # Redis refuses an expiry of 0 ms; a lock that lapses at once is held for 1 ms instead
        return bool(self.client.set(self._key("lock", key), 1, nx=True, px=max(1, int(ttl.total_seconds() * 1000))))

    def release(self, key: str) -> None:
        self.client.delete(self._key("lock", key))

    def refuse(self, key: str, *, channel: str, address: str) -> None:
        name = self._key("refused", key)
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(name, channel, address)
            pipe.expire(name, KEEP_SECONDS)
            pipe.execute()

    def refused(self, key: str) -> dict[str, str]:
        return cast("dict[str, str]", self.client.hgetall(self._key("refused", key)))

    # ------------------------------------------------------------ gone addresses

    def mark_gone(self, key: str) -> None:
        # kept as long as sent keys: a subscription gone today is not sent to for the next year, and a
        # host that never removes it costs one small key, not a request to the push service per message
        self.client.set(self._key("gone", key), 1, ex=KEEP_SECONDS)

    def gone(self, keys: Collection[str]) -> set[str]:
        ordered = list(keys)
        if not ordered:
            return set()
        with self.client.pipeline(transaction=False) as pipe:
            for key in ordered:
                pipe.exists(self._key("gone", key))
            found = pipe.execute()
        return {key for key, exists in zip(ordered, found) if exists}

    # ------------------------------------------------------------ the delivery log

    def record(self, entry: LogEntry) -> None:
        keys = [self._key("log:seq"), self._key("log"), self._key("log:subject", entry.subject)]
        if entry.client is not None:
            keys.append(self._key("log:client", entry.client))
        self._scripts.record(keys=keys, args=[_dumps(entry_json(entry))])

    def log(self, *, subject: str | None = None, client: str | None = None) -> list[dict[str, Any]]:
        if subject is not None or client is not None:
            index = self._key("log:subject", subject) if subject is not None else self._key("log:client", cast(str, client))
            seqs = cast("list[str]", self.client.lrange(index, 0, -1))
            found = cast("list[str | None]", self.client.hmget(self._key("log"), seqs)) if seqs else []
        else:
            everything = cast("dict[str, str]", self.client.hgetall(self._key("log")))
            found = [everything[s] for s in sorted(everything, key=int)]
        entries = [json.loads(e) for e in found if e is not None]
        return [e for e in entries
                if (subject is None or e.get("subject") == subject) and (client is None or e.get("client") == client)]

    # ------------------------------------------------------------ plugins' own data

    def data_get(self, namespace: str, key: str) -> dict[str, Any] | None:
        found = cast("str | None", self.client.get(self._key(f"data:{namespace}:value", key)))
        return json.loads(found) if found is not None else None

    def data_put(self, namespace: str, key: str, value: Mapping[str, Any], *, new: bool = False,
                 ttl: timedelta | None = None) -> bool:
        expiry = max(1, int(ttl.total_seconds() * 1000)) if ttl is not None else None
        return bool(self.client.set(self._key(f"data:{namespace}:value", key), _dumps(value), nx=new, px=expiry))

    def data_delete(self, namespace: str, key: str) -> bool:
        return bool(self.client.delete(self._key(f"data:{namespace}:value", key)))

    def data_append(self, namespace: str, name: str, item: str) -> None:
        self.client.rpush(self._key(f"data:{namespace}:list", name), item)

    def data_items(self, namespace: str, name: str) -> list[str]:
        return cast("list[str]", self.client.lrange(self._key(f"data:{namespace}:list", name), 0, -1))

    def data_remove(self, namespace: str, name: str, item: str) -> bool:
        return bool(self.client.lrem(self._key(f"data:{namespace}:list", name), 0, item))

    def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------ helpers

    def _key(self, name: str, id_: str | None = None) -> str:
        return f"{self.prefix}{name}" if id_ is None else f"{self.prefix}{name}:{id_}"

    def _pending_keys(self) -> list[str]:
        return [self._key("versions"), self._key("pending"), self._key("due")]

    @staticmethod
    def _pending(slot: str, payload: str, version: str | None) -> PendingMessage:
        return pending_from_json(json.loads(payload), slot=slot, version=int(version) if version is not None else 0)
