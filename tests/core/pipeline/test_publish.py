"""Publishing in batches (tidings.pipeline.publish): one round trip per batch, nothing lost unreported."""

from __future__ import annotations

import json
from typing import Any

import redis

import tidings
from tidings.errors import PublishError

NOW = "2026-03-02T08:00:00+00:00"


def config(broker: str, **tidings_table: Any) -> dict[str, Any]:
    return {"tidings": {"timezone": "Europe/Warsaw", "broker": broker, "namespace": "pub", **tidings_table},
            "plugins": {"channels": ["sms"], "triggers": ["status-change"]},
            "channels": {"sms": {"provider": "json", "url": "http://127.0.0.1:9/messages", "default_region": "PL"}},
            "rules": [{"id": "booked", "trigger": "status-change", "on": "created", "channel": "sms"}]}


def event(n: int) -> dict[str, Any]:
    return {"id": f"evt-{n}", "type": "appointment.created", "occurred_at": NOW,
            "subject": {"id": f"a-{n}", "status": "confirmed", "start": "2026-03-10T14:00:00+01:00",
                        "client": {"id": f"c-{n}", "phone": "600100200", "consents": {"sms": True}}}}


def queued_events(url: str, queue: str) -> list[str]:
    """The event ids of the ingest messages waiting on a Dramatiq queue in Redis, in queue order."""
    client = redis.Redis.from_url(url)
    try:
        ids = client.lrange(f"dramatiq:{queue}", 0, -1)
        messages = client.hmget(f"dramatiq:{queue}.msgs", ids) if ids else []
        return [json.loads(m)["args"][0]["id"] for m in messages if m is not None]
    finally:
        client.close()


def test_publish_many_queues_every_valid_event_once_and_refuses_a_malformed_one_by_its_position(
        private_redis: str) -> None:
    # Given a host connected to a Redis broker, and 1,201 events of which one is malformed
    events: list[dict[str, Any]] = [event(n) for n in range(1200)]
    events.insert(700, {"id": "broken"})
    with tidings.connect(config(private_redis)) as client:
        # When it publishes them at once
        result = client.publish_many(events)

    # Then the malformed one is refused by its position, and every other one waits on the queue once, in order
    assert result.published == 1200 and not result.unacknowledged
    assert [index for index, _ in result.rejected] == [700]
    assert sorted(queued_events(private_redis, "pub")) == sorted(f"evt-{n}" for n in range(1200))


def test_events_the_broker_did_not_acknowledge_are_reported_each_never_dropped() -> None:
    # Given a host whose Redis broker cannot be reached (nothing listens on port 9)
    with tidings.connect(config("redis://127.0.0.1:9/0")) as client:
        # When it publishes three events, one of them malformed
        result = client.publish_many([event(1), {"id": "broken"}, event(2)])

    # Then the two valid ones are reported as not acknowledged, each by its position and event id
    assert not result.ok and result.published == 0
    assert [index for index, _ in result.rejected] == [1]
    assert [(index, error.event_id) for index, error in result.unacknowledged] == [(0, "evt-1"), (2, "evt-2")]
    assert all(isinstance(error, PublishError) and "publish it again" in str(error) for _, error in result.unacknowledged)
