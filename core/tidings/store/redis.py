"""The Redis schedule store: shared by any number of schedulers and workers, kept across restarts.

Every key lives under one prefix (``tidings:`` by default), so tests and several deployments can share
a database. The layout, each name following the prefix:

==========================  ===========  ==========================================================
key                         type         holds
==========================  ===========  ==========================================================
``pending``                 hash         slot -> the pending message as compact JSON (`tidings.store.records`: version 2)
``versions``                hash         slot -> its version; field ``""``: the last version given
``due``                     sorted set   slot, scored by its send time (or lease expiry) timestamp
``held``                    hash         subject id -> how many pending messages are about it
``subj:{id}``               string       the subject's latest snapshot, JSON (kind, occurred_at, order, subject; `tidings.store.plan.snapshot_json`)
``subjects``                sorted set   subject id, scored by when its snapshot expires (store time)
``client:{id}``             set          ids of the client's subjects (those whose snapshot is kept)
``book:{id}``               sorted set   the client's bookings (`tidings.store.plan.booking`): ``CATEGORY``, char 31, ``SUBJECT``, scored by start
``events``                  sorted set   seen event id, scored by when it expires
``sent``                    sorted set   sent idempotency key, scored by when it expires
``attempts``                sorted set   attempted key (``KEY|CHANNEL``), scored by when it expires
``lock:{key}``              string       a lock, expiring after its ttl
``refused:{key}``           hash         channel -> the address that refused the message for good, kept for `KEEP_SECONDS`
``gone:{key}``              string       an address a provider reported gone, kept for `KEEP_SECONDS`
``log``                     stream       delivery log entries (field ``e``: `tidings.store.entries.entry_compact`'s JSON array, or the entry's JSON object as earlier versions wrote it), ids by store time
``log:subject:{id}``        list         stream ids of the subject's entries, oldest first
``log:client:{id}``         list         stream ids of the client's entries, oldest first
``data:{ns}:value:{key}``   string       a plugin's JSON value (`tidings.store.data.PluginData`)
``data:{ns}:list:{name}``   list         a plugin's list of strings
``schema``                  string       the layout's version (`tidings.store.schema`: older ones are migrated on opening)
==========================  ===========  ==========================================================

Every write that touches more than one key is a Lua script, registered once per store, so a
process killed half-way leaves nothing half-written, and `claim_due` can be called by any number of
schedulers at once without two of them claiming one version of a slot. Versions come from one
counter, so a slot scheduled again after a drop never gets a version an old dispatch carries, and
nothing of a slot outlives it (a slot written by an earlier tidings, which counted versions per slot,
goes on from its own version).

Retention follows the store's clock (`set_retention`; a simulation's virtual clock too), not Redis
TTLs: each kept thing is scored by the store time it expires at, and a sweep (run by `add_event`,
once per ingested event, and by `expire`) removes what expired. Why each is kept as long as it is,
see `tidings.store`.

Memory: a pending reminder costs its payload JSON (the compact form of `tidings.store.records`) plus
about 540 bytes of hash, sorted-set, version and subject-index entries: ``bench/store_memory.py``
measured 754 bytes per pipeline-shaped reminder (a 213-byte payload; 972 with the first form's 464)
on Redis 7.0. Log entries and snapshots are kept compact too (`tidings.store.entries.entry_compact`,
`tidings.store.plan.snapshot_json`), each read back as it was written. Everything else is history, bounded by the retention: at a constant
load, memory stops growing once the retention has passed (``docs/benchmarks.md``, the growth row).
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections import deque
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, cast

import attrs
from attrs import define, field

from tidings.clock import Clock, SystemClock
from tidings.store.dispatching import Claimed, Finish
from tidings.store.entries import LogEntry, entry_compact, entry_from_compact
from tidings.store.plan import PlanOp, PlanState, booking, snapshot_json, snapshot_read
from tidings.store.records import PendingMessage, pending_from_json, pending_json, pending_subject
from tidings.store.schema import SchemaError

if TYPE_CHECKING:
    from redis import Redis
    from redis.commands.core import Script

__all__ = ["DEFAULT_RETENTION", "KEEP_SECONDS", "OUTAGE_RIDDEN", "RedisStore", "SchemaError"]

# Gone addresses are kept for 400 days in real time (a Redis TTL): they are no delivery history, and a
# subscription gone today is not sent to for the next year.
KEEP_SECONDS = 400 * 24 * 3600
DEFAULT_RETENTION = timedelta(days=90)

# how often a command is tried again through a connection failure (backoff doubling from 0.05 s to 2 s):
# about OUTAGE_RIDDEN seconds in all, the length of a Redis restart
OUTAGE_RETRIES = 35
OUTAGE_RIDDEN = 60

# Every script starts with these functions (ARGV[1] is the key prefix), so each write is one script and
# an ingest plan (`_APPLY`) is one too. A subject's snapshot expires `retention` after the last thing
# that happened to it (an event, a pending message written, dropped or completed), and only when
# nothing is pending about it (`held`). Keys are named in the scripts from the prefix: tidings runs on
# one Redis, not a cluster.
_FUNCTIONS = """
local P = ARGV[1]
local function client_in(subject)
  local client = type(subject) == 'table' and subject['client']
  if type(client) == 'table' and type(client['id']) == 'string' and client['id'] ~= '' then
    return client['id']
  end
  return nil
end
local function client_of(snapshot)
  return client_in(cjson.decode(snapshot)['subject'])
