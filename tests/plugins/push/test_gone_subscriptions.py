"""Push subscriptions the push service reports gone, through the real pipeline (PRODUCT §6–§7).

A real local push service (it verifies VAPID and decrypts what it gets) answers 410 for one
subscription; SMS goes to a real local JSON provider. The store is the in-memory one and Redis.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
import tidings_push.plugin
import tidings_sms.plugin
import tidings_triggers.status_change
from tidings import hookimpl
from tidings.clock import VirtualClock
from tidings.deployment import Deployment
from tidings.pipeline import Pipeline, build_pipeline, connect_transports
from tidings.plugins import build_registry, registry_for
from tidings.store import ScheduleStore
from tidings.store.memory import MemoryStore
from tidings.testing import LocalJsonProvider

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


class HostHook:
    """A plugin that listens on `tidings_delivery_recorded`, as a host's would."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    @hookimpl
    def tidings_delivery_recorded(self, record: Any) -> None:
        self.records.append(dict(record))


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> ScheduleStore:
    if request.param == "memory":
        return MemoryStore()
    found: ScheduleStore = request.getfixturevalue("redis_store")
    return found


@pytest.fixture
def hook() -> HostHook:
    return HostHook()


@pytest.fixture
def pipeline(push_service: Any, vapid_pem: str, local_json_provider: LocalJsonProvider, store: ScheduleStore,
             hook: HostHook) -> Iterator[Pipeline]:
    registry = registry_for(tidings_push.plugin, tidings_sms.plugin, tidings_triggers.status_change, hook)
    config = Deployment.from_config({
        "tidings": {"timezone": "Europe/Warsaw"},
        "plugins": {"channels": ["push", "sms"], "triggers": ["status-change"]},
        "channels": {"push": {"vapid_private_key": vapid_pem, "vapid_subject": "mailto:ops@salon.example", "timeout": 5.0},
                     "sms": {"provider": "json", "url": local_json_provider.url, "sender": "Salon", "default_region": "PL"}},
        "rules": [{"id": "booked", "trigger": "status-change", "on": "created", "channel": ["push", "sms"],
                   "template": "booked"}],
        "templates": {"booked": {"sms": "Booked {{ subject.id }}",
                                 "push": {"title": "Booked", "body": "Booked {{ subject.id }}"}}},
    }, registry=registry)
    built = build_pipeline(None, config, store, transports=connect_transports(config), clock=VirtualClock(NOW))
    yield built
    for transport in built.transports.values():
        transport.close()


def deliver(pipeline: Pipeline, n: int, *subscriptions: Any) -> None:
    """Book visit a-n for the client with these push subscriptions, and send what falls due."""
    pipeline.publish({"id": f"evt-{n}", "type": "appointment.created", "occurred_at": NOW.isoformat(),
                      "subject": {"id": f"a-{n}", "status": "confirmed", "start": "2026-03-10T14:00:00+01:00",
                                  "client": {"id": "c-1", "name": "Ola", "phone": "600 100 200",
                                             "consents": {"push": True, "sms": True},
                                             "push": [{"endpoint": s.endpoint, "keys": dict(s.keys)} for s in subscriptions]}}})
    pipeline.enqueue_due()


def told_posts(push_service: Any) -> int:
    """How many requests the push service answered as it was told to (410 or 404 for a gone subscription)."""
    return sum(1 for _, why in push_service.refused if why == "told to")


def entries(pipeline: Pipeline, subject: str) -> list[tuple[str, str | None, str | None]]:
    return [(e["status"], e.get("channel"), e.get("reason")) for e in pipeline.store.log(subject=subject)
            if e["status"] != "scheduled"]


def test_a_gone_subscription_falls_back_to_sms_once_and_is_never_posted_to_again(
        pipeline: Pipeline, push_service: Any, server_key: str, local_json_provider: LocalJsonProvider, hook: HostHook) -> None:
    # Given a client whose only push subscription the push service answers with 410
    browser = push_service.subscribe(server_key=server_key)
    push_service.answer(browser, 410)

    # When a first message falls due
    deliver(pipeline, 1, browser.subscription)

    # Then push fails as subscription_gone, the log names the endpoint, and SMS carries the message
    assert told_posts(push_service) == 1
    assert local_json_provider.texts() == ["Booked a-1"]
    assert entries(pipeline, "a-1") == [("failed", "push", "subscription_gone"), ("gone", "push", "address_gone"),
                                        ("sent", "sms", None)]
    failed, gone = (e for e in pipeline.store.log(subject="a-1") if e["status"] in ("failed", "gone"))
    assert failed["to"] == gone["to"] == browser.endpoint
    assert failed["details"]["gone"] == [browser.endpoint]
    assert gone["client"] == "c-1"

    # When a second message for the same client, with the same subscription, falls due
    deliver(pipeline, 2, browser.subscription)

    # Then the push service never hears of it: push has no address left, and SMS carries it
    assert told_posts(push_service) == 1
    assert local_json_provider.texts() == ["Booked a-1", "Booked a-2"]
    [skipped_push] = [e for e in pipeline.store.log(subject="a-2") if e["status"] == "sent"]
    assert skipped_push["channel"] == "sms"

    # And the host heard of the gone subscription through the hook, with its endpoint
    assert [(r["status"], r["to"]) for r in hook.records if r["status"] == "gone"] == [("gone", browser.endpoint)]
    assert [r["status"] for r in hook.records] == [e["status"] for e in pipeline.store.log()]


