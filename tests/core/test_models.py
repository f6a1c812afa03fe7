"""Events (PRODUCT §3): validated, with errors that name the event, the field and the problem."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# ---------------------------------------------------------------- no value is coerced into another type


@pytest.mark.parametrize(("path", "value", "field", "problem"), [
    ("subject.client.consents.sms", "false", "subject.client.consents.sms", "must be true or false (a JSON boolean), not 'false' (a string)"),
    ("subject.client.consents.sms", "no", "subject.client.consents.sms", "not 'no' (a string)"),
    ("subject.client.consents.sms", 0, "subject.client.consents.sms", "not 0 (a number)"),
    ("subject.client.consents.sms", 1, "subject.client.consents.sms", "not 1 (a number)"),
    ("subject.client.consents.sms", " ", "subject.client.consents.sms", "not ' ' (a string)"),
    ("subject.client.consents.sms", None, "subject.client.consents.sms", "not null"),
    ("subject.client.consents", ["sms"], "subject.client.consents", "must be an object, not a list"),
    ("subject.client.name", 5, "subject.client.name", "must be a string, not 5 (a number)"),
    ("subject.client.phone", 48600100200, "subject.client.phone", "must be a string, not 48600100200 (a number)"),
    ("subject.status", 5, "subject.status", "must be a string"),
    ("subject.location", True, "subject.location", "must be a string, not true"),
    ("subject.services", "manicure", "subject.services", "must be a list, not 'manicure' (a string)"),
    ("subject.services", {"id": "manicure"}, "subject.services", "must be a list, not an object"),
    ("subject.client.push", "https://push.example/abc", "subject.client.push", "must be a list"),
    ("subject.client.push", [{"endpoint": "https://push.example/abc", "keys": {"p256dh": "k", "auth": 5}}],
     "subject.client.push[0].keys.auth", "must be a string, not 5 (a number)"),
    ("subject.client", "c-5", "subject.client", "must be an object, not 'c-5' (a string)"),
    ("subject.data", ["price"], "subject.data", "must be an object, not a list"),
    ("subject.id", 17.5, "subject.id", "must be a string or an integer, not 17.5 (a number)"),
    ("subject.id", True, "subject.id", "must be a string or an integer, not true"),
    ("previous.status", 3, "previous.status", "must be a string"),
    ("type", ["appointment.created"], "type", "must be a string, not a list"),
])
def test_a_value_of_the_wrong_type_is_rejected_naming_its_field(path: str, value: Any, field: str, problem: str) -> None:
    with pytest.raises(EventError) as caught:
        Event.from_dict(changed(path, value))
    assert caught.value.field == field
    assert str(caught.value).startswith(f"event evt-0042: {field} ")
    assert problem in str(caught.value)


def test_integer_ids_are_read_as_their_digits() -> None:
    # the one documented leniency (docs/events.md): hosts often number their records
    raw = changed("subject.id", 17)
    raw["id"] = 42
    raw["subject"]["client"]["id"] = 5
    raw["subject"]["services"][0]["id"] = 3
    event = Event.from_dict(raw)
    assert (event.id, event.subject.id, event.subject.client.id, event.subject.services[0].id) == ("42", "17", "5", "3")


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3), max_leaves=5)


@settings(max_examples=300, deadline=None, database=None)
@given(value=JSON.filter(lambda v: not isinstance(v, bool)), channel=st.sampled_from(["sms", "email", "push", "telegram"]))
def test_no_value_but_a_json_boolean_is_ever_read_as_a_consent(value: Any, channel: str) -> None:
    raw = changed(f"subject.client.consents.{channel}", value)
    with pytest.raises(EventError) as caught:
        Event.from_dict(raw)
    assert caught.value.field == f"subject.client.consents.{channel}"


@settings(max_examples=50, deadline=None, database=None)
@given(value=st.booleans(), channel=st.sampled_from(["sms", "email", "push", "telegram"]))
def test_a_json_boolean_consent_is_read_as_itself(value: bool, channel: str) -> None:
    client = Event.from_dict(changed(f"subject.client.consents.{channel}", value)).subject.client
    assert client is not None and client.consents[channel] is value