end
-- the client's index of bookings: one member per category of the subject's services (a service without
-- one is its own, 'service:ID'), as `tidings.store.plan.booking` names them
local function categories(subject)
  local out, seen = {}, {}
  local services = type(subject) == 'table' and subject['services']
  if type(services) == 'table' then
    for _, service in ipairs(services) do
      if type(service) == 'table' then
        local category = service['category']
        if type(category) ~= 'string' or category == '' then category = 'service:' .. tostring(service['id']) end
        if not seen[category] then
          seen[category] = true
          out[#out + 1] = category
        end
      end
    end
  end
  return out
end
local function unbook(client, subject, id)
  if client then
    for _, category in ipairs(categories(subject)) do
      redis.call('ZREM', P .. 'book:' .. client, category .. '\\31' .. id)
    end
  end
end
local function touch(subject, expires)
  redis.call('ZADD', P .. 'subjects', 'GT', expires, subject)
end
local function release(subject, expires)
  if redis.call('HINCRBY', P .. 'held', subject, -1) <= 0 then
    redis.call('HDEL', P .. 'held', subject)
  end
  touch(subject, expires)
end
-- the subject of a pending payload: ``s`` in the compact form, ``subject`` in the first (`tidings.store.records`)
local function subject_of(stored)
  local payload = cjson.decode(stored)
  return payload['s'] or payload['subject']
end
local function unpend(slot, stored)
  redis.call('HDEL', P .. 'pending', slot)
  redis.call('HDEL', P .. 'versions', slot)
  redis.call('ZREM', P .. 'due', slot)
  return subject_of(stored)
end

-- score '' = suspended: out of the due index. Returns the new version: one counter for every slot (a
-- slot an earlier tidings wrote, which counted per slot, goes on from its own version)
local function schedule(slot, payload, score, subject, expires)
  local old = redis.call('HGET', P .. 'pending', slot)
  local version = redis.call('HINCRBY', P .. 'versions', '', 1)
  local own = tonumber(redis.call('HGET', P .. 'versions', slot) or '0')
  if own >= version then
    version = own + 1
    redis.call('HSET', P .. 'versions', '', version)
  end
  redis.call('HSET', P .. 'versions', slot, version)
  redis.call('HSET', P .. 'pending', slot, payload)
  if score == '' then
    redis.call('ZREM', P .. 'due', slot)
  else
    redis.call('ZADD', P .. 'due', score, slot)
  end
  local previous = old and subject_of(old)
  if previous ~= subject then
    if previous then release(previous, expires) end
    redis.call('HINCRBY', P .. 'held', subject, 1)
  end
  touch(subject, expires)
  return version
end

-- returns {payload, version} or nil
local function drop(slot, expires)
  local stored = redis.call('HGET', P .. 'pending', slot)
  redis.call('ZREM', P .. 'due', slot)
  if not stored then
    return nil
  end
  local version = redis.call('HGET', P .. 'versions', slot)
  release(unpend(slot, stored), expires)
  return {stored, version}
end

-- returns 1 when completed, 0 when stale or gone
local function complete(slot, version, expires)
  local stored = redis.call('HGET', P .. 'pending', slot)
  if not stored or redis.call('HGET', P .. 'versions', slot) ~= version then
    return 0
  end
  release(unpend(slot, stored), expires)
  return 1
end

-- An older event arriving late loses to the newer snapshot; at the same time the later order wins, and
-- an equal one replaces it, as in MemoryStore. Orders are compared byte by byte (UTF-8: code point
-- order, as Python compares them), not with Lua's `<`, which follows the server's locale.
local function later(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x > y end
  end
  return #a > #b
end
-- `start`: the booking's start timestamp ('' when it is no booking the client's index keeps)
local function put_subject(id, client, at, snapshot, order, expires, start)
  touch(id, expires)
  local key = P .. 'subj:' .. id
  local current = redis.call('GET', key)
  if current then
    local stored = cjson.decode(current)
    local moment = tonumber(at)
    if stored['occurred_at'] > moment or (stored['occurred_at'] == moment and later(stored['order'] or '', order)) then
      return 0
    end
    local before = client_in(stored['subject'])
    if before and before ~= client then
      redis.call('SREM', P .. 'client:' .. before, id)   -- the subject moved to another client
    end
    unbook(before, stored['subject'], id)
  end
  redis.call('SET', key, snapshot)
  if client ~= '' then
    redis.call('SADD', P .. 'client:' .. client, id)
    if start ~= nil and start ~= '' then
      for _, category in ipairs(categories(cjson.decode(snapshot)['subject'])) do
        redis.call('ZADD', P .. 'book:' .. client, start, category .. '\\31' .. id)
      end
    end
  end
  return 1
end

-- The entry's stream id is the store time in ms (after the last id when the clock stood still or went
-- back); the subject's and the client's index lists drop what expired as they grow.
local function record(entry, subject, client, now_ms, oldest_ms)
  local log = P .. 'log'
  local id = redis.pcall('XADD', log, now_ms .. '-*', 'e', entry)
  if type(id) == 'table' and id['err'] then
    local info = redis.call('XINFO', 'STREAM', log)
    local last = '0'
    for i = 1, #info, 2 do
      if info[i] == 'last-generated-id' then last = string.match(info[i + 1], '^(%d+)') end
    end
    id = redis.call('XADD', log, last .. '-*', 'e', entry)
  end
  local oldest = tonumber(oldest_ms)
  local indexes = {P .. 'log:subject:' .. subject}
  if client ~= '' then indexes[2] = P .. 'log:client:' .. client end
  for _, index in ipairs(indexes) do
    redis.call('RPUSH', index, id)
    while true do
      local first = redis.call('LINDEX', index, 0)
      if first and tonumber(string.match(first, '^(%d+)')) < oldest then
        redis.call('LPOP', index)
      else
        break
      end
    end
  end
  return id
end

-- a subject whose snapshot expired: the snapshot, its log index, its place in the client's set (and the
-- client's log index with the client's last subject)
local function forget_subject(id)
  local snapshot = redis.call('GET', P .. 'subj:' .. id)
  if snapshot then
    local subject = cjson.decode(snapshot)['subject']
    local client = client_in(subject)
    unbook(client, subject, id)
    if client then
      redis.call('SREM', P .. 'client:' .. client, id)
      if redis.call('SCARD', P .. 'client:' .. client) == 0 then
        redis.call('DEL', P .. 'log:client:' .. client)
      end
    end
  end
  redis.call('DEL', P .. 'subj:' .. id, P .. 'log:subject:' .. id)
  redis.call('ZREM', P .. 'subjects', id)
