"""Retries through Dramatiq's own tools (tidings.pipeline.retries): a provider's Retry-After is honoured."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tidings.deployment import Deployment
from tidings.pipeline import connect_transports
from tidings.testing import StubPipeline
from tidings.testing.http import Reply, Request
from tidings.testing.providers import LocalJsonProvider

EVENT = {"id": "evt-1", "type": "appointment.created", "occurred_at": "2026-03-02T10:00:00+01:00",
         "subject": {"id": "a-1", "status": "confirmed", "start": "2026-03-10T14:00:00+01:00",
                     "client": {"id": "c-1", "name": "Ola", "phone": "+48600100200", "consents": {"sms": True}}}}


class TimedProvider(LocalJsonProvider):
    """The kit's JSON SMS provider, noting when each request arrived (a monotonic clock)."""

    def __init__(self) -> None:
        self.arrived: list[float] = []
        super().__init__()

    def handle(self, request: Request) -> Reply:
        with self.lock:
            self.arrived.append(time.monotonic())
            return super().handle(request)


@pytest.fixture
def provider() -> Iterator[TimedProvider]:
    provider = TimedProvider()
    yield provider
    provider.stop()


def sms_deployment(url: str) -> Deployment:
    return Deployment.from_config({
        "tidings": {"timezone": "Europe/Warsaw"},
        "plugins": {"channels": ["sms"], "triggers": ["status-change"]},
        "channels": {"sms": {"provider": "json", "url": url, "sender": "Salon", "default_region": "PL"}},
        "rules": [{"id": "booked", "trigger": "status-change", "on": "created", "channel": "sms", "template": "booked"}],
        "templates": {"booked": {"sms": "Booked {{ subject.id }}"}}})


def deliver(stub: StubPipeline) -> None:
    """Publish the event and send what falls due, waiting (30 s at most) until every retry is done."""
    stub.pipeline.publish(EVENT)
    stub.broker.join(stub.pipeline.queue, timeout=30_000, fail_fast=True)
    stub.pipeline.enqueue_due()
    stub.broker.join(stub.pipeline.queue, timeout=30_000, fail_fast=True)


def statuses(stub: StubPipeline) -> list[tuple[str, Any]]:
    return [(e["status"], e.get("reason")) for e in stub.pipeline.store.log(subject="a-1")]


def test_a_provider_that_asks_to_wait_gets_the_retry_no_sooner_than_it_asked(
        provider: TimedProvider, start_pipeline: Callable[..., StubPipeline]) -> None:
    # Given an SMS provider that answers the first message 429 with Retry-After: 2, and a backoff that
    # would retry after 10 ms
    provider.then(429, {"error": "too many requests"}, headers={"Retry-After": "2"})
    deployment = sms_deployment(provider.url)
    stub = start_pipeline(deployment, transports=connect_transports(deployment), min_backoff_ms=10)

    # When the message falls due
    deliver(stub)

    # Then it is delivered once, by a second request that came at least the two seconds asked for after the first
    assert [reply.status for reply in provider.replies] == [429, 201]
    assert [m["text"] for m in provider.delivered] == ["Booked a-1"]
    assert provider.arrived[1] - provider.arrived[0] >= 2.0
    assert statuses(stub) == [("scheduled", "appointment.created"), ("sent", None)]

