"""What the store keeps of a message waiting for its time: the pending message, a frozen record.

The memory store keeps it as it is; the Redis store keeps it as JSON. That JSON outlives a process (a
reminder waits for months, and the version that reads it may be newer than the one that wrote it), so
its form is versioned, and `pending_from_json` reads every form ever written:

- **the first form** (no ``v``): the JSON the one converter (`tidings.converter.converter`) makes of
  the record, every field under its own name, times as RFC 3339 text (``pending_json_first``);
- **version 2** (``"v": 2``), what `pending_json` writes: short keys, times as a Unix timestamp (with
  the UTC offset in minutes beside it, ``[ts, minutes]``, when it is not UTC), and nothing that can be
  worked out again: the idempotency key when it is the one `tidings.idempotency.idempotency_key`
  gives (it always is, for what the pipeline plans), ``planned`` when it equals ``due``, the kind when
  it is the event type's, and the defaults (recipient ``client``, not suspended, no info, all services,
  no previous state). About a third of the first form's bytes.

======  =======================  ======  ===================================================
key     field                    key     field
======  =======================  ======  ===================================================
``v``   the form: 2              ``x``   the idempotency key, unless worked out again
``r``   rule                     ``u``   suspended: 1 (left out when not)
``s``   subject                  ``i``   info (left out when empty)
``k``   kind (unless the type's) ``sv``  services (left out when None: all of them)
``l``   location (left out: no)  ``e``   the event: [id, type, occurred_at]
``c``   recipient (unless        ``pv``  previous: [status, start] (left out when None)
        ``client``)              ``t``   send_at (left out when None)
``d``   due                      ``p``   planned (left out when it is ``due``)
======  =======================  ======  ===================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from attrs import frozen
from cattrs.gen import make_dict_unstructure_fn, override

from tidings.converter import converter
from tidings.idempotency import idempotency_key
from tidings.models import Previous
from tidings.plugin_types import Pending

__all__ = ["PENDING_FORM", "EventRef", "PendingMessage", "pending_from_json", "pending_json", "pending_json_first",
           "pending_subject"]

PENDING_FORM = 2   # the form `pending_json` writes


@frozen(kw_only=True)
class EventRef:
    """The event that planned a pending message: an older event never overwrites what it planned."""

    id: str
    type: str
    occurred_at: datetime


@frozen(kw_only=True)
class PendingMessage:
    """One message waiting in its slot for its time; scheduling the slot again replaces it."""

    rule: str
    subject: str
    kind: str
    location: str | None
    recipient: str                       # the rule's recipient role: "client" or "staff"
    due: datetime                        # the time it is for: its idempotency key's
    planned: datetime                    # when it goes out: `due` after the delay, in working hours
    key: str                             # the idempotency key
    suspended: bool
    info: Mapping[str, Any]              # the trigger's own notes, handed back to it when it plans again
    services: tuple[str, ...] | None     # the ids of the services it is about; None: all the subject's
    event: EventRef
    previous: Previous | None            # the subject before that event, for templates
    send_at: datetime | None = None      # set by the store (UTC): when it is due; None while suspended
    slot: str = ""                       # set by the store
    version: int = 0                     # set by the store: every write of the slot bumps it

    def view(self) -> Pending:
        """The message as triggers see it."""
        return Pending(slot=self.slot, rule=self.rule, subject=self.subject, due=self.due,
                       suspended=self.suspended, info=self.info)


def pending_json(message: PendingMessage) -> dict[str, Any]:
    """The message as the store keeps it, in the compact form (version 2, above): everything but its slot and
    version, which the store knows, and what can be worked out again."""
    out: dict[str, Any] = {"v": PENDING_FORM, "r": message.rule, "s": message.subject}
    if message.kind != message.event.type.partition(".")[0]:
        out["k"] = message.kind
    if message.location is not None:
        out["l"] = message.location
    if message.recipient != "client":
        out["c"] = message.recipient
    out["d"] = _when(message.due)
    if message.planned != message.due or message.planned.utcoffset() != message.due.utcoffset():
        out["p"] = _when(message.planned)
    if message.key != idempotency_key(message.rule, message.subject, message.recipient, message.due):
        out["x"] = message.key
    if message.suspended:
        out["u"] = 1
    if message.info:
        out["i"] = converter.unstructure(message.info)
    if message.services is not None:
        out["sv"] = list(message.services)
    out["e"] = [message.event.id, message.event.type, _when(message.event.occurred_at)]
    if message.previous is not None:
        start = message.previous.start
        out["pv"] = [message.previous.status, _when(start) if start is not None else None]
    if message.send_at is not None:
        out["t"] = _when(message.send_at)
    return out


def pending_json_first(message: PendingMessage) -> dict[str, Any]:
    """The message in the first form (every field by name, as the converter writes it): what versions before
    the compact form wrote, and still read."""
    out: dict[str, Any] = converter.unstructure(message)
    return out


def pending_subject(raw: Mapping[str, Any]) -> Any:
    """The subject id of a stored message, in either form (None when it has none)."""
    return raw.get("s") if raw.get("v") == PENDING_FORM else raw.get("subject")


def pending_from_json(raw: Mapping[str, Any], *, slot: str, version: int) -> PendingMessage:
    """A stored message read back, in whichever form it was written, with its slot and version."""
    form = raw.get("v")
    if form is None:
        message: PendingMessage = converter.structure({**raw, "slot": slot, "version": version}, PendingMessage)
        return message
    if form != PENDING_FORM:
        raise ValueError(f"pending message {slot!r} is of form {form!r}, which this tidings does not know "
                         f"(it reads the first form and form {PENDING_FORM})")
    rule, subject, recipient = raw["r"], raw["s"], raw.get("c", "client")
    event_id, event_type, occurred_at = raw["e"]
    due = _moment(raw["d"])
    previous = raw.get("pv")
    info = raw.get("i")
    services = raw.get("sv")
    sent_at = raw.get("t")
    return PendingMessage(
        rule=rule, subject=subject, kind=raw.get("k", event_type.partition(".")[0]), location=raw.get("l"),
        recipient=recipient, due=due, planned=_moment(raw["p"]) if "p" in raw else due,
        key=raw.get("x") or idempotency_key(rule, subject, recipient, due), suspended=bool(raw.get("u")),
        info=info if info is not None else {}, services=tuple(services) if services is not None else None,
        event=EventRef(id=event_id, type=event_type, occurred_at=_moment(occurred_at)),
        previous=Previous(status=previous[0], start=_moment(previous[1]) if previous[1] is not None else None)
        if previous is not None else None,
        send_at=_moment(sent_at) if sent_at is not None else None, slot=slot, version=version)


def _when(moment: datetime) -> Any:
    """A time in the compact form: its Unix timestamp, with its UTC offset in minutes when that is not 0;
    RFC 3339 text when a number would not give it back exactly (fractions of a second, odd offsets)."""
    offset = moment.utcoffset()
    seconds = offset.total_seconds() if offset is not None else None
    if seconds is None or moment.microsecond or seconds % 60:
        return moment.isoformat()
    stamp = int(moment.timestamp())
    return stamp if seconds == 0 else [stamp, int(seconds // 60)]


def _moment(raw: Any) -> datetime:
    if isinstance(raw, int):
        return datetime.fromtimestamp(raw, timezone.utc)
    if isinstance(raw, list):
        return datetime.fromtimestamp(raw[0], timezone(timedelta(minutes=raw[1])))
    found: datetime = converter.structure(raw, datetime)
    return found


converter.register_unstructure_hook(
    PendingMessage, make_dict_unstructure_fn(PendingMessage, converter, slot=override(omit=True),
                                             version=override(omit=True)))