end

-- removes what expired by `now`; `rearm`: when a subject with something pending is looked at again
local function sweep(now, oldest_ms, limit, rearm)
  redis.call('ZREMRANGEBYSCORE', P .. 'events', '-inf', now)
  redis.call('ZREMRANGEBYSCORE', P .. 'sent', '-inf', now)
  redis.call('ZREMRANGEBYSCORE', P .. 'attempts', '-inf', now)
  if redis.call('EXISTS', P .. 'log') == 1 then
    redis.call('XTRIM', P .. 'log', 'MINID', oldest_ms)
  end
  local expired = redis.call('ZRANGEBYSCORE', P .. 'subjects', '-inf', now, 'LIMIT', 0, tonumber(limit))
  local forgotten = 0
  for _, id in ipairs(expired) do
    if redis.call('HEXISTS', P .. 'held', id) == 1 then
      redis.call('ZADD', P .. 'subjects', rearm, id)
    else
      forget_subject(id)
      forgotten = forgotten + 1
    end
  end
  return forgotten
end
"""

# ARGV: prefix, slot, payload JSON, score, subject, subject expiry.
_SCHEDULE = _FUNCTIONS + "return schedule(ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])"
# ARGV: prefix, slot, subject expiry.
_DROP = _FUNCTIONS + "return drop(ARGV[2], ARGV[3])"
# A client's bookings in some categories starting after a moment. ARGV: prefix, client id, after (a
# timestamp), then the categories. Returns {subject id, snapshot, ...} by subject id.
_BOOKINGS = _FUNCTIONS + """
local wanted = {}
for i = 4, #ARGV do wanted[ARGV[i]] = true end
local ids, found = {}, {}
for _, member in ipairs(redis.call('ZRANGEBYSCORE', P .. 'book:' .. ARGV[2], '(' .. ARGV[3], '+inf')) do
  local category, id = string.match(member, '^(.*)\\31(.*)$')
  if category and wanted[category] and not ids[id] then
    ids[id] = true
    found[#found + 1] = id
  end
end
table.sort(found)
local out = {}
for _, id in ipairs(found) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('GET', P .. 'subj:' .. id) or false
end
return out
"""
# ARGV: prefix, slot, version, subject expiry.
_COMPLETE = _FUNCTIONS + "return complete(ARGV[2], ARGV[3], ARGV[4])"
# ARGV: prefix, subject id, client id ("" for none), occurred_at, snapshot JSON, order, booking start
# ("" for none), subject expiry.
_PUT_SUBJECT = _FUNCTIONS + "return put_subject(ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[8], ARGV[7])"
# ARGV: prefix, entry JSON, subject, client ("" for none), store time in ms, the oldest time kept in ms.
_RECORD = _FUNCTIONS + "return record(ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])"
# ARGV: prefix, now, the oldest log time kept in ms, limit, now + retention, a seen event id ("" for none).
_SWEEP = _FUNCTIONS + """
if ARGV[6] ~= '' then
  redis.call('ZADD', P .. 'events', ARGV[5], ARGV[6])
end
return sweep(ARGV[2], ARGV[3], ARGV[4], ARGV[5])
"""

# KEYS: pending, due, versions. ARGV: now, lease expiry, limit. Returns {slot1, version1, slot2, ...}.
# The claimed slots are re-scored to the lease expiry instead of removed: a scheduler that dies after
# claiming but before enqueuing loses nothing, the slot just comes due again when the lease runs out.
# Each claim bumps the slot's version, so a dispatch of an earlier claim is stale from then on.
_CLAIM_DUE = """
local slots = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local claimed = {}
for _, slot in ipairs(slots) do
  if redis.call('HEXISTS', KEYS[1], slot) == 1 then
    local version = redis.call('HINCRBY', KEYS[3], slot, 1)
    if version > tonumber(redis.call('HGET', KEYS[3], '') or '0') then
      redis.call('HSET', KEYS[3], '', version)   -- no later schedule of any slot gives this version again
    end
    redis.call('ZADD', KEYS[2], ARGV[2], slot)
    claimed[#claimed + 1] = slot
    claimed[#claimed + 1] = version
  else
    redis.call('ZREM', KEYS[2], slot)
  end
end
return claimed
"""

# KEYS: pending, due, versions. ARGV: until, then slot1, version1, slot2, ... Returns how many were held:
# each slot still at its version is kept out of the due index until `until` (a lease renewed), never
# less long than it already was (GT: a retry's longer hold stays).
_HOLD = """
local held = 0
for i = 2, #ARGV, 2 do
  local slot = ARGV[i]
  if redis.call('HGET', KEYS[3], slot) == ARGV[i + 1] and redis.call('HEXISTS', KEYS[1], slot) == 1 then
    redis.call('ZADD', KEYS[2], 'GT', ARGV[1], slot)
    held = held + 1
  end
end
return held
"""

# A lock taken with a token of the caller's own: taken when free or already the token's. A command whose
# reply was lost with its connection is sent again by redis-py's retry, with the same token: that retry
# finds the lock its first attempt took, and takes it (a plain SET NX would find it held, by itself,
# and wait for it to lapse: a lease, five minutes by default). Returns true when taken.
_TAKE_LOCK = """
local function take_lock(key, token, ttl)
  local holder = redis.call('GET', key)
  if holder and holder ~= token then
    return false
  end
  redis.call('SET', key, token, 'PX', ttl)
  return true
end
"""
# A write whose reply was lost with its connection is sent again by redis-py's retry: a script that writes
# log entries (or anything else that is not idempotent) takes a token of its call's own, keeps its answer
# under it for a few minutes, and a second run with that token only returns the answer of the first. The
# store names the tokens of its calls answered since (space-separated) in its next such call, which
# forgets them: an answer is kept only until its call has surely heard it.
_ANSWER_ONCE = """
local function forget_answers(tokens)
  for token in string.gmatch(tokens, '%S+') do
    redis.call('DEL', P .. 'answer:' .. token)
  end
end
local function answered(token)
  local earlier = redis.call('GET', P .. 'answer:' .. token)
  return earlier and cjson.decode(earlier) or nil
end
local function answer(token, value)
  redis.call('SET', P .. 'answer:' .. token, cjson.encode(value), 'PX', 300000)
  return value
end
"""


def _answered_once(*, token: int, forget: int) -> str:
    """`_ANSWER_ONCE` and a script's first lines: the answers named by ARGV[`forget`] forgotten, and the
    answer kept under the token ARGV[`token`] returned, when this call ran before."""
    return _ANSWER_ONCE + f"""
forget_answers(ARGV[{forget}])
local earlier = answered(ARGV[{token}])
if earlier then
  return earlier
end
"""


# KEYS: the lock. ARGV: token, ttl in ms. Returns 1 when taken, else 0.
_ACQUIRE = _TAKE_LOCK + "return take_lock(KEYS[1], ARGV[1], ARGV[2]) and 1 or 0"

# An ingest plan's reads and its client's lock, in one round trip. ARGV: prefix, lock key, lock token, ttl in
# ms, event id, subject id, client id ("" for none), then the slots. Returns false when the lock is held,
# else {seen, snapshot, {payload, version, ...} per slot, {member, start, ...} of the client's index of bookings}.
_BEGIN_PLAN = _FUNCTIONS + _TAKE_LOCK + """
if not take_lock(P .. 'lock:' .. ARGV[2], ARGV[3], ARGV[4]) then
  return false
end
-- every slot's payload and version in two commands, not two per slot
local pending = {}
if #ARGV >= 8 then
  local slots = {unpack(ARGV, 8)}
  local payloads = redis.call('HMGET', P .. 'pending', unpack(slots))
  local versions = redis.call('HMGET', P .. 'versions', unpack(slots))
  for i = 1, #slots do
    pending[#pending + 1] = payloads[i]
    pending[#pending + 1] = versions[i]
  end
end
-- not the client's subjects: their index of bookings (members and scores), which a plan answers repeat-visit from
local subjects = {}
if ARGV[7] ~= '' then
  subjects = redis.call('ZRANGE', P .. 'book:' .. ARGV[7], 0, -1, 'WITHSCORES')
end
local seen = redis.call('ZSCORE', P .. 'events', ARGV[5]) and 1 or 0
return {seen, redis.call('GET', P .. 'subj:' .. ARGV[6]) or false, pending, subjects}
"""

# An ingest plan's writes, in order, then the sweep when it marked its event seen; unless a key the plan
# assumed unsent was sent: then only the lock is released, and those keys are returned. ARGV: prefix,
# now, the oldest log time kept in ms, sweep limit, now + retention, store time in ms, the ops as JSON.
# A plan's event found seen has been applied already, by this very call: its reply was lost with its
# connection and redis-py sent it again (the client's lock, held from `_BEGIN_PLAN` on, kept anyone
# else from marking that event); it is not applied twice (its log entries would be).
_APPLY = _FUNCTIONS + """
local expires, now_ms, oldest_ms = ARGV[5], ARGV[6], ARGV[3]
local ops = cjson.decode(ARGV[7])
for _, op in ipairs(ops) do
  if op[1] == 'add_event' and redis.call('ZSCORE', P .. 'events', op[2]) then
    return {}
  end
end
local sent = {}
for _, op in ipairs(ops) do
  if op[1] == 'unsent' and redis.call('ZSCORE', P .. 'sent', op[2]) then
    sent[#sent + 1] = op[2]
  end
end
if #sent > 0 then
  for _, op in ipairs(ops) do
    if op[1] == 'release' then redis.call('DEL', P .. 'lock:' .. op[2]) end
  end
  return sent
end
local seen = false
for _, op in ipairs(ops) do
  local name = op[1]
  if name == 'unsent' then
    -- checked above
  elseif name == 'put_subject' then
    put_subject(op[2], op[3], op[4], op[5], op[6], expires, op[7])
  elseif name == 'schedule' then
    schedule(op[2], op[3], op[4], op[5], expires)
  elseif name == 'drop' then
    drop(op[2], expires)
  elseif name == 'record' then
    record(op[2], op[3], op[4], now_ms, oldest_ms)
  elseif name == 'add_event' then
    redis.call('ZADD', P .. 'events', expires, op[2])
    seen = true
  elseif name == 'release' then
    redis.call('DEL', P .. 'lock:' .. op[2])
  else
    return redis.error_reply('unknown plan op ' .. tostring(name))
  end
end
if seen then
  sweep(ARGV[2], oldest_ms, ARGV[4], expires)
end
return {}
"""

# A dispatch's outcome in one round trip: the key marked sent (unless ""), the entries recorded, the
# slot completed at its version, the sending lock released (unless ""). ARGV: prefix, slot, version,
# sent key, lock key, now + retention, store time in ms, the oldest log time kept in ms, the call's token
# (`_ANSWER_ONCE`), the tokens answered since, then per entry: its JSON, subject, client (""). Returns 1
# when the slot was completed, 0 when it was stale.
_FINISH_DISPATCH = _FUNCTIONS + _answered_once(token=9, forget=10) + """
local expires = ARGV[6]
if ARGV[4] ~= '' then
  redis.call('ZADD', P .. 'sent', 'NX', expires, ARGV[4])
end
for i = 11, #ARGV, 3 do
  record(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[7], ARGV[8])
end
local done = complete(ARGV[2], ARGV[3], expires)
if ARGV[5] ~= '' then
  redis.call('DEL', P .. 'lock:' .. ARGV[5])
end
return answer(ARGV[9], done)
"""

# A batch of dispatches' checks and sending locks, after its payloads were read (`tidings.store.dispatching`).
# ARGV: prefix, lock ttl in ms, now + retention, the locks' token (`_TAKE_LOCK`: a retry after a lost answer
# takes the locks its first attempt took), then per message: slot, version, idempotency key, subject, the
# channel to mark attempted ("" for none). Returns per message {state, snapshot, locked, refused,
# attempted}: state 0 when the slot changed since (stale or dropped), 2 when its key was sent (the slot is
# completed here), else 1; refused is the flat channel -> address hash of the message's refusals;
# attempted, when its lock was taken and a channel was named: 1 when ``KEY|CHANNEL`` was marked attempted
# now, 0 when it was before, else -1.
_BEGIN_DISPATCH = _FUNCTIONS + _TAKE_LOCK + """
local out = {}
for i = 5, #ARGV, 5 do
  local slot, version, key, subject, channel = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local item = {0, false, 0, {}, -1}
  if redis.call('HGET', P .. 'versions', slot) == version and redis.call('HEXISTS', P .. 'pending', slot) == 1 then
    if redis.call('ZSCORE', P .. 'sent', key) then
      complete(slot, version, ARGV[3])
      item[1] = 2
    else
      item[1] = 1
      item[2] = redis.call('GET', P .. 'subj:' .. subject) or false
      item[3] = take_lock(P .. 'lock:sending:' .. key, ARGV[4], ARGV[2]) and 1 or 0
      item[4] = redis.call('HGETALL', P .. 'refused:' .. key)
      if item[3] == 1 and channel ~= '' then
        item[5] = redis.call('ZADD', P .. 'attempts', 'NX', ARGV[3], key .. '|' .. channel)
      end
    end
  end
  out[#out + 1] = item
end
return out
"""

# A batch of dispatches' outcomes, in one round trip. ARGV: prefix, now + retention, store time in ms,
# the oldest log time kept in ms, the outcomes as JSON, the call's token and the tokens answered since
# (`_ANSWER_ONCE`). The outcomes: [[slot, version, sent key, lock, complete,
# hold score, [[entry JSON, subject, client], ...]], ...] ("" for no key, lock, hold). Per outcome, in
# that order: the key marked sent, the entries recorded, the slot completed, the lock released, the
# slot held. Returns per outcome 1 when its slot was completed, else 0.
_FINISH_DISPATCHES = _FUNCTIONS + _answered_once(token=6, forget=7) + """
local expires, now_ms, oldest_ms = ARGV[2], ARGV[3], ARGV[4]
local done = {}
for _, o in ipairs(cjson.decode(ARGV[5])) do
  local slot, version = o[1], o[2]
  if o[3] ~= '' then
    redis.call('ZADD', P .. 'sent', 'NX', expires, o[3])
  end
  for _, e in ipairs(o[7]) do
    record(e[1], e[2], e[3], now_ms, oldest_ms)
  end
  local completed = 0
  if o[5] == 1 then
    completed = complete(slot, version, expires)
  end
  if o[4] ~= '' then
    redis.call('DEL', P .. 'lock:' .. o[4])
  end
  if o[6] ~= '' and redis.call('HGET', P .. 'versions', slot) == version and redis.call('HEXISTS', P .. 'pending', slot) == 1 then
    redis.call('ZADD', P .. 'due', 'GT', o[6], slot)
  end
  done[#done + 1] = completed
end
return answer(ARGV[6], done)
"""

# ARGV: prefix, client id, then the slots to drop. Erases the client's subjects (snapshots and log
# indexes), the given pending slots and the client's log entries. Returns {subjects, pending, log entries}.
_FORGET_CLIENT = _FUNCTIONS + """
local client = ARGV[2]
local removed = {0, 0, 0}
local ids = {}
local function drop_log(index)
  for _, id in ipairs(redis.call('LRANGE', index, 0, -1)) do
    if not ids[id] then
      ids[id] = true
      removed[3] = removed[3] + redis.call('XDEL', P .. 'log', id)
    end
  end
  redis.call('DEL', index)
end
for i = 3, #ARGV do
  local stored = redis.call('HGET', P .. 'pending', ARGV[i])
  if stored then
    local subject = unpend(ARGV[i], stored)
    if redis.call('HINCRBY', P .. 'held', subject, -1) <= 0 then
      redis.call('HDEL', P .. 'held', subject)
    end
    removed[2] = removed[2] + 1
  end
end
for _, subject in ipairs(redis.call('SMEMBERS', P .. 'client:' .. client)) do
  local snapshot = redis.call('GET', P .. 'subj:' .. subject)
  if snapshot and client_of(snapshot) == client then
    drop_log(P .. 'log:subject:' .. subject)
    redis.call('DEL', P .. 'subj:' .. subject)
    redis.call('ZREM', P .. 'subjects', subject)
    redis.call('HDEL', P .. 'held', subject)
    removed[1] = removed[1] + 1
  end
end
redis.call('DEL', P .. 'client:' .. client, P .. 'book:' .. client)
drop_log(P .. 'log:client:' .. client)
return removed
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
    sweep: Script
    begin_plan: Script
    acquire: Script
    apply: Script
    finish_dispatch: Script
    begin_dispatch: Script
    finish_dispatches: Script
    forget_client: Script
    bookings: Script

    @classmethod
    def register(cls, client: Redis) -> _Scripts:
        sources = {"schedule": _SCHEDULE, "drop": _DROP, "claim_due": _CLAIM_DUE, "hold": _HOLD, "complete": _COMPLETE,
                   "put_subject": _PUT_SUBJECT, "record": _RECORD, "sweep": _SWEEP, "begin_plan": _BEGIN_PLAN,
                   "acquire": _ACQUIRE, "apply": _APPLY, "finish_dispatch": _FINISH_DISPATCH, "begin_dispatch": _BEGIN_DISPATCH,
                   "finish_dispatches": _FINISH_DISPATCHES, "forget_client": _FORGET_CLIENT, "bookings": _BOOKINGS}
        return cls(**{name: client.register_script(source) for name, source in sources.items()})


@define
class RedisStore:
    """A `ScheduleStore` in Redis, with the semantics of `MemoryStore`, safe across processes and machines.

    Pending messages and log entries are kept as the JSON of `tidings.store.records`; snapshots
    must be JSON values. What a record holds in an untyped field (a trigger's ``info``, a
    transport's ``details``) comes back as JSON decodes it: tuples as lists.

    Args:
        client: a redis-py client created with ``decode_responses=True``.
        prefix: prepended to every key.
        retention: how long history is kept (`tidings.store`); `set_retention` changes it.
        clock: the store's clock, which retention follows.
    """

    client: Redis
    prefix: str = "tidings:"
    retention: timedelta = DEFAULT_RETENTION
    clock: Clock = field(factory=SystemClock)
    sweep_limit: int = 200            # expired subjects forgotten per sweep, at most
    _scripts: _Scripts = field(init=False)
    _schema_known: bool = field(default=False, init=False)   # the namespace's schema checked (`migrate`)
    _answered: deque[str] = field(factory=deque, init=False)   # tokens of calls answered, to forget (`_ANSWER_ONCE`)

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

        from tidings.store.connections import RidingOutPool

        options: dict[str, Any] = {"retry": Retry(ExponentialBackoff(cap=2.0, base=0.05), retries=OUTAGE_RETRIES)} \
            if ride_out else {}
        pool = RidingOutPool.from_url(url, decode_responses=True, **options)
        store = cls(redis.Redis(connection_pool=pool), prefix=prefix)
        # the namespace's schema, checked (and an older layout migrated) on opening, on a connection that does
        # not wait an outage out: when Redis is away now, the store's first command that needs it checks it
        probe = redis.Redis.from_url(url, decode_responses=True)
        try:
            store.migrate(client=probe)
        except (redis.ConnectionError, redis.TimeoutError):
            pass
        finally:
            probe.close()
        return store

    def migrate(self, *, client: Redis | None = None) -> int:
        """Bring the namespace to the current schema (`tidings.store.schema`): returns the version it was at.

        Raises:
            SchemaError: the namespace is of a newer schema than this tidings knows.
        """
        from tidings.store.schema import ensure_schema
        found = ensure_schema(client or self.client, self.prefix, expires=float(self._expires()))
        self._schema_known = True
        return found

    def _ensure(self) -> None:
        if not self._schema_known:
            self.migrate()

    def set_retention(self, retention: timedelta, *, clock: Clock) -> None:
        self.retention, self.clock = retention, clock

    # ------------------------------------------------------------ events and subjects

    def add_event(self, event_id: str) -> None:
        self._sweep(event_id)

    def has_event(self, event_id: str) -> bool:
        return self.client.zscore(self._key("events"), event_id) is not None

    def put_subject(self, kind: str, subject: Mapping[str, Any], *, occurred_at: datetime, order: str = "") -> bool:
        self._ensure()
        return bool(self._scripts.put_subject(keys=[], args=[self.prefix, *self._subject_args(kind, subject, occurred_at, order),
                                                             self._expires()]))

    def subject(self, subject_id: str) -> dict[str, Any] | None:
        found = cast("str | None", self.client.get(self._key("subj", subject_id)))
        return snapshot_read(found) if found is not None else None

    def client_subjects(self, client_id: str) -> list[dict[str, Any]]:
        ids = sorted(cast("set[str]", self.client.smembers(self._key("client", client_id))))
        if not ids:
            return []
        found = cast("list[str | None]", self.client.mget([self._key("subj", i) for i in ids]))
        return _of_client(client_id, found)

    def client_bookings(self, client_id: str, *, categories: Collection[str], after: datetime) -> list[dict[str, Any]]:
        wanted = list(dict.fromkeys(categories))
        if not wanted:
            return []
        flat = self._scripts.bookings(keys=[], args=[self.prefix, client_id, repr(after.timestamp()), *wanted])
        return _of_client(client_id, flat[1::2])

    # ------------------------------------------------------------ pending messages

    def pending(self, slot: str) -> PendingMessage | None:
        self._ensure()
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hget(self._key("pending"), slot)
            pipe.hget(self._key("versions"), slot)
            payload, version = pipe.execute()
        return self._pending(slot, payload, version) if payload is not None else None

    def schedule(self, slot: str, *, send_at: datetime | None, message: PendingMessage) -> int:
        version = self._scripts.schedule(keys=[], args=[self.prefix, *self._schedule_args(slot, send_at, message),
                                                        self._expires()])
        return int(version)

    def drop(self, slot: str) -> PendingMessage | None:
        found = self._scripts.drop(keys=[], args=[self.prefix, slot, self._expires()])
        return self._pending(slot, found[0], found[1]) if found else None

    def claim_due(self, now: datetime, *, limit: int, lease: timedelta) -> list[tuple[str, int]]:
        self._ensure()
        if limit <= 0:
            return []
        until = now.timestamp()
        flat = self._scripts.claim_due(keys=[self._key("pending"), self._key("due"), self._key("versions")],
                                       args=[repr(until), repr(until + lease.total_seconds()), limit])
        return [(flat[i], int(flat[i + 1])) for i in range(0, len(flat), 2)]

    def hold(self, claims: Collection[tuple[str, int]], *, until: datetime) -> int:
        if not claims:
            return 0
        args: list[str] = [_score(until)]
        for slot, version in claims:
            args += [slot, str(version)]
        return int(self._scripts.hold(keys=[self._key("pending"), self._key("due"), self._key("versions")], args=args))

    def complete(self, slot: str, version: int) -> bool:
        return bool(self._scripts.complete(keys=[], args=[self.prefix, slot, str(version), self._expires()]))

    def next_due(self) -> datetime | None:
        first = cast("list[tuple[str, float]]", self.client.zrange(self._key("due"), 0, 0, withscores=True))
        return datetime.fromtimestamp(first[0][1], timezone.utc) if first else None

    def count_pending(self) -> int:
        return int(self.client.hlen(self._key("pending")))

    # ------------------------------------------------------------ exactly once

    def was_sent(self, key: str) -> bool:
        return self.client.zscore(self._key("sent"), key) is not None

    def mark_sent(self, key: str) -> bool:
        return bool(self.client.zadd(self._key("sent"), {key: float(self._expires())}, nx=True))

    def mark_attempt(self, key: str) -> bool:
        return bool(self.client.zadd(self._key("attempts"), {key: float(self._expires())}, nx=True))

    def acquire(self, key: str, *, ttl: timedelta) -> bool:
        # a token of this call's own: its retry after a lost reply takes the lock its first attempt took
        return bool(self._scripts.acquire(keys=[self._key("lock", key)], args=[uuid.uuid4().hex, _ms(ttl)]))

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
        # kept for a year: a subscription gone today is not sent to again, and a host that never removes
        # it costs one small key, not a request to the push service per message
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
        self._ensure()
        now_ms, oldest_ms = self._log_times()
        self._scripts.record(keys=[], args=[self.prefix, *_entry_args(entry), now_ms, oldest_ms])

    def log(self, *, subject: str | None = None, client: str | None = None) -> list[dict[str, Any]]:
        self._ensure()
        if subject is not None or client is not None:
            index = self._key("log:subject", subject) if subject is not None else self._key("log:client", cast(str, client))
            ids = cast("list[str]", self.client.lrange(index, 0, -1))
            with self.client.pipeline(transaction=False) as pipe:
                for id_ in ids:
                    pipe.xrange(self._key("log"), id_, id_)
                found = [item for items in pipe.execute() for item in items] if ids else []
        else:
            found = cast("list[Any]", self.client.xrange(self._key("log")))
        entries = [_entry_read(fields["e"]) for _, fields in found]
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

    # ------------------------------------------------------------ one round trip for a plan, one for an outcome

    def begin_plan(self, owner: str, *, ttl: timedelta, event_id: str, subject_id: str, slots: Collection[str],
                   client_id: str | None) -> PlanState | None:
        """Take the planning lock `owner` and read what planning an event needs, in one round trip (`tidings.store.plan`)."""
        self._ensure()
        ordered = list(slots)
        found = self._scripts.begin_plan(keys=[], args=[self.prefix, owner, uuid.uuid4().hex, _ms(ttl), event_id,
                                                        subject_id, client_id or "", *ordered])
        if not found:
            return None
        seen, snapshot, flat, booked = found
        pending = {slot: self._pending(slot, flat[2 * i], flat[2 * i + 1]) if flat[2 * i] is not None else None
                   for i, slot in enumerate(ordered)}
        # not the client's subjects: their index of bookings, which the plan answers `client_bookings` from
        bookings: dict[str, tuple[float, list[str]]] = {}
        for member, score in zip(booked[::2], booked[1::2]):
            category, _, subject = member.rpartition("\x1f")
            bookings.setdefault(subject, (float(score), []))[1].append(category)
        return PlanState(subject_id=subject_id, seen=bool(seen), snapshot=snapshot_read(snapshot) if snapshot is not None else None,
                         pending=pending, client_subjects=None,
                         bookings=tuple((s, start, tuple(cats)) for s, (start, cats) in sorted(bookings.items()))
                         if client_id else None, client_id=client_id)

    def apply_plan(self, ops: Collection[PlanOp]) -> set[str]:
        """Write a plan's ops in order, in one round trip and atomically, unless a key it assumed unsent was
        sent: then those keys come back and nothing but the lock's release was written (`tidings.store.plan`)."""
        written: list[list[Any]] = []
        for op in ops:
            if op.name == "put_subject":
                written.append(["put_subject", *self._subject_args(*op.args)])
            elif op.name == "schedule":
                written.append(["schedule", *self._schedule_args(*op.args)])
            elif op.name == "record":
                written.append(["record", *_entry_args(op.args[0])])
            else:   # drop, add_event, release, unsent: one string each
                written.append([op.name, *op.args])
        now = self.clock.now().timestamp()
        keep = self.retention.total_seconds()
        now_ms, oldest_ms = self._log_times()
        sent = self._scripts.apply(keys=[], args=[self.prefix, repr(now), oldest_ms, self.sweep_limit, repr(now + keep),
                                                  now_ms, json.dumps(written, separators=(",", ":"), ensure_ascii=False)])
        return set(sent)

    def finish_dispatch(self, slot: str, version: int, *, sent: str | None = None, entries: Sequence[LogEntry] = (),
                        release: str | None = None) -> bool:
        """A dispatch's outcome in one round trip: `sent` marked sent, `entries` recorded, the slot completed at
        `version` (False when it was stale), the lock `release` released."""
        self._ensure()
        now_ms, oldest_ms = self._log_times()
        token, forget = self._answer_token()
        args: list[Any] = [self.prefix, slot, str(version), sent or "", release or "", self._expires(), now_ms, oldest_ms,
                           token, forget]
        for entry in entries:
            args.extend(_entry_args(entry))
        done = bool(self._scripts.finish_dispatch(keys=[], args=args))
        self._answered.append(token)
        return done

    def begin_dispatch(self, claims: Sequence[tuple[str, int]], *, lock_ttl: timedelta,
                       attempt: Mapping[str, str] | None = None) -> list[Claimed]:
        """Read a batch of claimed slots, take their sending locks and mark their first attempts (`attempt`: rule ->
        channel), in two round trips: the payloads and versions, then one script (`tidings.store.dispatching`)."""
        if not claims:
            return []
        self._ensure()
        slots = [slot for slot, _ in claims]
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hmget(self._key("pending"), slots)
            pipe.hmget(self._key("versions"), slots)
            payloads, versions = pipe.execute()
        current: list[PendingMessage | None] = []
        args: list[Any] = [self.prefix, _ms(lock_ttl), self._expires(), uuid.uuid4().hex]
        for (slot, version), payload, stored in zip(claims, payloads, versions):
            pending = self._pending(slot, payload, stored) if payload is not None and stored == str(version) else None
            if pending is not None and pending.suspended:
                pending = None   # suspended since it was claimed
            current.append(pending)
            if pending is not None:
                args += [slot, str(version), pending.key, pending.subject, (attempt or {}).get(pending.rule, "")]
        found = iter(self._scripts.begin_dispatch(keys=[], args=args) if len(args) > 4 else [])
        out: list[Claimed] = []
        for (slot, version), pending in zip(claims, current):
            if pending is None:
                out.append(Claimed(slot, version))
                continue
            state, snapshot, locked, refused, attempted = next(found)
            if state != 1:
                out.append(Claimed(slot, version))   # changed since it was read, or sent (then completed)
                continue
            marked = {f"{pending.key}|{(attempt or {})[pending.rule]}": attempted == 1} if attempted >= 0 else {}
            out.append(Claimed(slot, version, pending, snapshot_read(snapshot) if snapshot is not None else None, bool(locked),
                               dict(zip(refused[::2], refused[1::2])), marked))
        return out

    def finish_dispatches(self, outcomes: Sequence[Finish]) -> list[bool]:
        """A batch of dispatches' outcomes in one round trip; whether each slot was completed (`tidings.store.dispatching`)."""
        if not outcomes:
            return []
        now_ms, oldest_ms = self._log_times()
        written = [[o.slot, str(o.version), o.sent or "", o.release or "", 1 if o.complete else 0,
                    _score(o.hold_until) if o.hold_until is not None else "", [_entry_args(e) for e in o.entries]]
                   for o in outcomes]
        token, forget = self._answer_token()
        done = self._scripts.finish_dispatches(keys=[], args=[self.prefix, self._expires(), now_ms, oldest_ms,
                                                              json.dumps(written, separators=(",", ":"), ensure_ascii=False),
                                                              token, forget])
        self._answered.append(token)
        return [bool(d) for d in done]

    # ------------------------------------------------------------ retention and erasure

    def expire(self) -> int:
        """Remove what expired by the store's clock (`add_event` does it too); returns how many subjects went."""
        return self._sweep("")

    def forget_client(self, client_id: str) -> dict[str, int]:
        """Erase a client: its subjects' snapshots, their pending messages and its log entries; returns the counts."""
        self._ensure()
        scope = f"|client:{client_id}|"
        subjects = cast("set[str]", self.client.smembers(self._key("client", client_id)))
        slots = [slot for slot, stored in cast("Any", self.client.hscan_iter(self._key("pending"), count=1000))
                 if scope in slot or pending_subject(json.loads(stored)) in subjects]
        found = self._scripts.forget_client(keys=[], args=[self.prefix, client_id, *slots])
        return {"subjects": int(found[0]), "pending": int(found[1]), "log": int(found[2])}

    def close(self) -> None:
        self.client.close()

    def _answer_token(self) -> tuple[str, str]:
        """A token for a call that keeps its answer (`_ANSWER_ONCE`), and the tokens of calls answered since."""
        answered = []
        with contextlib.suppress(IndexError):   # (deque's append and popleft are safe between threads)
            while True:
                answered.append(self._answered.popleft())
        return uuid.uuid4().hex, " ".join(answered)

    # ------------------------------------------------------------ helpers

    def _sweep(self, event_id: str) -> int:
        now = self.clock.now().timestamp()
        _, oldest_ms = self._log_times()
        return int(self._scripts.sweep(keys=[], args=[
            self.prefix, repr(now), oldest_ms, self.sweep_limit, repr(now + self.retention.total_seconds()), event_id]))

    def _expires(self) -> str:
        """When what is written now expires, by the store's clock."""
        return repr(self.clock.now().timestamp() + self.retention.total_seconds())

    def _log_times(self) -> tuple[int, int]:
        """The store's time in ms (a new log entry's id) and the oldest log time kept."""
        now = self.clock.now().timestamp()
        return int(now * 1000), max(0, int((now - self.retention.total_seconds()) * 1000))

    @staticmethod
    def _subject_args(kind: str, subject: Mapping[str, Any], occurred_at: datetime, order: str) -> list[str]:
        stored: dict[str, Any] = {"kind": kind, "occurred_at": occurred_at.timestamp(), "subject": dict(subject)}
        if order:
            stored["order"] = order
        client = (subject.get("client") or {}).get("id") or ""
        booked = booking(subject)
        return [subject["id"], client, repr(occurred_at.timestamp()), snapshot_json(stored), order,
                repr(booked[0]) if booked is not None else ""]

    @staticmethod
    def _schedule_args(slot: str, send_at: datetime | None, message: PendingMessage) -> list[str]:
        stored = pending_json(attrs.evolve(message, send_at=send_at.astimezone(timezone.utc) if send_at else None))
        return [slot, _dumps(stored), _score(send_at) if send_at else "", message.subject]

    def _key(self, name: str, id_: str | None = None) -> str:
        return f"{self.prefix}{name}" if id_ is None else f"{self.prefix}{name}:{id_}"

    @staticmethod
    def _pending(slot: str, payload: str, version: str | None) -> PendingMessage:
        return pending_from_json(json.loads(payload), slot=slot, version=int(version) if version is not None else 0)


def _ms(ttl: timedelta) -> int:
    # Redis refuses an expiry of 0 ms; a lock that lapses at once is held for 1 ms instead
    return max(1, int(ttl.total_seconds() * 1000))


def _entry_args(entry: LogEntry) -> list[str]:
    # the compact form (an array); entries written before it are objects, and read as they are
    return [json.dumps(entry_compact(entry), separators=(",", ":"), ensure_ascii=False, allow_nan=False),
            entry.subject, entry.client or ""]


def _entry_read(stored: str) -> dict[str, Any]:
    found = json.loads(stored)
    return entry_from_compact(found) if isinstance(found, list) else cast("dict[str, Any]", found)


def _of_client(client_id: str, found: Sequence[str | None]) -> list[dict[str, Any]]:
    """The snapshots still of `client_id`: a subject that moved to another client is left out."""
    snapshots = (snapshot_read(s) for s in found if s is not None)
    return [s for s in snapshots if (s["subject"].get("client") or {}).get("id") == client_id]
