"""The manual queue in the real pipeline, on both stores: queued per location, done by staff, expired, once each.

Rules send through the manual channel's real transport, connected with its namespace of the store
the pipeline uses; the pipeline runs on the kit's stub broker with a real worker thread and a
virtual clock. The SMS channel beside it is the real ``json`` provider transport against the kit's
local JSON API.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import attrs
import pytest

import tidings_manual.plugin
import tidings_sms.plugin
import tidings_triggers.pre_visit
import tidings_triggers.status_change
from tidings.clock import VirtualClock
from tidings.deployment import Deployment
from tidings.pipeline import connect_transports
from tidings.plugins import registry_for
from tidings.store import PluginData, ScheduleStore
from tidings.store.memory import MemoryStore
from tidings.testing import NOW, LocalJsonProvider, StubPipeline
from tidings_manual import ManualError, ManualQueue
from tidings_manual.transport import ManualTransport

START = NOW + timedelta(days=3)        # the visit: Thursday 10:00 Warsaw


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> ScheduleStore:
    return MemoryStore() if request.param == "memory" else request.getfixturevalue("redis_store")


def deployment(provider: LocalJsonProvider, *, channel: Any = "manual", max_age: str = "7d") -> Deployment:
    return Deployment.from_config({
        "tidings": {"timezone": "Europe/Warsaw", "locale": "en"},
        "plugins": {"channels": ["manual", "sms"], "triggers": ["pre-visit", "status-change"]},
        "channels": {"manual": {"max_age": max_age},
                     "sms": {"provider": "json", "url": provider.url, "sender": "Salon", "timeout": 5.0}},
        "locations": {"old-town": {"name": "Old Town"}, "riverside": {"name": "Riverside"}},
        "rules": [{"id": "reminder-24h", "trigger": "pre-visit", "before": "24h", "channel": channel},
                  {"id": "thanks", "trigger": "status-change", "on": "status_changed", "to": ["completed"],
                   "channel": "manual"}]},
        registry=registry_for(tidings_triggers.pre_visit, tidings_triggers.status_change, tidings_manual.plugin,
                              tidings_sms.plugin))


@pytest.fixture
def provider(local_json_provider: LocalJsonProvider) -> LocalJsonProvider:
    return local_json_provider


@pytest.fixture
def start(store: ScheduleStore, provider: LocalJsonProvider, virtual_clock: VirtualClock,
          start_pipeline: Callable[..., StubPipeline]) -> Callable[..., StubPipeline]:
    def started(**keys: Any) -> StubPipeline:
        deployed = deployment(provider, **keys)
        transports = connect_transports(deployed, store=store)
        assert isinstance(transports["manual"], ManualTransport)
        # the real transport, on the pipeline's virtual clock: a message's age is counted on it
        transports["manual"] = attrs.evolve(transports["manual"], clock=virtual_clock)
        return start_pipeline(deployed, store=store, transports=transports)
    return started


def visit(subject: str = "a-1", *, location: str = "old-town", start: Any = START, status: str = "confirmed",
          event: str | None = None, occurred: Any = NOW, **client: Any) -> dict[str, Any]:
    return {"id": event or f"evt-{subject}-{status}", "type": "appointment.created" if status == "confirmed" else
            "appointment.status_changed", "occurred_at": occurred.isoformat(),
            **({} if status == "confirmed" else {"previous": {"status": "confirmed"}}),
            "subject": {"id": subject, "status": status, "start": start.isoformat(), "location": location,
                        "client": {"id": f"c-{subject}", "name": "Ola Nowak", "phone": "+48 600 100 200",
                                   "email": "ola@example.com", "locale": "en",
                                   "consents": {"manual": True, "sms": True}, **client}}}


def queue(stub: StubPipeline) -> ManualQueue:
    pipeline = stub.pipeline
    return ManualQueue(store=pipeline.store, deliverylog=pipeline.deliverylog, config=pipeline.config, clock=stub.clock)


def statuses(stub: StubPipeline, subject: str = "a-1") -> list[tuple[str, str | None, str | None]]:
    return [(e["status"], e.get("channel"), e.get("reason")) for e in stub.pipeline.store.log(subject=subject)
            if e["status"] not in ("scheduled",)]


def test_reminders_are_queued_per_location_with_their_one_tap_links(start: Callable[..., StubPipeline]) -> None:
    stub = start()
    stub.publish(visit("a-1", location="old-town"))
    stub.publish(visit("a-2", location="riverside", email=None))
    stub.run(START - timedelta(hours=24))
    everything = queue(stub).list()
    assert [m.subject for m in everything] == ["a-1", "a-2"]
    [mine] = queue(stub).list(location="old-town")
    assert (mine.rule, mine.to, mine.recipient, mine.location) == ("reminder-24h", "+48600100200", "Ola Nowak", "old-town")
    assert list(mine.links) == ["whatsapp", "sms", "email"]
    assert mine.links["whatsapp"].startswith("https://wa.me/48600100200?text=Hi%20Ola%20Nowak")
    assert list(queue(stub).list(location="riverside")[0].links) == ["whatsapp", "sms"]
    # the log says queued, not sent: nobody has sent it yet
    assert statuses(stub) == [("queued", "manual", None)]


def test_staff_mark_a_message_done_once_and_the_log_records_it_sent(start: Callable[..., StubPipeline]) -> None:
    stub = start()
    stub.publish(visit())
    stub.run(START - timedelta(hours=24))
    [message] = queue(stub).list()
    done = queue(stub).done(message.id, by="Anna")
    assert done.state == "done" and queue(stub).list() == []
    [sent] = [e for e in stub.pipeline.store.log(subject="a-1") if e["status"] == "sent"]
    assert (sent["channel"], sent["to"], sent["key"], sent["info"]) == ("manual", "+48600100200", message.key,
                                                                        {"by": "staff", "staff": "Anna"})
    assert sent["event"] == "evt-a-1-confirmed" and sent["client"] == "c-a-1" and sent["text"] == message.text
    with pytest.raises(ManualError, match="marked done already"):
        queue(stub).done(message.id)
    with pytest.raises(ManualError, match="no manual message 'nope'"):
        queue(stub).done("nope")
    assert statuses(stub) == [("queued", "manual", None), ("sent", "manual", None)]


def test_a_reminder_nobody_sent_expires_when_the_visit_starts(start: Callable[..., StubPipeline]) -> None:
    stub = start()
    stub.publish(visit())
    stub.run(START - timedelta(hours=24))
    stub.clock.set(START - timedelta(minutes=1))
    assert len(queue(stub).list()) == 1
    stub.clock.set(START)
    assert queue(stub).list() == []
    [failed] = [e for e in stub.pipeline.store.log(subject="a-1") if e["status"] == "failed"]
    assert (failed["channel"], failed["reason"], failed["details"]["why"]) == ("manual", "expired", "visit_started")
    with pytest.raises(ManualError, match="expired already"):
        queue(stub).done(queue(stub).get(failed["key"][:12]).id)


def test_a_message_about_a_past_visit_expires_only_when_older_than_max_age(start: Callable[..., StubPipeline]) -> None:
    stub = start(max_age="1d")
    stub.publish(visit())
    stub.clock.set(START + timedelta(hours=1))
    stub.publish(visit(status="completed", occurred=START + timedelta(hours=1)))
    stub.run()
    assert [m.rule for m in queue(stub).list()] == ["thanks"], "queued after the visit: its start does not expire it"
    stub.clock.set(START + timedelta(days=1, hours=1))
    [expired] = queue(stub).expire()
    assert expired.rule == "thanks" and expired.state == "expired"
    assert [e["details"]["why"] for e in stub.pipeline.store.log(subject="a-1") if e["status"] == "failed"] == ["too_old"]


def test_a_message_queued_by_an_attempt_that_died_is_found_not_queued_twice(
        start: Callable[..., StubPipeline], store: ScheduleStore) -> None:
    # Given a worker that queued the message and died before the core recorded it
    stub = start()
    stub.publish(visit())
    claimed = store.claim_due(START - timedelta(hours=24), limit=10, lease=timedelta(seconds=0))
    [pending] = {found.key: found for slot, _ in claimed if (found := store.pending(slot)) is not None}.values()
    from tidings import RenderedMessage
    store.mark_attempt(f"{pending.key}|manual")
    stub.transports["manual"].send(RenderedMessage(channel="manual", to="+48600100200", parts={"text": "first"},
                                                   rule="reminder-24h", subject="a-1", location={"id": "old-town"}),
                                   idempotency_key=pending.key)
    # When the message is dispatched again
    stub.run(START - timedelta(hours=24))
    # Then it is in the queue once, as the first attempt left it, and logged queued once
    [message] = queue(stub).list()
    assert message.text == "first" and PluginData(store, "manual").items("queued") == [message.id]
    assert statuses(stub) == [("queued", "manual", None)]


def test_a_client_the_sms_provider_refuses_is_queued_for_staff(start: Callable[..., StubPipeline],
                                                               provider: LocalJsonProvider) -> None:
    stub = start(channel=["sms", "manual"])
    provider.then(400, {"error": "invalid number"})
    stub.publish(visit())
    stub.run(START - timedelta(hours=24))
    assert provider.delivered == []
    [failed, queued] = statuses(stub)
    assert failed[:2] == ("failed", "sms") and queued == ("queued", "manual", None)
    assert len(queue(stub).list()) == 1


def test_a_client_without_consent_for_manual_sending_gets_the_next_channel(
        start: Callable[..., StubPipeline], provider: LocalJsonProvider) -> None:
    stub = start(channel=["manual", "sms"])
    stub.publish(visit(consents={"sms": True}))
    stub.run(START - timedelta(hours=24))
    assert len(provider.delivered) == 1 and queue(stub).list() == []
    assert statuses(stub) == [("sent", "sms", None)]
