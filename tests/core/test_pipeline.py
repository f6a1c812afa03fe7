"""The dispatch pipeline (PRODUCT §6–§8): retries, fallback, exactly once, malformed events, real brokers."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from attrs import define, field, frozen

import tidings_triggers.repeat_visit
import tidings_triggers.status_change
from tidings import (Channel, Drop, PermanentDeliveryError, Receipt, RenderedMessage, Send, TransientDeliveryError, Trigger,
                     hookimpl)
from tidings.clock import VirtualClock
from tidings.deployment import Deployment
from tidings.errors import EventError
from tidings.pipeline import Pipeline, build_pipeline
from tidings.plugins import registry_for
from tidings.store.memory import MemoryStore
from tidings.testing import StubPipeline

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)


@define
class ScriptedTransport:
    """A test transport that answers from a script: "ok", "transient", "permanent" or "bug", then "ok" forever."""

    script: list[str] = field(factory=list)
    delivered: list[tuple[RenderedMessage, str]] = field(factory=list)
    attempts: int = 0

    def send(self, message: RenderedMessage, *, idempotency_key: str) -> Receipt:
        self.attempts += 1
        outcome = self.script.pop(0) if self.script else "ok"
        if outcome == "transient":
            raise TransientDeliveryError("provider answered 503")
        if outcome == "permanent":
            raise PermanentDeliveryError("provider refused the number", reason="invalid_address")
        if outcome == "timeout":   # the request left, the answer never came: the provider may have it
            raise TransientDeliveryError("provider did not answer within 10 s", reason="timeout")
        if outcome == "busy":      # the provider answered: it did not take the message
            raise TransientDeliveryError("provider answered 503", reason="provider_unavailable", details={"status": 503})
        if outcome == "bug":   # what a transport raises when it meets a case it does not handle
            raise ValueError(f"cannot encode {message.to!r} for ola@example.com")
        self.delivered.append((message, idempotency_key))
        return Receipt(provider_id=f"p-{len(self.delivered)}")

    def close(self) -> None:
        pass


class TestChannels:
    """Two channels by the real names, whose addresses come straight from the contact."""

    @hookimpl
    def tidings_channels(self) -> Iterator[Channel]:
        yield Channel(name="sms", summary="", parts=("text",), connect=lambda s: ScriptedTransport(),
                      addresses=lambda c, s: (c.phone,) if c.phone and c.phone.startswith("+") else ())
        yield Channel(name="email", summary="", parts=("subject", "text", "html"), connect=lambda s: ScriptedTransport(),
                      addresses=lambda c, s: (c.email,) if c.email and "@" in c.email else ())


def make_config(*, delivery: str = "at-least-once", **tidings: Any) -> Deployment:
    return Deployment.from_config({"tidings": {"timezone": "Europe/Warsaw", **tidings},
                         "plugins": {"channels": ["sms", "email"], "triggers": ["status-change"]},
                         "rules": [{"id": "confirmed", "trigger": "status-change", "on": "status_changed",
                                    "to": ["confirmed"], "channel": "prefer_sms", "delivery": delivery}]},
                        registry=registry_for(tidings_triggers.status_change, TestChannels()))


def event(n: int = 1, *, phone: str = "+48600100200", email: str = "ola@example.com", consents: bool = True) -> dict[str, Any]:
    return {"id": f"evt-{n}", "type": "appointment.status_changed", "occurred_at": NOW.isoformat(),
            "subject": {"id": f"a-{n}", "status": "confirmed", "start": "2026-03-10T14:00:00+01:00",
                        "client": {"id": "c-ola", "name": "Ola", "phone": phone, "email": email, "locale": "pl",
                                   "consents": {"sms": consents, "email": consents}}},
            "previous": {"status": "pending"}}


@pytest.fixture
def transports() -> dict[str, ScriptedTransport]:
    return {"sms": ScriptedTransport(), "email": ScriptedTransport()}


@pytest.fixture
def stub_pipeline(transports: dict[str, ScriptedTransport], start_pipeline: Callable[..., StubPipeline]) -> Pipeline:
    """The real actors on Dramatiq's stub broker with a real worker thread, retries 10 ms apart (the kit's)."""
    return start_pipeline(make_config(), transports=transports, clock=VirtualClock(NOW), min_backoff_ms=10).pipeline


def run(pipeline: Any, *, fail_fast: bool = True) -> None:
    pipeline.broker.join(pipeline.queue, fail_fast=fail_fast)
    pipeline.enqueue_due()
    pipeline.broker.join(pipeline.queue, fail_fast=fail_fast)


def given_up(pipeline: Any) -> list[str]:
    """The actors of the messages Dramatiq failed: a dispatch whose retries ran out is one."""
    return [message.actor_name for message in pipeline.broker.dead_letters]


def statuses(pipeline: Any, subject: str = "a-1") -> list[tuple[str, str | None]]:
    return [(e["status"], e.get("reason")) for e in pipeline.store.log(subject=subject) if e["status"] not in ("scheduled",)]


def test_a_transient_failure_is_retried_and_delivered_once(stub_pipeline: Any, transports: dict[str, ScriptedTransport]) -> None:
    transports["sms"].script[:] = ["transient", "transient", "ok"]
    stub_pipeline.publish(event())
    run(stub_pipeline)
    assert transports["sms"].attempts == 3
    assert len(transports["sms"].delivered) == 1
    assert statuses(stub_pipeline) == [("sent", None)]


def test_a_permanent_failure_falls_back_to_the_next_usable_channel(stub_pipeline: Any, transports: dict[str, ScriptedTransport]) -> None:
    transports["sms"].script[:] = ["permanent"]
    stub_pipeline.publish(event())
    run(stub_pipeline)
    assert transports["sms"].attempts == 1
    assert [m.channel for m, _ in transports["email"].delivered] == ["email"]
    assert statuses(stub_pipeline) == [("failed", "invalid_address"), ("sent", None)]


def wait_for(condition: Callable[[], bool], *, within: float = 30.0) -> None:
    """Poll `condition` until it holds, failing the test after `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.01)


def test_an_outage_longer_than_the_retry_budget_keeps_the_message_until_the_visit_then_records_it_failed(
        stub_pipeline: Any, transports: dict[str, ScriptedTransport]) -> None:
    # Given a provider that answers every request 503 (retries at most 200 ms apart, the kit's cap)
    transports["sms"].script[:] = ["transient"] * 10_000
    stub_pipeline.publish(event())
    stub_pipeline.broker.join(stub_pipeline.queue, fail_fast=True)
    assert stub_pipeline.enqueue_due() == 1

    # When it keeps failing past the budget of a transport's bug (eight retries)
    wait_for(lambda: transports["sms"].attempts >= 15)

    # Then the message is still pending, nothing is recorded failed, and nothing went to e-mail
    assert stub_pipeline.store.count_pending() == 1
    assert statuses(stub_pipeline) == []
    assert transports["email"].attempts == 0

    # When the visit has started (its reminder is worthless now)
    stub_pipeline.clock.set(datetime(2026, 3, 10, 13, 0, tzinfo=timezone.utc))
    stub_pipeline.broker.join(stub_pipeline.queue, fail_fast=True)

    # Then the message is recorded failed as provider_unavailable, with the last error, and nothing is pending
    [failed] = [e for e in stub_pipeline.store.log(subject="a-1") if e["status"] == "failed"]
    assert (failed["reason"], failed["error"]) == ("provider_unavailable", "provider answered 503")
    assert stub_pipeline.store.count_pending() == 0
    assert given_up(stub_pipeline) == [] and transports["email"].attempts == 0


def test_a_channel_that_refused_is_not_asked_again_when_the_next_one_is_retried(
        stub_pipeline: Any, transports: dict[str, ScriptedTransport]) -> None:
    # Given SMS refusing the number for good and e-mail failing twice transiently
    transports["sms"].script[:] = ["permanent", "ok"]
    transports["email"].script[:] = ["transient", "transient", "ok"]
    stub_pipeline.publish(event())
    run(stub_pipeline)

    # Then SMS was asked once, e-mail three times, and the log holds one refusal and one sending
    assert transports["sms"].attempts == 1 and transports["sms"].delivered == []
    assert transports["email"].attempts == 3 and len(transports["email"].delivered) == 1
    assert statuses(stub_pipeline) == [("failed", "invalid_address"), ("sent", None)]


def test_a_lease_that_runs_out_during_retries_starts_no_second_chain(
        transports: dict[str, ScriptedTransport], start_pipeline: Callable[..., StubPipeline]) -> None:
    # Given a lease of one minute and a provider failing until told otherwise
    stub = start_pipeline(make_config(lease="1m"), transports=transports, clock=VirtualClock(NOW))
    pipeline = stub.pipeline
    transports["sms"].script[:] = ["transient"] * 10_000
    pipeline.publish(event())
    pipeline.broker.join(pipeline.queue, fail_fast=True)
    assert pipeline.enqueue_due() == 1
    wait_for(lambda: transports["sms"].attempts >= 3)

    # When the lease has long run out (half an hour of retries) and a scheduler looks again every minute
    for minutes in range(1, 30):
        stub.clock.set(NOW + timedelta(minutes=minutes))
        attempts = transports["sms"].attempts
        wait_for(lambda: transports["sms"].attempts > attempts)   # noqa: B023 - polled within the iteration
        assert pipeline.enqueue_due() == 0   # each retry holds its slot: nothing is claimed again

    # Then one chain goes on and delivers once when the provider recovers
    transports["sms"].script[:] = []
    pipeline.broker.join(pipeline.queue, fail_fast=True)
    assert len(transports["sms"].delivered) == 1
    assert statuses(pipeline) == [("sent", None)]


@pytest.mark.parametrize(("delivery", "script", "attempts", "outcome"), [
    ("at-least-once", ["timeout"], 2, ("sent", None)),
    ("at-most-once", ["timeout"], 1, ("failed", "outcome_unknown")),
    ("at-most-once", ["busy", "busy"], 3, ("sent", None)),
])
def test_a_rule_chooses_what_becomes_of_a_message_whose_attempt_outcome_is_unknown(
        delivery: str, script: list[str], attempts: int, outcome: tuple[str, str | None],
        transports: dict[str, ScriptedTransport], start_pipeline: Callable[..., StubPipeline]) -> None:
    # Given a channel without a lookup by key, and a first attempt that timed out (or answered 503)
    stub = start_pipeline(make_config(delivery=delivery), transports=transports, clock=VirtualClock(NOW))
    transports["sms"].script[:] = script
    stub.pipeline.publish(event())
    run(stub.pipeline)

    # Then at least once sends again after a timeout, at most once records it failed and sends nothing
    # more, on no channel; an answered failure is retried under either
    assert transports["sms"].attempts == attempts
    assert statuses(stub.pipeline) == [outcome]
    assert transports["email"].attempts == 0 and stub.pipeline.store.count_pending() == 0


def test_an_at_most_once_message_whose_worker_died_mid_request_is_not_sent_again() -> None:
    # Given a channel without a lookup whose first send "kills" the worker
    @define
    class Dies(ScriptedTransport):
        def send(self, message: RenderedMessage, *, idempotency_key: str) -> Receipt:
            if self.attempts == 0:
                self.attempts += 1
                raise KeyboardInterrupt("the worker is killed")
            return super().send(message, idempotency_key=idempotency_key)

    sms, store, clock = Dies(), MemoryStore(), VirtualClock(NOW)
    pipeline = build_pipeline(None, make_config(delivery="at-most-once"), store,
                              transports={"sms": sms, "email": ScriptedTransport()}, clock=clock)
    pipeline.publish(event())
    with pytest.raises(KeyboardInterrupt):
        pipeline.enqueue_due()

    # When the slot comes back and its sending lock has lapsed
    clock.set(NOW.replace(hour=9))
    pending = store.pending("confirmed|event:evt-1|client")
    assert pending is not None
    store.release(f"sending:{pending.key}")
    assert pipeline.enqueue_due() == 1

    # Then nothing is sent again: the message is recorded failed as outcome_unknown
    assert sms.attempts == 1 and sms.delivered == []
    assert statuses(pipeline) == [("failed", "outcome_unknown")]
    assert store.count_pending() == 0


def test_a_dispatch_of_an_earlier_claim_does_nothing_once_the_slot_is_claimed_again(
        transports: dict[str, ScriptedTransport]) -> None:
    # Given a message claimed once, whose lease ran out, and claimed again
    store = MemoryStore()
    pipeline = build_pipeline(None, make_config(lease="1m"), store, transports=transports, clock=VirtualClock(NOW))
    pipeline.publish(event())
    [(slot, first)] = store.claim_due(NOW, limit=10, lease=timedelta(minutes=1))
    [(_, second)] = store.claim_due(NOW + timedelta(minutes=2), limit=10, lease=timedelta(minutes=1))
    assert second > first

    # When the first claim's dispatch (a retry still in the broker) runs, and then the second's
    pipeline.dispatch(slot, first)
    assert transports["sms"].attempts == 0
    pipeline.dispatch(slot, second)

    # Then only the current claim sends
    assert transports["sms"].attempts == 1 and statuses(pipeline) == [("sent", None)]


def test_an_unexpected_exception_from_a_transport_is_retried_then_recorded_and_the_next_channel_tried(
        stub_pipeline: Any, transports: dict[str, ScriptedTransport]) -> None:
    # Given an SMS transport that raises something other than a DeliveryError on every attempt
    transports["sms"].script[:] = ["bug"] * 20

    # When the message falls due
    stub_pipeline.publish(event())
    run(stub_pipeline, fail_fast=False)

    # Then it is retried a bounded number of times, recorded with the exception's type and a masked
    # message, and delivered by e-mail; nothing is pending any more
    assert given_up(stub_pipeline) == ["tidings_dispatch"]
    assert transports["sms"].attempts == 9     # the first try and eight retries
    assert [m.channel for m, _ in transports["email"].delivered] == ["email"]
    failed, sent = [e for e in stub_pipeline.store.log(subject="a-1") if e["status"] in ("failed", "sent")]
    assert (failed["channel"], failed["reason"], failed["error_type"]) == ("sms", "transport_error", "builtins.ValueError")
    assert failed["error"] == "cannot encode '+48600***200' for o***@example.com"
    assert (sent["status"], sent["channel"]) == ("sent", "email")
    assert stub_pipeline.store.count_pending() == 0


def test_an_unexpected_exception_that_passes_is_delivered_once_by_its_own_channel(
        stub_pipeline: Any, transports: dict[str, ScriptedTransport]) -> None:
    transports["sms"].script[:] = ["bug", "ok"]
    stub_pipeline.publish(event())
    run(stub_pipeline)
    assert transports["sms"].attempts == 2 and len(transports["sms"].delivered) == 1
    assert transports["email"].delivered == []
    assert statuses(stub_pipeline) == [("sent", None)]


def test_without_a_broker_an_unexpected_exception_is_recorded_at_once_and_the_next_channel_tried(
        transports: dict[str, ScriptedTransport]) -> None:
    pipeline = build_pipeline(None, make_config(), MemoryStore(), transports=transports, clock=VirtualClock(NOW))
    transports["sms"].script[:] = ["bug"]
    pipeline.publish(event())
    pipeline.enqueue_due()
    assert statuses(pipeline) == [("failed", "transport_error"), ("sent", None)]


@pytest.mark.parametrize(("kwargs", "reason"), [
    ({"consents": False}, "no_consent"),
    ({"phone": "600", "email": "not-an-address"}, "invalid_address"),
])
def test_a_message_that_goes_nowhere_is_recorded_with_its_reason(stub_pipeline: Any, kwargs: dict[str, Any], reason: str) -> None:
    stub_pipeline.publish(event(**kwargs))
    run(stub_pipeline)
    assert statuses(stub_pipeline) == [("skipped", reason)]


def test_mixed_reasons_are_no_usable_channel(stub_pipeline: Any) -> None:
    raw = event(phone="600")
    raw["subject"]["client"]["consents"] = {"sms": True, "email": False}
    stub_pipeline.publish(raw)
    run(stub_pipeline)
    assert statuses(stub_pipeline) == [("skipped", "no_usable_channel")]


def test_an_event_id_seen_before_is_ignored(stub_pipeline: Any, transports: dict[str, ScriptedTransport]) -> None:
    stub_pipeline.publish(event())
    run(stub_pipeline)
    stub_pipeline.publish(event())
    run(stub_pipeline)
    assert len(transports["sms"].delivered) == 1


def test_a_malformed_event_reaching_a_worker_does_not_block_the_next(stub_pipeline: Any, transports: dict[str, ScriptedTransport]) -> None:
    bad = event(1)
    bad["subject"]["start"] = "2026-03-10T14:00"
    stub_pipeline.ingest_actor.send(bad)      # as if a host had bypassed publish()
    stub_pipeline.publish(event(2))
    run(stub_pipeline)
    assert [m.subject for m, _ in transports["sms"].delivered] == ["a-2"]


def test_an_event_at_a_location_the_configuration_does_not_define_is_rejected(transports: dict[str, ScriptedTransport]) -> None:
    pipeline = build_pipeline(None, make_config(), MemoryStore(), transports=transports, clock=VirtualClock(NOW))
    raw = event()
    raw["subject"]["location"] = "old-twon"
    with pytest.raises(EventError) as caught:
        pipeline.publish(raw)
    assert caught.value.field == "subject.location"
    # a worker handed it directly (a host bypassing publish) rejects it too: nothing is planned or marked seen
    pipeline.ingest(raw)
    assert pipeline.store.log() == [] and not pipeline.store.has_event("evt-1")


@pytest.mark.parametrize("type_", ["appointment.paid", "invoice.created"])
def test_an_unknown_event_type_no_rule_reacted_to_is_recorded(type_: str, transports: dict[str, ScriptedTransport]) -> None:
    pipeline = build_pipeline(None, make_config(), MemoryStore(), transports=transports, clock=VirtualClock(NOW))
    pipeline.publish({**event(), "type": type_})
    assert [(e["status"], e["reason"], e["event"], e["type"]) for e in pipeline.store.log()] == \
        [("ignored", "unknown_event_type", "evt-1", type_)]


def test_a_dispatch_repeated_after_a_crash_does_not_deliver_again(transports: dict[str, ScriptedTransport]) -> None:
    # Given a store whose first completion is lost, as when a worker dies right after delivering
    @define
    class LosesFirstCompletion(MemoryStore):
        lost: bool = False

        def complete(self, slot: str, version: int) -> bool:
            if not self.lost:
                self.lost = True
                return False
            return super().complete(slot, version)

    store = LosesFirstCompletion()
    clock = VirtualClock(NOW)
    pipeline = build_pipeline(None, make_config(), store, transports=transports, clock=clock)
    pipeline.publish(event())
    assert pipeline.enqueue_due() == 1
    # When the lease runs out and the message is claimed and dispatched again
    clock.set(NOW.replace(hour=9))
    assert pipeline.enqueue_due() == 1
    # Then the provider saw it once, and nothing is left pending
    assert len(transports["sms"].delivered) == 1
    assert store.count_pending() == 0


@define
class DiesMidRequest(ScriptedTransport):
    """A provider that keeps every message by key and can be asked for it; the first send "kills" the worker
    after the provider has the message, or (with `before`) before the request leaves."""

    before: bool = False
    kept: dict[str, str] = field(factory=dict)
    lookups: list[str] = field(factory=list)

    def send(self, message: RenderedMessage, *, idempotency_key: str) -> Receipt:
        self.attempts += 1
        if self.attempts == 1:
            if not self.before:
                self.kept[idempotency_key] = "p-1"
            raise KeyboardInterrupt("the worker is killed")   # not a DeliveryError: nothing is recorded
        self.kept[idempotency_key] = f"p-{self.attempts}"
        self.delivered.append((message, idempotency_key))
        return Receipt(provider_id=self.kept[idempotency_key])

    def find(self, *, idempotency_key: str) -> Receipt | None:
        self.lookups.append(idempotency_key)
        found = self.kept.get(idempotency_key)
        return Receipt(provider_id=found) if found else None


@pytest.mark.parametrize("before", [False, True], ids=["after-the-provider-got-it", "before-the-request-left"])
def test_a_message_whose_worker_died_mid_request_is_looked_up_before_it_is_sent_again(before: bool) -> None:
    sms = DiesMidRequest(before=before)
    store, clock = MemoryStore(), VirtualClock(NOW)
    pipeline = build_pipeline(None, make_config(), store, transports={"sms": sms, "email": ScriptedTransport()}, clock=clock)
    pipeline.publish(event())
    with pytest.raises(KeyboardInterrupt):
        pipeline.enqueue_due()
    # the lease runs out, the message is claimed again, and the dead worker's sending lock has lapsed too
    clock.set(NOW.replace(hour=9))
    pending = store.pending("confirmed|event:evt-1|client")
    assert pending is not None
    store.release(f"sending:{pending.key}")
    assert pipeline.enqueue_due() == 1
    [key] = sms.kept
    assert sms.lookups == [key]
    # the provider has the message exactly once either way: found, or sent now because it never arrived
    assert sms.attempts == (2 if before else 1)
    [sent] = [e for e in store.log(subject="a-1") if e["status"] == "sent"]
    assert sent["provider_id"] == ("p-2" if before else "p-1")
    assert sent["info"].get("recovered") is (None if before else True)
    assert store.count_pending() == 0


def test_one_clients_events_are_planned_one_at_a_time_across_workers() -> None:
    # Given a store slow to write, so that two workers planning at once would each miss what the other writes:
    # the completion's planner reads before the booking is stored, the booking's before the invitation is
    @define
    class SlowStore(MemoryStore):
        def put_subject(self, kind: str, subject: Any, *, occurred_at: datetime, order: str = "") -> bool:
            if subject["id"] == "a-2":
                time.sleep(0.05)
            return super().put_subject(kind, subject, occurred_at=occurred_at, order=order)

        def schedule(self, slot: str, *, send_at: datetime | None, message: Any) -> int:
            time.sleep(0.1)
            return super().schedule(slot, send_at=send_at, message=message)

    config = Deployment.from_config({"tidings": {"timezone": "Europe/Warsaw"}, "plugins": {"channels": ["sms"], "triggers": ["repeat-visit"]},
                           "rules": [{"id": "nails", "trigger": "repeat-visit", "categories": ["nails"], "after": "3w", "channel": "sms"}]},
                          registry=registry_for(tidings_triggers.repeat_visit, TestChannels()))
    store = SlowStore()
    pipeline = build_pipeline(None, config, store, transports={"sms": ScriptedTransport()}, clock=VirtualClock(NOW))
    client = {"id": "c-ola", "phone": "+48600100200", "consents": {"sms": True}}
    nails = [{"id": "manicure", "name": "Manicure", "category": "nails"}]
    completed = {"id": "evt-1", "type": "appointment.status_changed", "occurred_at": NOW.isoformat(), "previous": {"status": "confirmed"},
                 "subject": {"id": "a-1", "status": "completed", "start": "2026-03-02T08:00:00+01:00", "services": nails, "client": client}}
    booked = {"id": "evt-2", "type": "appointment.created", "occurred_at": NOW.isoformat(),
              "subject": {"id": "a-2", "status": "confirmed", "start": "2026-03-20T10:00:00+01:00", "services": nails, "client": client}}
    # When two workers ingest the completion and the next booking at the same moment
    workers = [threading.Thread(target=pipeline.ingest, args=(raw,)) for raw in (completed, booked)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    # Then the invitation exists and is held, as if the events had come one after the other
    invitation = store.pending("nails|client:c-ola|client")
    assert invitation is not None and invitation.suspended is True


@frozen
class NaiveRule:
    """A third-party trigger's rule keys: none."""


def naive_plan(event: Any, rule: Any, history: Any) -> Iterator[Any]:
    """A trigger that plans from the event it is given, knowing nothing of events out of order."""
    if event.subject.status == "cancelled":
        yield Drop(reason="cancelled")
    elif event.subject.start is not None:
        yield Send(due=event.subject.start - timedelta(hours=1))


class NaiveTrigger:
    @hookimpl
    def tidings_triggers(self) -> Iterator[Trigger]:
        yield Trigger(name="naive", summary="", rule_type=NaiveRule, default_template="naive", plan=naive_plan)


@pytest.mark.parametrize(("older", "newer_start"), [("confirmed", "2026-03-11T16:00:00+01:00"), ("cancelled", "2026-03-11T16:00:00+01:00")],
                         ids=["an-older-send", "an-older-drop"])
def test_an_older_event_taken_late_never_overwrites_what_a_later_one_planned(older: str, newer_start: str) -> None:
    # Given any trigger, even one that ignores the order of events
    config = Deployment.from_config({"tidings": {"timezone": "Europe/Warsaw"}, "plugins": {"channels": ["sms"], "triggers": ["naive"]},
                           "rules": [{"id": "naive", "trigger": "naive", "channel": "sms", "template": "t"}],
                           "templates": {"t": {"sms": "see you"}}},
                          registry=registry_for(NaiveTrigger(), TestChannels()))
    store = MemoryStore()
    pipeline = build_pipeline(None, config, store, transports={"sms": ScriptedTransport()}, clock=VirtualClock(NOW))
    newer = {**event(1), "id": "evt-new", "occurred_at": "2026-03-02T09:00:00.001+01:00"}
    newer["subject"] = {**newer["subject"], "start": newer_start}
    stale = {**event(1), "id": "evt-old", "occurred_at": "2026-03-02T09:00:00+01:00"}
    stale["subject"] = {**stale["subject"], "status": older}
    # When the later event is ingested first and the older one after it
    pipeline.ingest(newer)
    pipeline.ingest(stale)
    # Then the message the later event planned stands
    pending = store.pending("naive|subject:a-1|client")
    assert pending is not None and pending.event.id == "evt-new"
    assert pending.due.isoformat() == "2026-03-11T15:00:00+01:00"


def test_the_idempotency_key_is_stable_and_handed_to_the_transport(transports: dict[str, ScriptedTransport]) -> None:
    keys = []
    for _ in range(2):
        transports["sms"].delivered.clear()
        pipeline = build_pipeline(None, make_config(), MemoryStore(), transports=transports, clock=VirtualClock(NOW))
        pipeline.publish(event())
        pipeline.enqueue_due()
        keys.append(transports["sms"].delivered[0][1])
    assert keys[0] == keys[1] and len(keys[0]) == 40


def _broker_roundtrip(broker: Any, store: Any, transports: dict[str, ScriptedTransport]) -> None:
    from dramatiq import Worker
    broker.emit_after("process_boot")
    # its own namespace, so the queue is this test's alone on a shared broker
    namespace = f"test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    pipeline = build_pipeline(broker, make_config(namespace=namespace), store, transports=transports, clock=VirtualClock(NOW))
    broker.flush_all()
    worker = Worker(broker, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        for n in range(1, 6):
            pipeline.publish(event(n))
        broker.join(pipeline.queue, timeout=20_000)
        worker.join()
        assert pipeline.enqueue_due() == 5
        broker.join(pipeline.queue, timeout=20_000)
        worker.join()
    finally:
        worker.stop()
        broker.flush_all()
        if hasattr(broker, "channel"):   # RabbitMQ keeps declared queues: remove this test's
            for queue in (namespace, f"{namespace}.DQ", f"{namespace}.XQ"):
                broker.channel.queue_delete(queue)
        if hasattr(broker, "client"):   # Redis keeps the workers' heartbeats under the broker's namespace: remove them
            broker.client.delete(f"{broker.namespace}:__heartbeats__")
        broker.close()
    assert sorted(m.subject for m, _ in transports["sms"].delivered) == [f"a-{n}" for n in range(1, 6)]


def test_events_flow_through_redis_broker_and_redis_store(redis_store: Any, transports: dict[str, ScriptedTransport]) -> None:
    from dramatiq.brokers.redis import RedisBroker
    broker = RedisBroker(url="redis://127.0.0.1:6379/0", namespace=f"tidings-test-{os.getpid()}-{id(transports)}")
    _broker_roundtrip(broker, redis_store, transports)


def test_events_flow_through_rabbitmq(rabbitmq_url: str, transports: dict[str, ScriptedTransport]) -> None:
    from dramatiq.brokers.rabbitmq import RabbitmqBroker
    _broker_roundtrip(RabbitmqBroker(url=rabbitmq_url), MemoryStore(), transports)


def config_with_template(sms: str) -> Deployment:
    return Deployment.from_config({"tidings": {"timezone": "Europe/Warsaw", "locale": "en"},
                         "plugins": {"channels": ["sms", "email"], "triggers": ["status-change"]},
                         "rules": [{"id": "confirmed", "trigger": "status-change", "on": "status_changed", "to": ["confirmed"],
                                    "channel": "prefer_sms", "template": "t"}],
                         "templates": {"t": {"sms": sms}}},
                        registry=registry_for(tidings_triggers.status_change, TestChannels()))


def test_a_worker_writes_an_unlocalised_templates_dates_in_the_clients_locale(transports: dict[str, ScriptedTransport]) -> None:
    pipeline = build_pipeline(None, config_with_template("Do zobaczenia {{ subject.start | datetime }}"), MemoryStore(),
                              transports=transports, clock=VirtualClock(NOW))
    pipeline.publish(event())      # Ola's locale is pl; the template has no Polish text
    pipeline.enqueue_due()
    [(message, _)] = transports["sms"].delivered
    assert message.parts["text"] == "Do zobaczenia 10 mar 2026, 14:00"


def test_a_worker_refuses_a_message_holding_an_undefined_value_and_tries_the_next_channel(
        transports: dict[str, ScriptedTransport]) -> None:
    # Given a template that passes check (the sample has no products) but reads a key real products lack
    config = config_with_template("Ready: {{ data.get('products', []) | map(attribute='name') | list }}")
    store = MemoryStore()
    pipeline = build_pipeline(None, config, store, transports=transports, clock=VirtualClock(NOW))
    raw = event()
    raw["subject"]["data"] = {"products": [{"title": "Gel polish"}]}
    # When the worker renders it
    pipeline.publish(raw)
    pipeline.enqueue_due()
    # Then no SMS carries "[Undefined]": the failure is recorded and the e-mail (the built-in text) goes instead
    assert transports["sms"].delivered == []
    [failed] = [e for e in store.log(subject="a-1") if e["status"] == "failed"]
    assert failed["reason"] == "template_error"
    assert failed["error"].startswith("template 't' (default) sms.text: ") and "has no 'name'" in failed["error"]
    assert [m.channel for m, _ in transports["email"].delivered] == ["email"]
