"""The host API (tidings.connect): checked at start-up, publishes, reads the log, verifies links."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import tidings
from tidings.clock import VirtualClock
from tidings.errors import ConfigError
from tidings.links import LinkError, build_url
from tidings.testing import RecordingTransport

SECRET = "a-link-secret-of-the-salon-32-bytes-long"
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)


def config(**tidings_table: Any) -> dict[str, Any]:
    return {"tidings": {"timezone": "Europe/Warsaw", **tidings_table},
            "plugins": {"channels": ["sms"], "triggers": ["status-change"]},
            "channels": {"sms": {"provider": "json", "url": "http://127.0.0.1:9/messages", "default_region": "PL"}},
            "links": {"base_url": "https://salon.example/v", "secret": SECRET},
            "rules": [{"id": "booked", "trigger": "status-change", "on": "created", "channel": "sms"}]}


def event(n: int, **changes: Any) -> dict[str, Any]:
    return {"id": f"evt-{n}", "type": "appointment.created", "occurred_at": NOW.isoformat(),
            "subject": {"id": f"a-{n}", "status": "confirmed", "start": "2026-03-10T14:00:00+01:00",
                        "client": {"id": "c-1", "phone": "600100200", "consents": {"sms": True}}}, **changes}


def test_a_configuration_with_a_mistake_stops_connect_with_every_problem() -> None:
    bad = config()
    bad["rules"][0]["channel"] = "fax"
    bad["tidings"]["timezone"] = "Mars/Olympus"
    with pytest.raises(ConfigError) as caught:
        tidings.connect(bad)
    paths = {p.path for p in caught.value.problems}
    assert {"tidings.timezone", "rules[0] (booked).channel"} <= paths


def test_on_the_embedded_default_publish_plans_and_run_due_sends() -> None:
    outbox = RecordingTransport("sms")
    with tidings.connect(config(), transports={"sms": outbox}, clock=VirtualClock(NOW)) as client:
        assert client.embedded
        result = client.publish_many([event(1), {"id": "broken"}, event(2)])
        assert result.published == 2 and [index for index, _ in result.rejected] == [1] and not result.ok
        assert client.run_due() == 2
        assert sorted(m["message"].subject for m in outbox.sent) == ["a-1", "a-2"]
        assert [e["status"] for e in client.log(subject="a-1")] == ["scheduled", "sent"]
        assert len(client.log(client="c-1")) == 4
        with pytest.raises(ValueError, match="name a subject or a client"):
            client.log()


def test_serve_sends_what_falls_due_from_a_thread_until_close() -> None:
    import time
    outbox = RecordingTransport("sms")
    client = tidings.connect(config(), transports={"sms": outbox})
    client.serve(interval=0.01)
    client.publish(event(1, occurred_at=datetime.now(timezone.utc).isoformat()))
    deadline = time.monotonic() + 10
    while not outbox.sent and time.monotonic() < deadline:
        time.sleep(0.01)
    client.close()
    assert [m["message"].subject for m in outbox.sent] == ["a-1"]


def test_a_single_use_link_is_accepted_once() -> None:
    with tidings.connect(config(), transports={"sms": RecordingTransport("sms")}) as client:
        url = build_url("https://salon.example/v", "a-1", "cancel", secret=SECRET,
                        expires=datetime.now(timezone.utc) + timedelta(days=1))
        assert client.verify_link(url, action="cancel", single_use=True).subject == "a-1"
        assert client.verify_link(url, action="cancel").subject == "a-1"        # without single_use: a check only
        with pytest.raises(LinkError) as caught:
            client.verify_link(url, action="cancel", single_use=True)
        assert caught.value.reason == "used"


def test_with_a_real_broker_the_client_builds_no_transport_and_publish_puts_the_event_on_the_queue(
        redis_url: str, tmp_path: Path) -> None:
    namespace = f"test-client-{uuid.uuid4().hex[:10]}"
    client = tidings.connect(config(broker=redis_url, store=redis_url, namespace=namespace))
    try:
        assert not client.embedded and dict(client.pipeline.transports) == {}
        client.publish(event(1))
        broker = client.pipeline.broker
        assert broker.client.hlen(f"{broker.namespace}:{namespace}.msgs") == 1
    finally:
        broker = client.pipeline.broker
        broker.client.delete(f"{broker.namespace}:{namespace}", f"{broker.namespace}:{namespace}.msgs")
        store = client.pipeline.store
        for key in store.client.scan_iter(match=f"{store.prefix}*"):
            store.client.delete(key)
        client.close()
