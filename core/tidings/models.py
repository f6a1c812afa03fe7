"""The event contract (PRODUCT §3): frozen attrs models, structured by the event converter."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs
from attrs import field, frozen
from cattrs.errors import BaseValidationError

from tidings.converter import event_converter, problems_from
from tidings.errors import EventError

KINDS = ("appointment", "order", "lead")
VERBS = ("created", "status_changed", "rescheduled")
APPOINTMENT_STATUSES = ("pending", "confirmed", "rejected", "cancelled", "completed", "no_show")
# statuses after which a visit will not happen (PRODUCT §5)
CLOSED_STATUSES = ("cancelled", "rejected", "no_show")
MAX_EVENT_BYTES = 256 * 1024   # one event as JSON; a real one is a few kilobytes
MAX_DEPTH = 32                 # levels of nesting, `data` included


# the keys of a contact that hold addresses, beside `addresses.<channel>` (where a channel reads its own)
ADDRESS_KEYS = ("phone", "email", "push")


def is_address_key(key: str) -> bool:
    """Whether `key` names where a contact keeps an address: ``phone``, ``email``, ``push`` or ``addresses.<name>``."""
    name = key.removeprefix("addresses.")
    return key in ADDRESS_KEYS or (key.startswith("addresses.") and bool(name) and name.replace("-", "_").isidentifier())


@frozen
class PushSubscription:
    """One Web Push subscription of a recipient's browser or phone."""

    endpoint: str
    keys: dict[str, str] = field(factory=dict)


@frozen
class Contact:
    """A person messages go to: the client of a subject, or its staff member."""

    id: str
    name: str = ""
    phone: str | None = None
    email: str | None = None
    locale: str | None = None
    consents: dict[str, bool] = field(factory=dict)
    push: tuple[PushSubscription, ...] = ()
    addresses: dict[str, str] = field(factory=dict)   # channel -> address, for channels beyond phone, e-mail, push


@frozen
class Service:
    """One service of a visit or order."""

    id: str
    name: str = ""
    category: str | None = None


@frozen
class Subject:
    """The full snapshot of an appointment, order or lead after a change."""

    id: str
    status: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    location: str | None = None
    services: tuple[Service, ...] = ()
    staff: Contact | None = None
    client: Contact | None = None
    data: dict[str, Any] = field(factory=dict)
    mute: bool | tuple[str, ...] = False

    def mutes(self, rule_id: str, *, recipient: str = "client") -> bool:
        """Whether this snapshot silences `rule_id`, whose messages go to `recipient` (PRODUCT §3).

        ``mute = true`` is the client's opt-out of this booking's messages: staff rules still fire.
        A list of rule ids silences exactly those rules, whoever they are for.
        """
        if isinstance(self.mute, tuple):
            return rule_id in self.mute
        return self.mute is True and recipient == "client"


@frozen
class Previous:
    """What a subject was before the change an event reports."""

    status: str | None = None
    start: datetime | None = None


