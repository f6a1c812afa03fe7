"""The kit's stub pipeline: the real actors on a stub broker, a virtual clock, recording transports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone

import pytest
from attrs import define, field

import tidings_triggers.pre_visit
import tidings_triggers.status_change
from tidings import Channel, Receipt, RenderedMessage, TransientDeliveryError, hookimpl
from tidings.deployment import Deployment
from tidings.plugins import registry_for
from tidings.testing import NOW, RecordingTransport, StubPipeline

START = datetime(2026, 3, 10, 13, 0, tzinfo=timezone.utc)
StartPipeline = Callable[..., StubPipeline]


class Sms:
    """An SMS channel whose addresses are the contact's phone as written."""

    @hookimpl
    def tidings_channels(self) -> Iterator[Channel]:
        yield Channel(name="sms", summary="test", parts=("text",), connect=lambda settings: RecordingTransport("sms"),
                      addresses=lambda contact, settings: (contact.phone,) if contact.phone else ())


@define
class Flaky:
    """Fails the first `failures` sends with a transient error, then delivers."""

    failures: int = 1
    attempts: int = 0
    closed: bool = False
    delivered: list[str] = field(factory=list)

    def send(self, message: RenderedMessage, *, idempotency_key: str) -> Receipt:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise TransientDeliveryError("provider answered 503", reason="provider_unavailable")
        self.delivered.append(idempotency_key)
        return Receipt(provider_id="p-1")

    def close(self) -> None:
        self.closed = True


def config(*rules: dict[str, object]) -> Deployment:
    return Deployment.from_config({"tidings": {"timezone": "Europe/Warsaw"},
                         "plugins": {"channels": ["sms"], "triggers": ["status-change", "pre-visit"]},
                         "rules": list(rules), "templates": {"t": {"sms": "Hi {{ client.name }}"}}},
                        registry=registry_for(tidings_triggers.status_change, tidings_triggers.pre_visit, Sms()))


BOOKED = {"id": "booked", "trigger": "status-change", "on": "created", "channel": "sms", "template": "t"}
REMINDER = {"id": "reminder-24h", "trigger": "pre-visit", "before": "24h", "channel": "sms", "template": "t"}


def created(at: datetime = NOW) -> dict[str, object]:
    return {"id": "evt-1", "type": "appointment.created", "occurred_at": at.isoformat(),
            "subject": {"id": "a-1", "status": "confirmed", "start": START.isoformat(),
                        "client": {"id": "c-1", "name": "Ola", "phone": "+48600100200", "consents": {"sms": True}}}}


def test_a_published_event_is_planned_by_the_worker_and_its_message_recorded(start_pipeline: StartPipeline) -> None:
    stub = start_pipeline(config(BOOKED))
    stub.publish(created())
    assert stub.run() == 1
    [message] = stub.recorded("sms")
    assert (message.rule, message.subject, message.to, message.parts["text"]) == ("booked", "a-1", "+48600100200", "Hi Ola")


def test_running_until_a_time_moves_the_virtual_clock_and_sends_what_falls_due_by_then(
        start_pipeline: StartPipeline) -> None:
    stub = start_pipeline(config(REMINDER))
    stub.publish(created())
    assert stub.run() == 0 and stub.recorded("sms") == []
    assert stub.run(until=START - timedelta(hours=24, minutes=1)) == 0
    assert stub.run(until=START - timedelta(hours=24)) == 1
    assert stub.clock.now() == START - timedelta(hours=24)
    assert [m.rule for m in stub.recorded("sms")] == ["reminder-24h"]


def test_a_transient_failure_is_retried_by_dramatiq_under_the_same_key(start_pipeline: StartPipeline) -> None:
    flaky = Flaky(failures=2)
    stub = start_pipeline(config(BOOKED), transports={"sms": flaky})
    stub.publish(created())
    stub.run()
    assert flaky.attempts == 3 and len(flaky.delivered) == 1
    assert [e["status"] for e in stub.pipeline.store.log(subject="a-1")] == ["scheduled", "sent"]


def test_the_recorded_messages_of_a_channel_with_a_transport_of_the_tests_own_are_refused(
        start_pipeline: StartPipeline) -> None:
    stub = start_pipeline(config(BOOKED), transports={"sms": Flaky()})
    with pytest.raises(TypeError, match="the sms channel has a transport of the test's own"):
        stub.recorded("sms")


def test_stopping_closes_the_transports(start_pipeline: StartPipeline) -> None:
    flaky = Flaky()
    start_pipeline(config(BOOKED), transports={"sms": flaky}).stop()
    assert flaky.closed
