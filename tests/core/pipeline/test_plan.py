"""Ingest plans (`tidings.pipeline.plan`): one round trip to read, one to write, and never a message twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import tidings_triggers.pre_visit
from tidings import Channel, Receipt, RenderedMessage, hookimpl
from tidings.clock import VirtualClock
from tidings.deployment import Deployment
from tidings.pipeline import build_pipeline
from tidings.plugins import registry_for
from tidings.store import ScheduleStore
from tidings.store.memory import MemoryStore

START = datetime(2026, 3, 10, 13, 0, tzinfo=timezone.utc)


class Outbox:
    """A transport that keeps what it was given."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, message: RenderedMessage, *, idempotency_key: str) -> Receipt:
        self.sent.append(idempotency_key)
        return Receipt(provider_id=f"p-{len(self.sent)}")

    def close(self) -> None:
        pass


class Sms:
    @hookimpl
    def tidings_channels(self) -> Iterator[Channel]:
        yield Channel(name="sms", summary="", parts=("text",), connect=lambda s: Outbox(),
                      addresses=lambda c, s: (c.phone,) if c.phone else ())


def deployment(**tidings: str) -> Deployment:
    return Deployment.from_config({"tidings": {"timezone": "UTC", **tidings}, "plugins": {"channels": ["sms"], "triggers": ["pre-visit"]},
                                   "rules": [{"id": "reminder", "trigger": "pre-visit", "before": "24h", "late": "send",
                                              "channel": "sms"}]},
                                  registry=registry_for(tidings_triggers.pre_visit, Sms()))


def visit(n: int, at: datetime, start: datetime, *, type_: str = "appointment.updated") -> dict[str, Any]:
    return {"id": f"evt-{n}", "type": type_, "occurred_at": at.isoformat(),
            "subject": {"id": "a-1", "status": "confirmed", "start": start.isoformat(),
                        "client": {"id": "c-ola", "name": "Ola", "phone": "+48600100200", "consents": {"sms": True}}}}


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[ScheduleStore]:
    yield MemoryStore() if request.param == "memory" else request.getfixturevalue("redis_store")


def test_a_visit_moved_back_to_the_time_of_a_sent_reminder_is_planned_again_knowing_it_was_sent(store: ScheduleStore) -> None:
    # Given a visit whose reminder went out, then moved later, then back to its first time after the reminder's time
    clock = VirtualClock(START - timedelta(days=8))
    outbox = Outbox()
    pipeline = build_pipeline(None, deployment(), store, transports={"sms": outbox}, clock=clock)
    pipeline.publish(visit(1, clock.now(), START, type_="appointment.created"))
    clock.set(START - timedelta(hours=24))
    pipeline.enqueue_due()
    assert len(outbox.sent) == 1
    clock.set(START - timedelta(hours=23, minutes=30))
    pipeline.publish(visit(2, clock.now(), START + timedelta(hours=3)))
    clock.set(START - timedelta(hours=23))
    # When the visit moves back: its late reminder has the key of the one sent
    pipeline.publish(visit(3, clock.now(), START))
    clock.set(START)
    pipeline.enqueue_due()
    # Then it is not sent again, nothing is pending, and the log says why
    assert len(outbox.sent) == 1
    assert store.count_pending() == 0
    assert [(e["status"], e.get("reason")) for e in store.log(subject="a-1")][-1] == ("skipped", "already_sent")
    assert all(store.has_event(f"evt-{n}") for n in (1, 2, 3))


def test_history_goes_after_the_configured_retention_on_the_pipelines_clock(store: ScheduleStore) -> None:
    # Given a pipeline keeping 30 days, on a virtual clock, and a visit whose reminder went out
    clock = VirtualClock(START - timedelta(days=8))
    pipeline = build_pipeline(None, deployment(retention="30d"), store, transports={"sms": Outbox()}, clock=clock)
    pipeline.publish(visit(1, clock.now(), START, type_="appointment.created"))
    clock.set(START - timedelta(hours=24))
    pipeline.enqueue_due()
    assert store.log(client="c-ola") and store.subject("a-1") is not None
    # When 31 days pass and another client's event is ingested
    clock.set(START + timedelta(days=31))
    pipeline.publish({**visit(2, clock.now(), clock.now() + timedelta(days=1), type_="appointment.created"),
                      "subject": {"id": "a-2", "status": "confirmed", "start": (clock.now() + timedelta(days=1)).isoformat()}})
    # Then Ola's visit, its log and its seen event are gone
    assert (store.subject("a-1"), store.log(client="c-ola"), store.has_event("evt-1")) == (None, [], False)
    assert store.subject("a-2") is not None
