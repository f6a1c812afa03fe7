"""The Redis store's schema version and the migration of older layouts, on a private redis-server.

Each test writes a namespace by hand in the layout an earlier tidings left behind, then opens the store
as a worker would (`open_store`) and uses it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import redis

from tidings.clock import VirtualClock
from tidings.store import open_store
from tidings.store.entries import Planned
from tidings.store.redis import RedisStore, SchemaError
from tidings.store.schema import SCHEMA
from tidings.testing.services import PrivateRedis


SNAPSHOT = {"kind": "appointment", "occurred_at": 1772100000.0, "order": "1:evt-1",
            "subject": {"id": "v-1", "status": "confirmed", "start": "2026-03-10T14:00:00+01:00", "location": "old-town",
                        "services": [{"id": "manicure", "name": "Manicure", "category": "nails"}],
                        "client": {"id": "c-ola", "name": "Ola"}}}
PAYLOAD = ('{"rule":"reminder-24h","subject":"v-1","kind":"appointment","location":"old-town","recipient":"client",'
           '"due":"2026-03-10T14:00:00+01:00","planned":"2026-03-09T14:00:00+01:00","key":"k-2","suspended":false,'
           '"info":{},"services":null,"event":{"id":"evt-1","type":"appointment.created",'
           '"occurred_at":"2026-02-26T10:00:00+01:00"},"previous":null,"send_at":"2026-03-09T13:00:00+00:00"}')


def entry(n: int, at: str) -> str:
    return json.dumps({"rule": "booked", "subject": "v-1", "client": "c-ola", "event": f"evt-{n}", "at": at,
                       "status": "scheduled", "reason": "status_confirmed"})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis]:
    try:
        private = PrivateRedis(folder=tmp_path_factory.mktemp("redis")).start()
    except OSError:
        pytest.skip("redis-server is not installed")
    try:
        yield private
    finally:
        private.stop()


@pytest.fixture
def raw(server: PrivateRedis) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(server.url, decode_responses=True)
    client.flushdb()   # the server is this module's alone
    yield client
    client.close()


def write_layout_1(raw: redis.Redis, p: str) -> None:
    """A namespace as the first layout kept it: the log a hash of sequence numbers, marks as strings with TTLs."""
    raw.set(f"{p}subj:v-1", json.dumps(SNAPSHOT))
    raw.sadd(f"{p}client:c-ola", "v-1")
    raw.hset(f"{p}pending", "reminder-24h|subject:v-1|client", PAYLOAD)
    raw.hset(f"{p}versions", "reminder-24h|subject:v-1|client", 4)
    raw.zadd(f"{p}due", {"reminder-24h|subject:v-1|client": 1773061200.0})
    raw.hset(f"{p}log", mapping={"1": entry(1, "2026-02-26T09:00:00Z"), "2": entry(2, "2026-02-27T09:00:00.250000Z"),
                                 "3": entry(3, "2026-02-27T09:00:00Z")})
    raw.set(f"{p}log:seq", 3)
    raw.rpush(f"{p}log:subject:v-1", 1, 2, 3)
    raw.rpush(f"{p}log:client:c-ola", 1, 3)
    raw.set(f"{p}event:evt-1", 1, ex=400 * 24 * 3600)
    raw.set(f"{p}sent:k-1", 1, ex=400 * 24 * 3600)
    raw.set(f"{p}attempt:k-1|sms", 1, ex=400 * 24 * 3600)


def test_a_namespace_of_the_first_layout_is_migrated_when_the_store_opens(server: PrivateRedis, raw: redis.Redis) -> None:
    # Given a namespace an earlier tidings wrote, whose delivery log is a hash (the new store's XADD met WRONGTYPE)
    write_layout_1(raw, "salon:")
    # When a worker opens the store
    store = open_store(server.url, namespace="salon", ride_out=True)
    assert isinstance(store, RedisStore)
    try:
        # Then the namespace is of the current schema, the log a stream, and nothing of the old keys is left
        assert raw.get("salon:schema") == str(SCHEMA)
        assert raw.type("salon:log") == "stream"
        assert raw.keys("salon:event:*") == raw.keys("salon:sent:*") == raw.keys("salon:attempt:*") == []
        assert raw.exists("salon:log:seq", "salon:migrating") == 0
        # the log reads as it did, in its order, by subject and by client, each entry at its own time
        assert [e["event"] for e in store.log()] == ["evt-1", "evt-2", "evt-3"]
        assert [e["event"] for e in store.log(subject="v-1")] == ["evt-1", "evt-2", "evt-3"]
        assert [e["event"] for e in store.log(client="c-ola")] == ["evt-1", "evt-3"]
        first = raw.xrange("salon:log", count=1)[0][0]
        assert first == f"{int(datetime(2026, 2, 26, 9, tzinfo=timezone.utc).timestamp() * 1000)}-1"
        # exactly-once holds across the move: the seen event, the sent key and the attempt mark are still known
        assert store.has_event("evt-1") and store.was_sent("k-1") and store.mark_attempt("k-1|sms") is False
        # the pending message reads back, is counted as held by its subject, and is found through the index
        found = store.pending("reminder-24h|subject:v-1|client")
        assert found is not None and (found.key, found.version) == ("k-2", 4)
        assert raw.hget("salon:held", "v-1") == "1"
        assert [s["subject"]["id"] for s in store.client_bookings(
            "c-ola", categories=["nails"], after=datetime(2026, 3, 1, tzinfo=timezone.utc))] == ["v-1"]
        # and the store goes on writing (on the clock of the log's days): a new entry after the migrated ones,
        # a claim of the migrated slot
        store.set_retention(timedelta(days=90), clock=VirtualClock(datetime(2026, 3, 1, tzinfo=timezone.utc)))
        store.record(Planned(rule="booked", subject="v-1", client="c-ola", event="evt-4",
                             at=datetime(2026, 3, 1, tzinfo=timezone.utc), status="scheduled", reason="status_confirmed"))
        assert [e["event"] for e in store.log(client="c-ola")] == ["evt-1", "evt-3", "evt-4"]
        assert store.claim_due(datetime(2026, 3, 9, 14, tzinfo=timezone.utc), limit=10, lease=timedelta(minutes=5)) == \
            [("reminder-24h|subject:v-1|client", 5)]
    finally:
        store.close()
    # When it is opened again, nothing changes
    before = {k: raw.type(k) for k in raw.keys("salon:*")}
    again = open_store(server.url, namespace="salon")
    try:
        assert {k: raw.type(k) for k in raw.keys("salon:*")} == before
        assert [e["event"] for e in again.log()] == ["evt-1", "evt-2", "evt-3", "evt-4"]
    finally:
        again.close()


def test_a_namespace_of_the_second_layout_gains_the_index_of_bookings(server: PrivateRedis, raw: redis.Redis) -> None:
    # Given snapshots kept by the layout before the index of bookings (no schema key, a stream log)
    raw.set("salon:subj:v-1", json.dumps(SNAPSHOT))
    raw.sadd("salon:client:c-ola", "v-1")
    raw.xadd("salon:log", {"e": entry(1, "2026-02-26T09:00:00Z")}, id="1772096400000-0")
    store = RedisStore.from_url(server.url, prefix="salon:")
    try:
        assert raw.get("salon:schema") == str(SCHEMA)
        assert [s["subject"]["id"] for s in store.client_bookings(
            "c-ola", categories=["nails"], after=datetime(2026, 3, 1, tzinfo=timezone.utc))] == ["v-1"]
        assert [e["event"] for e in store.log()] == ["evt-1"]
    finally:
        store.close()


def test_a_new_namespace_is_written_at_the_current_schema_and_other_namespaces_are_left_alone(
        server: PrivateRedis, raw: redis.Redis) -> None:
    write_layout_1(raw, "other:")
    store = RedisStore.from_url(server.url, prefix="fresh:")
    store.close()
    assert raw.get("fresh:schema") == str(SCHEMA)
    assert raw.type("other:log") == "hash" and raw.get("other:schema") is None


def test_a_namespace_of_a_newer_schema_is_refused_clearly(server: PrivateRedis, raw: redis.Redis) -> None:
    raw.set("salon:schema", SCHEMA + 1)
    with pytest.raises(SchemaError, match=f"has schema {SCHEMA + 1}, newer than this tidings knows"):
        open_store(server.url, namespace="salon")


def test_a_store_opened_while_redis_is_away_checks_the_schema_at_its_first_command(tmp_path: Path) -> None:
    # Given a namespace of the first layout on a Redis that is not running when the store is opened
    private = PrivateRedis(folder=tmp_path, appendonly=True)   # a restart keeps what it held
    private.start()
    url = private.url
    raw = redis.Redis.from_url(url, decode_responses=True)
    write_layout_1(raw, "salon:")
    raw.close()
    private.stop()
    store = RedisStore.from_url(url, prefix="salon:")
    try:
        private.start()
        # When it is first used, the namespace is migrated before the command runs
        assert [e["event"] for e in store.log(subject="v-1")] == ["evt-1", "evt-2", "evt-3"]
    finally:
        store.close()
        private.stop()
