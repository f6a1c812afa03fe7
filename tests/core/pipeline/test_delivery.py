"""What the delivery records when a channel took a message: sent, or queued for staff (`Channel.outcome`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

import tidings_triggers.status_change
from tidings import Channel, PluginError, Receipt, RenderedMessage, hookimpl
from tidings.deployment import Deployment
from tidings.pipeline import connect_transports
from tidings.plugins import registry_for
from tidings.report import Summary
from tidings.simulate import simulate
from tidings.store import PluginData
from tidings.store.memory import MemoryStore

EVENT = {"id": "e-1", "type": "appointment.status_changed", "occurred_at": "2026-03-02T09:00:00+01:00",
         "subject": {"id": "a-1", "status": "confirmed", "start": "2026-03-10T14:00:00+01:00", "location": "old-town",
                     "client": {"id": "c-1", "name": "Ola", "phone": "+48600100200", "consents": {"desk": True}}},
         "previous": {"status": "pending"}}


@attrs.define
class DeskTransport:
    """Keeps each message in the channel's namespace of the store, once per idempotency key."""

    data: PluginData

    def send(self, message: RenderedMessage, *, idempotency_key: str) -> Receipt:
        if self.data.put(idempotency_key, {"text": message.parts["text"]}, new=True):
            self.data.append("queued", idempotency_key)
        return Receipt(provider_id=idempotency_key)

    def close(self) -> None:
        pass


class Desk:
    """A channel whose messages staff send from the front desk: queued, not sent."""

    @hookimpl
    def tidings_channels(self) -> Iterator[Channel]:
        yield Channel(name="desk", summary="queued for the front desk", parts=("text",), outcome="queued",
                      uses_store=True, connect=lambda settings, *, data: DeskTransport(data),
                      addresses=lambda contact, settings: (contact.phone,) if contact.phone else ())


def deployment() -> Deployment:
    return Deployment.from_config({
        "tidings": {"timezone": "Europe/Warsaw"},
        "plugins": {"channels": ["desk"], "triggers": ["status-change"]},
        "locations": {"old-town": {"name": "Old Town"}},
        "rules": [{"id": "confirmed", "trigger": "status-change", "on": "status_changed", "to": ["confirmed"],
                   "channel": "desk"}]},
        registry=registry_for(tidings_triggers.status_change, Desk()))


def test_a_channel_that_queues_has_its_messages_logged_as_queued_and_queued_once(start_pipeline: Any) -> None:
    # Given the real transport of a queueing channel, connected with its namespace of the store
    store = MemoryStore()
    desk = deployment()
    stub = start_pipeline(desk, store=store, transports=connect_transports(desk, store=store))
    # When its message falls due, and the same event comes again
    stub.publish(EVENT)
    stub.run()
    stub.publish({**EVENT, "id": "e-2"})
    stub.run()
    # Then the log says queued (not sent), with the text, and the channel's data holds it once
    [entry] = [e for e in store.log(subject="a-1") if e["status"] in ("sent", "queued")]
    assert entry["status"] == "queued" and entry["channel"] == "desk" and entry["to"] == "+48600100200"
    assert entry["text"]
    data = PluginData(store, "desk")
    assert data.items("queued") == [entry["key"]]
    assert data.get(entry["key"]) == {"text": entry["text"]}


def test_connecting_a_channel_that_keeps_data_without_a_store_is_a_problem_naming_it() -> None:
    from tidings.errors import ConfigError

    with pytest.raises(ConfigError, match=r"channels\.desk: the desk channel keeps its messages in the schedule store"):
        connect_transports(deployment())


def test_simulate_writes_a_queued_message_with_its_status_and_counts_it_for_its_channel() -> None:
    [record] = simulate(deployment(), [json.dumps(EVENT)])
    assert record["status"] == "queued" and record["channel"] == "desk" and record["to"] == "+48600100200"
    summary = Summary.of([record], events=1, rejected=0)
    assert summary.sent == {("confirmed", "desk"): 1}


def test_an_outcome_the_core_does_not_know_is_refused_when_the_channel_is_registered() -> None:
    with pytest.raises(PluginError, match="outcome 'posted' is not one of sent, queued"):
        Channel(name="x", summary="x", parts=("text",), outcome="posted", connect=lambda s: None,
                addresses=lambda c, s: ())
