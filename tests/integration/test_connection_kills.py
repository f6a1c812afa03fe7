"""Connections killed at the worst moments, deterministically: the causes of the events the connection-drop
test (`test_outages`) found undelivered after eight ``CLIENT KILL`` under load, one test each.

A `TcpProxy` in front of a Redis of the test's own kills a connection as it is made (`refuse_next`) or
after a command ran, before its answer reaches the client (`lose_next_reply`): what ``CLIENT KILL``
does to a busy process at random.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tidings.pipeline import open_broker
from tidings.store.redis import RedisStore

Proxy = Any   # conftest's TcpProxy


def _reminder(key: str, subject: str) -> Any:
    from tidings.store.records import EventRef, PendingMessage

    now = datetime.now(timezone.utc)
    return PendingMessage(rule="booked", subject=subject, kind="appointment", location=None, recipient="client",
                          due=now, planned=now, key=key, suspended=False, info={}, services=None,
                          event=EventRef(id="evt-1", type="appointment.created", occurred_at=now), previous=None)


def _sent(key: str, subject: str) -> Any:
    from tidings.store.entries import Sent

    return Sent(rule="booked", subject=subject, event="evt-1", at=datetime.now(timezone.utc), key=key, client="c-1",
                channel="sms", to="+48600100200", title=None, text="Booked", provider_id="p-1", info={})


def test_a_store_riding_out_gets_a_connection_again_when_the_new_one_is_killed_too(redis_proxy: tuple[Proxy, str]) -> None:
    # Given a worker's store with a connection in its pool
    proxy, url = redis_proxy
    store = RedisStore.from_url(url, prefix="kills:", ride_out=True)
    assert store.count_pending() == 0
    # When that connection is killed, and the one made instead is spoilt just after redis-py's handshake on it
    proxy.cut()
    proxy.start()
    proxy.refuse_next(1, after=_handshake(url, proxy))
    # Then the command still runs (redis-py's pool checks a pooled connection and reconnects once; a failure
    # there escaped the store's retries, and a batch's dispatch took it for a bug and left the slot to its lease)
    assert store.count_pending() == 0
    assert proxy.refused == 1
    store.close()


@pytest.mark.parametrize("take", ["acquire", "begin_plan"])
def test_a_lock_whose_answer_was_lost_is_taken_by_the_retry(redis_proxy: tuple[Proxy, str], take: str) -> None:
    # Given a worker's store, and the answer to its next command lost with its connection (the command ran)
    proxy, url = redis_proxy
    store = RedisStore.from_url(url, prefix="kills:", ride_out=True)
    assert store.count_pending() == 0
    assert store.acquire("sending:other", ttl=timedelta(seconds=1))   # its scripts loaded in Redis
    assert store.begin_plan("ingest:client:other", ttl=timedelta(seconds=1), event_id="e-0", subject_id="a-0",
                            slots=["s"], client_id="other") is not None
    proxy.lose_next_reply()
    # When it takes a lock: redis-py sends the command again on a new connection
    if take == "acquire":
        taken = store.acquire("sending:k", ttl=timedelta(minutes=5))
    else:
        taken = store.begin_plan("ingest:client:c-1", ttl=timedelta(minutes=5), event_id="e-1", subject_id="a-1",
                                 slots=["s"], client_id="c-1") is not None
    # Then the retry takes the lock its first attempt took (it found it held, by itself, and an ingest waited
    # for it to lapse: a lease), and nobody else takes it
    assert proxy.lost_replies == 1
    assert taken
    if take == "acquire":
        assert not store.acquire("sending:k", ttl=timedelta(minutes=5))
    else:
        assert store.begin_plan("ingest:client:c-1", ttl=timedelta(minutes=5), event_id="e-1", subject_id="a-1",
                                slots=["s"], client_id="c-1") is None
    store.close()


def test_a_batch_whose_sending_locks_answer_was_lost_has_them_taken_by_the_retry(redis_proxy: tuple[Proxy, str]) -> None:
    # Given a worker's store with a due message claimed
    proxy, url = redis_proxy
    store = RedisStore.from_url(url, prefix="kills:", ride_out=True)
    message = _reminder("k-1", "a-1")
    store.schedule("slot-0", send_at=message.due, message=_reminder("k-0", "a-1"))
    store.schedule("slot-1", send_at=message.due, message=message)
    first, claim = sorted(store.claim_due(message.due, limit=2, lease=timedelta(minutes=1)))
    assert store.begin_dispatch([first], lock_ttl=timedelta(seconds=15))[0].locked   # its script loaded in Redis
    # When the answer to the batch's checks and locks (its second round trip) is lost after they ran
    proxy.lose_next_reply(after=1)
    [claimed] = store.begin_dispatch([claim], lock_ttl=timedelta(seconds=15))
    # Then the retry holds the message's sending lock (it found it taken, by itself, and waited for it to lapse)
    assert proxy.lost_replies == 1
    assert claimed.locked
    store.close()


def test_a_batch_of_outcomes_whose_answer_was_lost_is_written_once(redis_proxy: tuple[Proxy, str]) -> None:
    from tidings.store.dispatching import Finish

    # Given a worker's store with two messages claimed, the first one's outcome written (its script loaded)
    proxy, url = redis_proxy
    store = RedisStore.from_url(url, prefix="kills:", ride_out=True)
    for n in range(2):
        message = _reminder(f"k-{n}", f"a-{n}")
        store.schedule(f"slot-{n}", send_at=message.due, message=message)
    claims = dict(store.claim_due(_reminder("k", "a").due, limit=2, lease=timedelta(minutes=1)))
    assert store.finish_dispatches([Finish("slot-0", claims["slot-0"], [_sent("k-0", "a-0")], sent="k-0", complete=True)]) == [True]
    # When the answer to the next batch's outcomes is lost after its script ran, and redis-py sends it again
    proxy.lose_next_reply()
    done = store.finish_dispatches([Finish("slot-1", claims["slot-1"], [_sent("k-1", "a-1")], sent="k-1", complete=True)])
    # Then the retry answers as the first run did, and the message's delivery is in the log once, not twice
    assert proxy.lost_replies == 1
    assert done == [True]
    assert [e["status"] for e in store.log(subject="a-1")] == ["sent"]
    assert store.count_pending() == 0
    # and an answer is kept only until the store's next such call, which says it was heard
    assert len(store.client.keys("kills:answer:*")) == 1
    assert store.finish_dispatches([Finish("slot-9", 1)]) == [False]
    assert len(store.client.keys("kills:answer:*")) == 1
    store.close()


def test_an_ingest_plan_whose_answer_was_lost_is_applied_once(redis_proxy: tuple[Proxy, str]) -> None:
    from tidings.store.plan import PlanOp

    def plan(n: int) -> list[PlanOp]:
        lock = f"ingest:client:c-{n}"
        assert store.begin_plan(lock, ttl=timedelta(minutes=1), event_id=f"e-{n}", subject_id=f"a-{n}", slots=[],
                                client_id=f"c-{n}") is not None
        message = _reminder(f"k-{n}", f"a-{n}")
        return [PlanOp("schedule", (f"slot-{n}", message.due, message)), PlanOp("record", (_sent(f"k-{n}", f"a-{n}"),)),
                PlanOp("add_event", (f"e-{n}",)), PlanOp("release", (lock,))]

    # Given a worker's store that applied one plan (its scripts loaded)
    proxy, url = redis_proxy
    store = RedisStore.from_url(url, prefix="kills:", ride_out=True)
    assert store.apply_plan(plan(0)) == set()
    ops = plan(1)
    # When the answer to the next plan's writes is lost after they ran, and redis-py sends them again
    proxy.lose_next_reply()
    found = store.apply_plan(ops)
    # Then the retry finds its event seen and writes nothing more: one log entry, one reminder, the lock free
    assert proxy.lost_replies == 1
    assert found == set()
    assert len(store.log(subject="a-1")) == 1
    assert store.count_pending() == 2
    assert store.acquire("ingest:client:c-1", ttl=timedelta(seconds=1))
    store.close()


def test_a_fetch_whose_answer_was_lost_leaves_its_messages_to_be_requeued(redis_proxy: tuple[Proxy, str]) -> None:
    import redis

    # Given a worker's broker and a message in its queue
    proxy, url = redis_proxy
    broker: Any = open_broker(url)
    admin = redis.Redis.from_url(url)
    try:
        broker.declare_queue("kills")
        broker.do_enqueue("kills", "m-1", b"{}")
        assert broker.do_fetch("kills-other", 1) == []   # its connection made (and told who it is)
        before = broker.broker_id
        # When its fetch ran but the answer was lost with the connection
        proxy.lose_next_reply()
        with pytest.raises(redis.ConnectionError):
            broker.do_fetch("kills", 1)
        # Then the fetch was not sent again (which would have fetched other messages, this one kept in hand
        # by a live worker for good): the message is held by the broker's old id, which it no longer uses, so
        # queue maintenance requeues it as a dead worker's once that id's heartbeat is old
        assert proxy.lost_replies == 1
        assert admin.smembers(f"dramatiq:__acks__.{before}.kills") == {b"m-1"}
        assert broker.broker_id != before
        assert broker.do_fetch("kills", 1) == []
    finally:
        admin.close()
        broker.close()


def _handshake(url: str, proxy: Proxy) -> int:
    """How many round trips redis-py makes on a new connection before its first command (CLIENT SETINFO...)."""
    import redis
    connection = redis.ConnectionPool.from_url(url).make_connection()
    before = proxy.answers
    connection.connect()
    made = proxy.answers - before
    connection.disconnect()
    assert made > 0
    return made
