"""Events (PRODUCT §3): validated, with errors that name the event, the field and the problem."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tidings.errors import EventError
from tidings.models import Event

BASE: dict[str, Any] = {
    "id": "evt-0042", "type": "appointment.rescheduled", "occurred_at": "2026-03-02T09:15:00+01:00",
    "subject": {"id": "a-17", "status": "confirmed", "start": "2026-03-10T14:00:00+01:00", "location": "old-town",
                "services": [{"id": "manicure", "name": "Manicure", "category": "nails"}],
                "client": {"id": "c-5", "name": "Ola", "phone": "+48600100200", "consents": {"sms": True},
                           "push": [{"endpoint": "https://push.example/abc", "keys": {"p256dh": "k", "auth": "a"}}]},
                "data": {"price": "120 PLN"}},
    "previous": {"status": "pending", "start": "2026-03-09T14:00:00+01:00"},
}


def changed(path: str, value: Any) -> dict[str, Any]:
    raw = json.loads(json.dumps(BASE))
    *parents, last = path.split(".")
    target = raw
    for key in parents:
        target = target[key]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return raw


def test_a_full_event_is_structured_into_typed_models() -> None:
    event = Event.from_dict(BASE)
    assert (event.kind, event.verb) == ("appointment", "rescheduled")
    assert event.subject.client is not None and event.subject.client.push[0].endpoint == "https://push.example/abc"
    assert event.subject.start is not None and event.subject.start.utcoffset() is not None
    assert event.previous is not None and event.previous.status == "pending"


@pytest.mark.parametrize(("path", "value", "message"), [
    ("subject.start", "2026-03-10T14:00", "event evt-0042: subject.start '2026-03-10T14:00' has no UTC offset"),
    ("occurred_at", "yesterday", "event evt-0042: occurred_at 'yesterday' is not an RFC 3339 time"),
    ("subject.id", KeyError, "event evt-0042: subject.id is missing"),
    ("previous.start", KeyError, "event evt-0042: previous.start is required for a rescheduled event"),
    ("subject.status", "done", "event evt-0042: subject.status 'done' is not an appointment status"),
    ("type", "appointment", "event evt-0042: type 'appointment' is not of the form <kind>.<verb>"),
    ("subject.services", [{"name": "x"}], "event evt-0042: subject.services[0].id is missing"),
    ("subject.mute", "yes", "event evt-0042: subject.mute is invalid: 'yes' is neither true/false nor a list of rule ids"),
])
def test_a_malformed_event_names_its_field_and_the_problem(path: str, value: Any, message: str) -> None:
    with pytest.raises(EventError) as caught:
        Event.from_dict(changed(path, value))
    assert str(caught.value).startswith(message)
    assert caught.value.event_id == "evt-0042"


def test_a_status_change_needs_the_previous_status() -> None:
    raw = changed("type", "appointment.status_changed")
    del raw["previous"]
    with pytest.raises(EventError, match="previous.status is required for a status_changed event"):
        Event.from_dict(raw)


def test_unknown_event_types_and_extra_keys_are_accepted_for_third_party_triggers() -> None:
    raw = changed("type", "voucher.issued")
    raw["subject"]["colour"] = "gold"
    assert Event.from_dict(raw).kind == "voucher"


def test_orders_and_leads_accept_any_status() -> None:
    assert Event.from_dict(changed("type", "order.created") | {"subject": {**BASE["subject"], "status": "in_repair"}}).subject.status == "in_repair"


def test_mute_is_read_from_the_event_or_the_subject() -> None:
    assert Event.from_dict({**BASE, "mute": ["reminder-24h"]}).subject.mutes("reminder-24h")
    assert Event.from_dict(changed("subject.mute", True)).subject.mutes("anything")
    assert not Event.from_dict(BASE).subject.mutes("reminder-24h")


def test_mute_true_silences_client_messages_only_and_a_list_exactly_its_rules() -> None:
    everything = Event.from_dict(changed("subject.mute", True)).subject
    assert everything.mutes("reminder-24h", recipient="client")
    assert not everything.mutes("staff-notice", recipient="staff")
    listed = Event.from_dict(changed("subject.mute", ["staff-notice"])).subject
    assert listed.mutes("staff-notice", recipient="staff")
    assert not listed.mutes("reminder-24h", recipient="client")


def test_an_event_survives_a_round_trip_through_json() -> None:
    event = Event.from_dict(BASE)
    assert Event.from_json(json.dumps(event.to_dict())) == event


def test_a_line_that_is_not_json_is_an_error() -> None:
    with pytest.raises(EventError, match="event is not JSON"):
        Event.from_json("{not json")
