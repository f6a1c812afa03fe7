"""Events of one visit taken out of order by real workers (PRODUCT §3, §5): Dramatiq on the real Redis broker,
the Redis schedule store, two workers of two threads each and two schedulers, on a virtual clock.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tidings.clock import VirtualClock
from tidings.config import Config, parse_config
from tidings.pipeline import Pipeline, build_pipeline
from tidings.testing import RecordingTransport

WARSAW = ZoneInfo("Europe/Warsaw")
BOOKED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=WARSAW)
PAIRS = 120
# the visits start at a few times, so the clock steps through a few due times only
FIRST_STARTS = [datetime(2026, 3, 10, 14, 0, tzinfo=WARSAW) + timedelta(hours=h) for h in range(3)]
MOVED_STARTS = [datetime(2026, 3, 12, 10, 0, tzinfo=WARSAW) + timedelta(hours=h) for h in range(3)]


def config(namespace: str) -> Config:
    return parse_config({
        "tidings": {"timezone": "Europe/Warsaw", "namespace": namespace},
        "plugins": {"channels": ["sms"], "triggers": ["status-change", "pre-visit"]},
        "locations": {"old-town": {"name": "Old Town", "timezone": "Europe/Warsaw"}},
        "rules": [{"id": "booked", "trigger": "status-change", "on": "created", "channel": "sms", "template": "booked"},
                  {"id": "moved", "trigger": "status-change", "on": "rescheduled", "channel": "sms", "template": "moved"},
                  {"id": "reminder-24h", "trigger": "pre-visit", "before": "24h", "channel": "sms", "template": "reminder"}],
        "templates": {"booked": {"sms": "Booked {{ subject.id }}"}, "moved": {"sms": "Moved {{ subject.id }}"},
                      "reminder": {"sms": "See you {{ subject.start | time('HH:mm') }}"}},
    })


def pair(n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A visit booked, then moved a millisecond later (each visit its own client, so pairs run in parallel)."""
    first, moved = FIRST_STARTS[n % 3], MOVED_STARTS[n % 3]
    subject = {"id": f"a-{n}", "status": "confirmed", "location": "old-town",
               "client": {"id": f"c-{n}", "phone": "+48600100200", "consents": {"sms": True}}}
    created = {"id": f"evt-{n}-created", "type": "appointment.created", "occurred_at": BOOKED_AT.isoformat(),
               "subject": {**subject, "start": first.isoformat()}}
    rescheduled = {"id": f"evt-{n}-moved", "type": "appointment.rescheduled",
                   "occurred_at": (BOOKED_AT + timedelta(milliseconds=1)).isoformat(),
                   "subject": {**subject, "start": moved.isoformat()}, "previous": {"start": first.isoformat()}}
    return created, rescheduled


def wait_for(condition: Callable[[], bool], *, seconds: float, what: str) -> None:
    """Poll a condition until it holds; fail (not hang) after the deadline."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def deployment(redis_url: str, redis_store: Any) -> Iterator[tuple[Pipeline, RecordingTransport, VirtualClock, Any]]:
    from dramatiq import Worker
    from dramatiq.brokers.redis import RedisBroker

    namespace = f"test-order-{uuid.uuid4().hex[:10]}"
    broker = RedisBroker(url=redis_url, namespace=namespace)
    broker.emit_after("process_boot")
    clock = VirtualClock(BOOKED_AT + timedelta(seconds=1))
    sms = RecordingTransport("sms", clock)
    pipeline = build_pipeline(broker, config(namespace), redis_store, transports={"sms": sms}, clock=clock)
    workers = [Worker(broker, worker_threads=2, worker_timeout=50) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        yield pipeline, sms, clock, workers
    finally:
        for worker in workers:
            worker.stop()
        broker.flush_all()
        broker.close()
        # the broker's own keys (queues, heartbeats, acks) under this test's namespace, and only those
        keys = list(redis_store.client.scan_iter(match=f"{namespace}*", count=1000))
        if keys:
            redis_store.client.delete(*keys)


def drain(pipeline: Pipeline, workers: list[Any]) -> None:
    assert pipeline.broker is not None
    pipeline.broker.join(pipeline.queue, timeout=60_000)
    for worker in workers:
        worker.join()


def test_every_reminder_is_sent_once_at_its_time_whichever_worker_takes_which_event(deployment: Any) -> None:
    pipeline, sms, clock, workers = deployment
    store = pipeline.store
    # Given pairs of events of one visit: a third published in order back to back, a third with the later
    # event first back to back (as two workers may take them), and a third strictly reversed: the later
    # event ingested before the older one is even published
    for n in range(PAIRS):
        created, rescheduled = pair(n)
        if n % 3 == 0:
            pipeline.publish(created)
            pipeline.publish(rescheduled)
        elif n % 3 == 1:
            pipeline.publish(rescheduled)
            pipeline.publish(created)
        else:
            pipeline.publish(rescheduled)
            wait_for(lambda: store.has_event(rescheduled["id"]), seconds=30, what=f"{rescheduled['id']} to be ingested")
            pipeline.publish(created)
    wait_for(lambda: all(store.has_event(e["id"]) for n in range(PAIRS) for e in pair(n)), seconds=60,
             what="every event to be ingested")
    drain(pipeline, workers)

    # When the clock steps from due time to due time, two schedulers claiming at once at each
    while (due := store.next_due()) is not None:
        clock.set(max(clock.now(), due))
        schedulers = [threading.Thread(target=pipeline.enqueue_due) for _ in range(2)]
        for scheduler in schedulers:
            scheduler.start()
        for scheduler in schedulers:
            scheduler.join()
        drain(pipeline, workers)

    # Then each visit got its confirmation, its move notice and exactly one reminder, a day before its new time
    sent = [(m["message"].rule, m["message"].subject, m["at"], m["message"].parts["text"]) for m in sms.sent]
    assert Counter((rule, subject) for rule, subject, _, _ in sent) == Counter(
        {(rule, f"a-{n}"): 1 for n in range(PAIRS) for rule in ("booked", "moved", "reminder-24h")})
    for rule, subject, at, text in sent:
        if rule == "reminder-24h":
            moved = MOVED_STARTS[int(subject.split("-")[1]) % 3]
            assert (at, text) == (moved - timedelta(hours=24), f"See you {moved:%H:%M}"), subject
    dropped = [e for e in store.log() if e["status"] in ("skipped", "failed")]
    assert dropped == [], json.dumps(dropped[:3])
