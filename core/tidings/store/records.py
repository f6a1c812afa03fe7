"""What the store keeps of a message waiting for its time: the pending message, a frozen record.

The memory store keeps it as it is; the Redis store keeps the JSON the one converter
(`tidings.converter.converter`) makes of it, and reads it back through the converter. That JSON
outlives a process (a reminder waits for months, and the version that reads it may be newer than
the one that wrote it), so the fields are named and ordered as its keys have always been.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from attrs import frozen
from cattrs.gen import make_dict_unstructure_fn, override

from tidings.converter import converter
from tidings.models import Previous
from tidings.plugin_types import Pending

__all__ = ["EventRef", "PendingMessage", "pending_from_json", "pending_json"]


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
    """The message as the store keeps it: everything but its slot and version, which the store knows."""
    out: dict[str, Any] = converter.unstructure(message)
    return out


def pending_from_json(raw: Mapping[str, Any], *, slot: str, version: int) -> PendingMessage:
    """A stored message read back, with its slot and version."""
    message: PendingMessage = converter.structure({**raw, "slot": slot, "version": version}, PendingMessage)
    return message


converter.register_unstructure_hook(
    PendingMessage, make_dict_unstructure_fn(PendingMessage, converter, slot=override(omit=True),
                                             version=override(omit=True)))
