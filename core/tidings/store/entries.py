"""What the store keeps of every decision and outcome: the delivery-log entries, frozen records.

The memory store keeps them as they are; the Redis store keeps the JSON the one converter
(`tidings.converter.converter`) makes of them, and `log()` returns that JSON, which is what
`tidings log` prints, `simulate --explain` reads and `tidings_delivery_recorded` receives. So each
class's fields are named and ordered as its keys have always been; a field marked `_unless_none`
is left out when it has no value, and `_utc` times are written in UTC with a ``Z``.

There are several classes because the entries of planning, of an ignored event and of a delivery
have always had keys of their own, in an order of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
from attrs import field, frozen

from tidings.converter import converter

__all__ = ["Dropped", "Ignored", "LogEntry", "Outcome", "Planned", "Sent", "entry_compact", "entry_from_compact",
           "entry_json", "utc_text"]

_UNLESS_NONE = "tidings.json.unless_none"
_UTC = "tidings.json.utc"


def _unless_none(*, utc: bool = False) -> Any:
    return field(default=None, metadata={_UNLESS_NONE: True, _UTC: utc})


def _utc() -> Any:
    return field(metadata={_UTC: True})


def utc_text(moment: datetime) -> str:
    """A time as the delivery log writes it: UTC, RFC 3339, with a ``Z``."""
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


@frozen(kw_only=True)
class Planned:
    """A decision taken while planning an event: scheduled, rescheduled, suspended, restored or skipped."""

    rule: str
    subject: str
    client: str | None
    event: str
    at: datetime = _utc()
    status: str
    reason: str
    due: datetime | None = _unless_none(utc=True)   # when it goes out (scheduled, rescheduled, restored)


@frozen(kw_only=True)
class Dropped:
    """A pending message dropped while planning an event (a cancellation, a visit that came)."""

    rule: str
    subject: str
    client: str | None
    event: str
    at: datetime = _utc()
    status: str = "dropped"
    reason: str
    due: datetime | None                 # its send time as the store kept it (+00:00): None when suspended


@frozen(kw_only=True)
class Ignored:
    """An event that no rule reacted to, of a type the core does not know (so a typo shows)."""

    rule: None = None
    subject: str
    event: str
    type: str
    client: str | None
    at: datetime = _utc()
    status: str = "ignored"
    reason: str = "unknown_event_type"


@frozen(kw_only=True)
class Sent:
    """A message a channel delivered."""

    rule: str
    subject: str
    event: str
    at: datetime = _utc()
    key: str
    client: str | None
    status: str = "sent"
    channel: str
    to: str
    title: str | None
    text: str | None
    provider_id: str | None
    info: Mapping[str, Any]              # the channel's description of the text, and the receipt's facts


@frozen(kw_only=True)
class Outcome:
    """What else became of a due message: skipped, failed on one channel or for good, or an address gone."""

    rule: str
    subject: str
    event: str
    at: datetime = _utc()
    key: str
    client: str | None
    status: str
    channel: str | None = _unless_none()
    to: str | None = _unless_none()
    reason: str
    refused: Mapping[str, str] | None = _unless_none()      # per channel, why it was not usable
    detail: Mapping[str, str] | None = _unless_none()       # per channel, why its address was not
    error_type: str | None = _unless_none()
    error: str | None = _unless_none()
    details: Mapping[str, Any] | None = _unless_none()      # what the transport said (push: the endpoints gone)
    remembered: bool | None = _unless_none()                # a gone address: whether it will never be used again


LogEntry = Planned | Dropped | Ignored | Sent | Outcome


def entry_json(entry: LogEntry) -> dict[str, Any]:
    """The entry as the delivery log keeps and shows it (a new dict on every call)."""
    out: dict[str, Any] = converter.unstructure(entry)
    return out


def _entry_hook(cls: type) -> Callable[[Any], dict[str, Any]]:
    """The JSON of an entry class: its fields in order, each unstructured by the converter (cattrs' own
    generated function writes the fields it may leave out after all the others)."""
    fields = [(f.name, bool(f.metadata.get(_UNLESS_NONE)), bool(f.metadata.get(_UTC))) for f in attrs.fields(cls)]

    def unstructure(entry: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, unless_none, utc in fields:
            value = getattr(entry, name)
            if value is None:
                if not unless_none:
                    out[name] = None
            else:
                out[name] = utc_text(value) if utc else converter.unstructure(value)
        return out
    return unstructure


for _entry_class in (Planned, Dropped, Ignored, Sent, Outcome):
    converter.register_unstructure_hook(_entry_class, _entry_hook(_entry_class))


# The compact form the Redis store keeps an entry in (`entry_compact`): a JSON array of the class's number
# here, then every field's value in the class's order, times as integer microseconds since the epoch (UTC).
# The numbers and the fields' order are a stored format: new classes and fields go at the end.
_CLASSES: tuple[type, ...] = (Planned, Dropped, Ignored, Sent, Outcome)
_NUMBER = {cls: i for i, cls in enumerate(_CLASSES)}
_FIELDS = [[(f.name, bool(f.metadata.get(_UNLESS_NONE)), bool(f.metadata.get(_UTC))) for f in attrs.fields(cls)]
           for cls in _CLASSES]
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def entry_compact(entry: LogEntry) -> list[Any]:
    """The entry as the Redis store keeps it: about half the bytes of `entry_json`, which `entry_from_compact`
    gives back key for key."""
    number = _NUMBER[type(entry)]
    out: list[Any] = [number]
    for name, _, utc in _FIELDS[number]:
        value = getattr(entry, name)
        if value is None:
            out.append(None)
        elif utc:
            out.append((value - _EPOCH) // timedelta(microseconds=1))
        else:
            out.append(converter.unstructure(value))
    while out[-1] is None:
        out.pop()          # fields left out at the end are None
    return out


def entry_from_compact(raw: Sequence[Any]) -> dict[str, Any]:
    """`entry_json` of the entry `entry_compact` wrote."""
    out: dict[str, Any] = {}
    for (name, unless_none, utc), value in zip(_FIELDS[raw[0]], [*raw[1:], *[None] * len(_FIELDS[raw[0]])]):
        if value is None:
            if not unless_none:
                out[name] = None
        else:
            out[name] = utc_text(_EPOCH + timedelta(microseconds=value)) if utc else value
    return out
