"""A process builds only what it uses (tidings.pipeline.build): only a dispatch connects transports."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import tidings_triggers.status_change
from tidings import Channel, hookimpl
from tidings.clock import VirtualClock
from tidings.deployment import Deployment
from tidings.pipeline import build_pipeline
from tidings.plugins import registry_for
from tidings.recording import RecordingTransport
from tidings.store.memory import MemoryStore

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


class CountedChannel:
    """An SMS channel whose `connect` notes each call, and takes a while, as a real one may."""

    def __init__(self) -> None:
        self.connects: list[str] = []
        self.transport = RecordingTransport("sms")

    def connect(self, settings: Any) -> RecordingTransport:
        self.connects.append(threading.current_thread().name)
        time.sleep(0.05)   # widens the window in which another worker thread could connect too
        return self.transport

    @hookimpl
    def tidings_channels(self) -> Iterator[Channel]:
        yield Channel(name="sms", summary="", parts=("text",), connect=self.connect,
                      addresses=lambda contact, settings: (contact.phone,) if contact.phone else ())


def event(n: int) -> dict[str, Any]:
    return {"id": f"evt-{n}", "type": "appointment.created", "occurred_at": NOW.isoformat(),
            "subject": {"id": f"a-{n}", "status": "confirmed", "start": "2026-03-10T14:00:00+01:00",
                        "client": {"id": f"c-{n}", "phone": "+48600100200", "consents": {"sms": True}}}}


def test_publishing_and_scheduling_connect_no_transport_and_workers_connect_each_once() -> None:
    from dramatiq import Worker
    from dramatiq.brokers.stub import StubBroker

    # Given a pipeline built without transports, on a broker, as `tidings publish` and the scheduler build it
    channel = CountedChannel()
    deployment = Deployment.from_config(
        {"tidings": {"timezone": "Europe/Warsaw"}, "plugins": {"channels": ["sms"], "triggers": ["status-change"]},
         "rules": [{"id": "booked", "trigger": "status-change", "on": "created", "channel": "sms", "template": "booked"}],
         "templates": {"booked": {"sms": "Booked {{ subject.id }}"}}},
        registry=registry_for(tidings_triggers.status_change, channel))
    broker = StubBroker()
    broker.emit_after("process_boot")
    store = MemoryStore()
    pipeline = build_pipeline(broker, deployment, store, clock=VirtualClock(NOW))

    # When events are published, planned and their messages handed to the queue, with no worker running
    for n in range(8):
        pipeline.publish(event(n))
        pipeline.ingest(event(n))      # what a worker's ingest would do
    assert pipeline.enqueue_due() == 8

    # Then nothing was connected
    assert channel.connects == []
    assert pipeline.transports == {}

    # When four worker threads take the eight dispatches at once
    worker = Worker(broker, worker_threads=4, worker_timeout=20)
    worker.start()
    try:
        broker.join(pipeline.queue, timeout=30_000, fail_fast=True)
    finally:
        worker.stop()
        broker.close()

    # Then the transport was connected once, by one of them, and every message went through it
    assert len(channel.connects) == 1
    assert sorted(sent["message"].subject for sent in channel.transport.sent) == [f"a-{n}" for n in range(8)]
    assert pipeline.transports == {"sms": channel.transport}
