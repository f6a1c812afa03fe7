"""Reading events against a configuration (PRODUCT §3): undefined locations and keys outside the contract."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import pytest

from tidings.errors import EventError
from tidings.intake import EventReader, unknown_keys

EVENT: dict[str, Any] = {
    "id": "evt-1", "type": "appointment.created", "occurred_at": "2026-03-02T09:15:00+01:00", "mute": ["r"],
    "subject": {"id": "a-17", "status": "confirmed", "start": "2026-03-10T14:00:00+01:00", "location": "old-town",
                "services": [{"id": "manicure", "name": "Manicure", "category": "nails"}],
                "staff": {"id": "s-1", "name": "Anna"},
                "client": {"id": "c-5", "name": "Ola", "phone": "+48600100200", "consents": {"sms": True, "telegram": True},
                           "addresses": {"telegram": "123456789"},
                           "push": [{"endpoint": "https://push.example/abc", "keys": {"p256dh": "k", "auth": "a"}}]},
                "data": {"price": "120 PLN", "anything": {"nested": [1, 2]}}},
}


def with_extra(**paths: Any) -> dict[str, Any]:
    raw = json.loads(json.dumps(EVENT))
    for path, value in paths.items():
        *parents, last = path.split("__")
        target = raw
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[last] = value
    return raw


def test_an_event_within_the_contract_has_no_unknown_keys() -> None:
    # free-form tables (data, consents, addresses, push keys) and a top-level mute are part of the contract
    assert unknown_keys(EVENT) == []


def test_unknown_keys_are_found_anywhere_with_their_paths() -> None:
    raw = with_extra(colour="gold", subject__clinet={"id": "c"}, subject__client__phonee="+48",
                     subject__services__0__colour="red", subject__client__push__0__expires=1)
    assert sorted(unknown_keys(raw)) == ["colour", "subject.client.phonee", "subject.client.push[0].expires",
                                         "subject.clinet", "subject.services[0].colour"]


def reader(**kwargs: Any) -> EventReader:
    return EventReader(locations={"old-town", "annex"}, reported=set(), **kwargs)


def test_an_unknown_key_is_warned_once_per_path_not_once_per_event(caplog: pytest.LogCaptureFixture) -> None:
    events = reader()
    second = with_extra(subject__clinet=1, subject__services=[{"id": "a", "colour": "x"}, {"id": "b", "colour": "y"}])
    second["id"] = "evt-2"
    with caplog.at_level(logging.WARNING, logger="tidings.intake"):
        events.read(with_extra(subject__clinet=1))
        events.read(second)
    fields = [r.tidings for r in caplog.records if r.name == "tidings.intake"]   # type: ignore[attr-defined]
    warnings = [(f["event"], f["path"], f["event_id"]) for f in fields]
    assert warnings == [("event_unknown_key", "subject.clinet", "evt-1"),
                        ("event_unknown_key", "subject.services[0].colour", "evt-2")]


def test_readers_of_one_process_report_a_path_once_between_them() -> None:
    key = f"typo_{uuid.uuid4().hex[:8]}"
    seen: list[str] = []
    for _ in range(2):
        EventReader(locations={"old-town"}, on_unknown=lambda _id, path: seen.append(path)).read(with_extra(**{f"subject__{key}": 1}))
    assert seen == [f"subject.{key}"]


def test_an_unknown_key_does_not_reach_the_event() -> None:
    event = reader().read(with_extra(subject__client__phonee="+48600100201"))
    assert "phonee" not in json.dumps(event.to_dict())


def test_strict_events_rejects_an_unknown_key_naming_its_path() -> None:
    with pytest.raises(EventError) as caught:
        reader(strict=True).read(with_extra(subject__client__phonee="+48600100201"))
    assert caught.value.field == "subject.client.phonee"
    assert str(caught.value) == "event evt-1: subject.client.phonee is not a key of the event contract (strict_events is on)"


def test_an_undefined_location_is_rejected_naming_subject_location() -> None:
    with pytest.raises(EventError) as caught:
        reader().read(with_extra(subject__location="old-twon"))
    assert caught.value.field == "subject.location"
    assert str(caught.value) == ("event evt-1: subject.location 'old-twon' is not a location of the configuration "
                                 "(defined: annex, old-town)")


def test_an_event_without_a_location_needs_none_defined() -> None:
    raw = with_extra()
    del raw["subject"]["location"]
    assert EventReader(locations=(), reported=set()).read(raw).subject.location is None


def test_a_config_without_locations_rejects_a_named_one_and_says_how_to_define_it() -> None:
    with pytest.raises(EventError, match=r"subject.location 'old-town' is not a location of the configuration \(defined: none"):
        EventReader(locations=(), reported=set()).read(EVENT)


def test_a_json_line_is_read_like_a_dict() -> None:
    assert reader().read(json.dumps(EVENT)).subject.client is not None
    with pytest.raises(EventError, match="event is not JSON"):
        reader().read("{nope")