@frozen
class Event:
    """A domain event published by the host platform."""

    id: str
    type: str
    occurred_at: datetime
    subject: Subject
    previous: Previous | None = None

    @property
    def kind(self) -> str:
        return self.type.partition(".")[0]

    @property
    def verb(self) -> str:
        return self.type.partition(".")[2]

    @classmethod
    def from_json(cls, line: str | bytes) -> Event:
        """Parse one JSON line; raises EventError naming the field and the problem."""
        return cls.from_dict(decode_event(line))

    @classmethod
    def from_dict(cls, raw: Any) -> Event:
        """Validate and structure a dict; raises EventError naming the field and the problem."""
        if isinstance(raw, Event):
            return raw
        if not isinstance(raw, Mapping):
            raise EventError(f"an event must be a JSON object, not {type(raw).__name__}")
        event_id = raw.get("id")
        label = f"event {event_id}" if isinstance(event_id, str) and event_id else "event"
        data = dict(raw)
        # `mute` may stand at the top of the event or in the subject: it belongs to the snapshot
        if "mute" in data and isinstance(data.get("subject"), Mapping):
            data["subject"] = {**data["subject"], "mute": data.pop("mute")}
        try:
            event = event_converter.structure(data, cls)
        except BaseValidationError as e:
            first = problems_from(e, dotted_keys=True)[0]
            raise EventError(f"{label}: {first.path} {_describe(first.message)}",
                             event_id=event_id if isinstance(event_id, str) else None,
                             field=first.path) from None
        except (ValueError, TypeError) as e:
            raise EventError(f"{label}: {e}", event_id=event_id if isinstance(event_id, str) else None) from None
        # types first (the field's own error reads best), then values that would break a later step
        problem = harmful_value(raw)
        if problem is not None:
            where, message = problem
            raise EventError(f"{label}: {where} {message}", event_id=event_id if isinstance(event_id, str) else None,
                             field=where)
        event.validate()
        return event

    def validate(self) -> None:
        """Check what the types alone cannot (PRODUCT §3)."""
        label = f"event {self.id}"
        def fail(field_path: str, message: str) -> None:
            raise EventError(f"{label}: {field_path} {message}", event_id=self.id, field=field_path)
        if not self.id:
            fail("id", "must not be empty")
        if "." not in self.type or not self.kind or not self.verb:
            fail("type", f"{self.type!r} is not of the form <kind>.<verb> (like appointment.created)")
        if not self.subject.id:
            fail("subject.id", "must not be empty")
        if self.kind in KINDS and self.verb == "status_changed" and (self.previous is None or self.previous.status is None):
            fail("previous.status", "is required for a status_changed event")
        if self.kind in KINDS and self.verb == "rescheduled":
            if self.previous is None or self.previous.start is None:
                fail("previous.start", "is required for a rescheduled event")
            if self.subject.start is None:
                fail("subject.start", "is required for a rescheduled event")
        if self.kind == "appointment" and self.subject.status is not None and self.subject.status not in APPOINTMENT_STATUSES:
            fail("subject.status", f"{self.subject.status!r} is not an appointment status (choose one of: {', '.join(APPOINTMENT_STATUSES)})")
        if self.subject.start and self.subject.end and self.subject.end < self.subject.start:
            fail("subject.end", "is before subject.start")

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form of this event (what actors carry and the store keeps)."""
        out: dict[str, Any] = event_converter.unstructure(self)
        mute = out["subject"].get("mute")
        if isinstance(mute, tuple):
            out["subject"]["mute"] = list(mute)
        return out


def decode_event(data: str | bytes) -> Any:
    """The JSON value of one event as the host sent it; EventError for anything that is not one.

    Refused before any parsing: more than `MAX_EVENT_BYTES`, bytes that are not UTF-8; while parsing:
    nesting too deep to parse. (``NaN`` and ``Infinity`` are read, and refused by `from_dict` naming
    their field.)
    """
    if len(data) > MAX_EVENT_BYTES:
        raise EventError(f"event is larger than {MAX_EVENT_BYTES:,} bytes ({len(data):,})")
    if isinstance(data, (bytes, bytearray)):
        raw = bytes(data)
        try:
            data = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise EventError(f"event is not UTF-8 text (byte {e.start}: {raw[e.start:e.start + 1]!r})") from None
    try:
        return json.loads(data)
    except json.JSONDecodeError as e:
        raise EventError(f"event is not JSON: {e}") from None
    except RecursionError:
        raise EventError(f"event is nested more than {MAX_DEPTH} levels deep") from None


def harmful_value(value: Any, path: str = "", depth: int = 0) -> tuple[str, str] | None:
    """The first value that would break a later step (storing, rendering), as (field, problem), or None.

    Found here, at validation, so the event is refused naming its field instead of crashing ingest:
    nesting deeper than `MAX_DEPTH`, strings that are not valid Unicode (a lone surrogate from
    ``"\\ud800"``), numbers that are not finite, keys that are not strings.
    """
    if depth == 0 and _harmless(value, 0):
        return None   # nearly every event: walked once without writing a path for each of its fields
    if depth > MAX_DEPTH:
        return path or "event", f"is nested more than {MAX_DEPTH} levels deep"
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path or "event", "holds a lone surrogate (an unpaired \\ud800-\\udfff escape), which is not text"
    elif isinstance(value, float) and not math.isfinite(value):
        return path or "event", f"is {value!r}, which JSON cannot hold"
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                return path or "event", f"has a key that is not a string: {key!r}"
            found = harmful_value(key, f"{path}.{key!r}" if path else repr(key), depth + 1) or \
                harmful_value(item, f"{path}.{key}" if path else key, depth + 1)
            if found is not None:
                return found
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = harmful_value(item, f"{path}[{index}]", depth + 1)
            if found is not None:
                return found
    return None


def _harmless(value: Any, depth: int) -> bool:
    """Whether `harmful_value` finds nothing in `value`: the same walk, without the paths."""
    if depth > MAX_DEPTH:
        return False
    if isinstance(value, str):
        if value.isascii():
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, Mapping):
        deeper = depth + 1
        return all(isinstance(key, str) and _harmless(key, deeper) and _harmless(item, deeper)
                   for key, item in value.items())
    if isinstance(value, (list, tuple)):
        deeper = depth + 1
        return all(_harmless(item, deeper) for item in value)
    return True


def _structure_mute(value: Any, _: Any) -> bool | tuple[str, ...]:
    if isinstance(value, bool):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"is invalid: {value!r} is neither true/false nor a list of rule ids")


event_converter.register_structure_hook(bool | tuple[str, ...], _structure_mute)


def _describe(message: str) -> str:
    if message == "is required but missing":
        return message.replace("is required but missing", "is missing")
    return message if message.startswith(("is ", "has ", "must ", "unknown", "'")) else f"is invalid: {message}"


def subject_from_dict(raw: Mapping[str, Any]) -> Subject:
    """Structure a stored subject snapshot."""
    return event_converter.structure(dict(raw), Subject)


def subject_to_dict(subject: Subject) -> dict[str, Any]:
    """The JSON-ready form of a subject snapshot."""
    out: dict[str, Any] = event_converter.unstructure(subject)
    if isinstance(out.get("mute"), tuple):
        out["mute"] = list(out["mute"])
    return out


def evolve(obj: Any, **changes: Any) -> Any:
    """attrs.evolve, re-exported for plugin authors."""
    return attrs.evolve(obj, **changes)