def test_the_same_endpoint_with_new_keys_is_posted_to_again(
        pipeline: Pipeline, push_service: Any, server_key: str, local_json_provider: LocalJsonProvider) -> None:
    # Given a subscription that went
    browser = push_service.subscribe(server_key=server_key)
    push_service.answer(browser, 410)
    deliver(pipeline, 1, browser.subscription)

    # When the browser subscribes anew at the same endpoint (new keys) and the host sends that
    renewed = push_service.subscribe(server_key=server_key)
    push_service.browsers[browser.id] = type(renewed)(id=browser.id, endpoint=browser.endpoint,
                                                      private_key=renewed.private_key, auth=renewed.auth,
                                                      server_key=server_key)
    del push_service.answers[browser.id]
    resubscribed = push_service.browsers[browser.id]
    assert resubscribed.subscription.endpoint == browser.endpoint
    assert resubscribed.subscription.keys != browser.subscription.keys
    deliver(pipeline, 2, resubscribed.subscription)

    # Then it is posted to and decrypted with the new keys, and no SMS is needed
    assert [m["body"] for m in push_service.messages(resubscribed)] == ["Booked a-2"]
    assert local_json_provider.texts() == ["Booked a-1"]
    assert entries(pipeline, "a-2") == [("sent", "push", None)]

    # And the old keys at that endpoint stay gone
    deliver(pipeline, 3, browser.subscription)
    assert entries(pipeline, "a-3") == [("sent", "sms", None)]
    assert len(push_service.messages(resubscribed)) == 1


def test_one_gone_subscription_of_two_is_remembered_while_the_other_gets_the_message(
        pipeline: Pipeline, push_service: Any, server_key: str, local_json_provider: LocalJsonProvider) -> None:
    phone, laptop = push_service.subscribe(server_key=server_key), push_service.subscribe(server_key=server_key)
    push_service.answer(laptop, 404)

    deliver(pipeline, 1, phone.subscription, laptop.subscription)
    deliver(pipeline, 2, phone.subscription, laptop.subscription)

    assert [m["body"] for m in push_service.messages(phone)] == ["Booked a-1", "Booked a-2"]
    assert [status for status, _ in push_service.refused] == [404]    # the laptop was asked once only
    assert entries(pipeline, "a-1") == [("sent", "push", None), ("gone", "push", "address_gone")]
    assert entries(pipeline, "a-2") == [("sent", "push", None)]
    assert local_json_provider.texts() == []


def test_a_raising_hook_and_listener_are_logged_and_delivery_goes_on(
        push_service: Any, vapid_pem: str, local_json_provider: LocalJsonProvider, server_key: str) -> None:
    # Given a plugin and a host listener that both raise on every entry, and one that records
    class Broken:
        @hookimpl
        def tidings_delivery_recorded(self, record: Any) -> None:
            raise RuntimeError("audit sink is down")

    recorder = HostHook()
    registry = build_registry({"channels": ["push", "sms"], "triggers": ["status-change"]}, extra=[Broken(), recorder])
    config = Deployment.from_config({
        "tidings": {"timezone": "Europe/Warsaw"},
        "plugins": {"channels": ["push", "sms"], "triggers": ["status-change"]},
        "channels": {"push": {"vapid_private_key": vapid_pem, "vapid_subject": "mailto:ops@salon.example"},
                     "sms": {"provider": "json", "url": local_json_provider.url, "sender": "Salon", "default_region": "PL"}},
        "rules": [{"id": "booked", "trigger": "status-change", "on": "created", "channel": ["push", "sms"],
                   "template": "booked"}],
        "templates": {"booked": {"sms": "Booked {{ subject.id }}", "push": {"title": "Booked", "body": "Booked"}}},
    }, registry=registry)
    pipeline = build_pipeline(None, config, MemoryStore(), transports=connect_transports(config), clock=VirtualClock(NOW))
    seen: list[str] = []
    pipeline.listeners.append(lambda entry: (_ for _ in ()).throw(ValueError("host bug")))
    pipeline.listeners.append(lambda entry: seen.append(entry["status"]))
    browser = push_service.subscribe(server_key=server_key)

    # When a message is delivered
    deliver(pipeline, 1, browser.subscription)

    # Then it arrives, and every observer that works saw every entry
    assert [m["body"] for m in push_service.messages(browser)] == ["Booked"]
    assert seen == [r["status"] for r in recorder.records] == ["scheduled", "sent"]
    for transport in pipeline.transports.values():
        transport.close()

