"""The webhook channel in the real pipeline, against the local receiver, with SMS (a local JSON API) after it.

The rules send ``channel = ["webhook", "sms"]`` with the built-in texts; the pipeline runs on the
kit's stub broker with a real worker thread. The receiver verifies every request with the
``standardwebhooks`` package and acts on each ``webhook-id`` once. Nothing is mocked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from tidings.deployment import Deployment
from tidings.testing import NOW, LocalJsonProvider, StubPipeline, registry_for

import tidings_sms.plugin
import tidings_webhook.plugin

from .conftest import SECRET, Receiver


@pytest.fixture
def stub(receiver: Receiver, local_json_provider: LocalJsonProvider,
         start_pipeline: Callable[..., StubPipeline]) -> StubPipeline:
    deployed = Deployment.from_config({
        "tidings": {"timezone": "Europe/Warsaw", "locale": "en"},
        "plugins": {"channels": ["webhook", "sms"], "triggers": ["status-change"]},
        "locations": {"old-town": {"name": "Old Town", "address": "Rynek 1, Kraków", "timezone": "Europe/Warsaw"}},
        "channels": {"webhook": {"url": f"{receiver.url}/hooks/tidings", "secret": SECRET, "timeout": 0.5},
                     "sms": {"provider": "json", "url": local_json_provider.url, "sender": "Salon", "timeout": 5.0}},
        "rules": [{"id": "confirmed", "trigger": "status-change", "on": "created", "channel": ["webhook", "sms"]},
                  {"id": "new-booking-task", "trigger": "status-change", "on": "created", "recipient": "staff",
                   "channel": "webhook"}],
    })
    settings = deployed.config.channels
    transports = {name: registry_for(plugin).channels[name].connect(settings[name])
                  for name, plugin in (("webhook", tidings_webhook.plugin), ("sms", tidings_sms.plugin))}
    return start_pipeline(deployed, transports=transports)


def visit(**client: Any) -> dict[str, Any]:
    return {"id": "evt-1", "type": "appointment.created", "occurred_at": NOW.isoformat(),
            "subject": {"id": "a-1", "status": "confirmed", "start": "2026-03-10T14:00:00+01:00", "location": "old-town",
                        "services": [{"id": "colour", "name": "Colouring", "category": "colouring"}],
                        "staff": {"id": "s-anna", "name": "Anna"}, "data": {"price": "240 PLN"},
                        "client": {"id": "c-1", "name": "Ola Nowak", "phone": "+48600100200", "locale": "en",
                                   "consents": {"webhook": True, "sms": True}, **client}}}


def log(stub: StubPipeline, rule: str = "confirmed") -> list[tuple[str, str | None, str | None]]:
    return [(e["status"], e.get("channel"), e.get("reason")) for e in stub.pipeline.store.log(subject="a-1")
            if e["status"] != "scheduled" and e["rule"] == rule]


def for_rule(receiver: Receiver, rule: str) -> list[dict[str, Any]]:
    return [task.payload["data"] for task in receiver.tasks if task.payload["data"]["rule"]["id"] == rule]


def test_a_message_reaches_the_host_signed_with_its_whole_context(
        stub: StubPipeline, receiver: Receiver, local_json_provider: LocalJsonProvider) -> None:
    stub.publish(visit())
    stub.run()
    assert receiver.refused == []                       # every request verified by standardwebhooks
    [data] = for_rule(receiver, "confirmed")
    [sent] = [e for e in stub.pipeline.store.log(subject="a-1") if e["status"] == "sent" and e["rule"] == "confirmed"]
    assert data["idempotency_key"] == sent["key"]
    assert [t.webhook_id for t in receiver.tasks if t.payload["data"]["rule"]["id"] == "confirmed"] == [sent["key"]]
    assert data["rule"] == {"id": "confirmed", "trigger": "status-change", "kind": "appointment", "recipient": "client",
                            "template": None}
    assert data["subject"] == {"id": "a-1", "kind": "appointment", "status": "confirmed",
                               "start": "2026-03-10T14:00:00+01:00", "end": None, "location": "old-town",
                               "services": [{"id": "colour", "name": "Colouring", "category": "colouring"}],
                               "data": {"price": "240 PLN"}}
    assert data["client"]["id"] == "c-1" and data["client"]["phone"] == "+48600100200"
    assert data["staff"]["id"] == "s-anna"
    assert data["recipient"]["role"] == "client" and data["recipient"]["address"] == "c-1"
    assert data["due"] == "2026-03-02T10:00:00+01:00" and datetime.fromisoformat(data["due"]) == NOW   # Warsaw's offset
    assert data["location"]["name"] == "Old Town"
    assert data["parts"]["title"] and data["parts"]["text"].startswith("Hi Ola Nowak,")
    assert local_json_provider.delivered == []
    assert log(stub) == [("sent", "webhook", None)]
    assert sent["provider_id"].startswith("task-") and sent["title"] == data["parts"]["title"]   # the host's task id


def test_a_staff_rule_reaches_the_staff_member_without_a_consent(stub: StubPipeline, receiver: Receiver) -> None:
    stub.publish(visit())
    stub.run()
    [data] = for_rule(receiver, "new-booking-task")
    assert data["recipient"] == {"role": "staff", "id": "s-anna", "name": "Anna", "phone": None, "email": None,
                                 "locale": None, "address": "s-anna"}
    assert data["client"]["name"] == "Ola Nowak"          # whom the staff member is to call
    assert log(stub, "new-booking-task") == [("sent", "webhook", None)]


def test_an_unavailable_host_is_retried_once_with_the_same_webhook_id(
        stub: StubPipeline, receiver: Receiver, local_json_provider: LocalJsonProvider) -> None:
    receiver.then(503, headers={"Retry-After": "1"})      # the first request of all (rules run in order)
    stub.publish(visit())
    stub.run()
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == 3 and ids[0] == ids[-1] != ids[1]  # the 503, the staff task, the retry
    assert [t.webhook_id for t in receiver.tasks].count(ids[0]) == 1 and receiver.duplicates == 0
    assert local_json_provider.delivered == []
    assert log(stub) == [("sent", "webhook", None)]


def test_a_host_that_wants_no_more_falls_back_to_sms(
        stub: StubPipeline, receiver: Receiver, local_json_provider: LocalJsonProvider) -> None:
    receiver.then(410, {"error": "endpoint disabled"})
    stub.publish(visit())
    stub.run()
    assert for_rule(receiver, "confirmed") == []
    [sms] = local_json_provider.delivered
    assert sms["to"] == "+48600100200" and sms["text"].startswith("Hi Ola Nowak, ")
    assert log(stub) == [("failed", "webhook", "endpoint_gone"), ("sent", "sms", None)]
    [failed] = [e for e in stub.pipeline.store.log(subject="a-1") if e["status"] == "failed"]
    assert failed["details"]["status"] == 410


def test_an_answer_lost_after_the_host_acted_is_retried_and_the_host_acts_once(
        stub: StubPipeline, receiver: Receiver, local_json_provider: LocalJsonProvider) -> None:
    receiver.lose_next_answer()       # the host creates the task, then its answer outlasts the 0.5 s timeout
    stub.publish(visit())
    stub.run()
    confirmed = [r for r in receiver.requests if r.json["data"]["rule"]["id"] == "confirmed"]
    assert len(confirmed) == 2 and confirmed[0].headers["webhook-id"] == confirmed[1].headers["webhook-id"]
    assert len(for_rule(receiver, "confirmed")) == 1 and receiver.duplicates == 1
    assert local_json_provider.delivered == []
    assert log(stub) == [("sent", "webhook", None)]
