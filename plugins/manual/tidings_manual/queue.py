"""The manual queue, for hosts and staff: what waits to be sent by hand, marking it done, and expiry.

``ManualQueue.of(tidings.connect("tidings.toml"))`` reads the queue the manual channel's transport
fills (`tidings_manual.transport`), per location. Marking a message done records it in the
delivery log as ``sent`` (``info.by = "staff"``), with the rule, subject and event of the message
as it was queued; a message nobody marked done in time is recorded ``failed`` with the reason
``expired`` (``details.why``: ``visit_started`` for a message about a visit that has begun, or
``too_old`` past the channel's ``max_age``). Each message ends once: a second ``done``, or a
``done`` after it expired, is refused, also when two staff members press it at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from attrs import define, frozen

from tidings.converter import parse_aware
from tidings.errors import TidingsError
from tidings.store import PluginData
from tidings.store.entries import Outcome, Sent
from tidings_manual.config import settings as structured
from tidings_manual.transport import QUEUED

if TYPE_CHECKING:
    from tidings.client import Client
    from tidings.clock import Clock
    from tidings.pipeline.deliverylog import DeliveryLog
    from tidings.rules import Config
    from tidings.store import ScheduleStore

__all__ = ["CHANNEL", "ManualError", "ManualQueue", "QueuedMessage"]

CHANNEL = "manual"
DONE, EXPIRED = "done", "expired"
VISIT_STARTED, TOO_OLD = "visit_started", "too_old"


class ManualError(TidingsError):
    """Raised when a queued message cannot be marked done: unknown, or already done or expired."""


@frozen
class QueuedMessage:
    """One message waiting for staff, with its one-tap links."""

    id: str                          # what staff name it by (`tidings manual done ID`)
    key: str                         # its idempotency key
    rule: str
    subject: str
    location: str | None
    recipient: str                   # the recipient's name
    to: str                          # the first address: an E.164 phone, else an e-mail address
    title: str | None                # the e-mail's subject
    text: str
    links: Mapping[str, str]         # whatsapp / sms / email -> the link that opens it ready to send
    queued_at: datetime
    state: str = QUEUED              # queued, done or expired

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> QueuedMessage:
        return cls(id=record["id"], key=record["key"], rule=record["rule"], subject=record["subject"],
                   location=record.get("location"), recipient=(record.get("recipient") or {}).get("name") or "",
                   to=record["to"], title=record.get("title"), text=record.get("text") or "",
                   links=dict(record.get("links") or {}), queued_at=parse_aware(record["queued_at"]),
                   state=record.get("state", QUEUED))

    def to_dict(self) -> dict[str, Any]:
        """The message as ``tidings manual list --json`` prints it."""
        return {"id": self.id, "rule": self.rule, "subject": self.subject, "location": self.location,
                "recipient": self.recipient, "to": self.to, "title": self.title, "text": self.text,
                "links": dict(self.links), "queued_at": self.queued_at.isoformat(), "state": self.state, "key": self.key}


@define
class ManualQueue:
    """The messages the manual channel queued in a deployment's store, and what staff do with them."""

    store: ScheduleStore
    deliverylog: DeliveryLog
    config: Config
    clock: Clock

    @classmethod
    def of(cls, client: Client) -> ManualQueue:
        """The queue of a `tidings.connect` client's deployment."""
        pipeline = client.pipeline
        return cls(store=pipeline.store, deliverylog=pipeline.deliverylog, config=pipeline.config, clock=pipeline.clock)

    @property
    def data(self) -> PluginData:
        return PluginData(self.store, CHANNEL)

    def list(self, location: str | None = None) -> list[QueuedMessage]:
        """The messages waiting for staff, oldest first: all, or those of one location (expired ones first expire)."""
        self.expire()
        return [m for m in self._queued() if location is None or m.location == location]

    def get(self, ident: str) -> QueuedMessage:
        """One message by its id, in whatever state.

        Raises:
            ManualError: when no message has that id.
        """
        record = self.data.get(ident)
        if record is None:
            raise ManualError(f"no manual message {ident!r} (tidings manual list shows the queued ones)")
        return QueuedMessage.of(record)

    def done(self, ident: str, *, by: str | None = None) -> QueuedMessage:
        """Mark a message sent by staff: it leaves the queue and the delivery log records it ``sent``.

        Args:
            by: who sent it (a staff member's name or id), kept in the log entry's ``info``.

        Raises:
            ManualError: when it is unknown, or was marked done or expired before.
        """
        message = self.get(ident)
        if message.state != QUEUED or not self._close(message, DONE):
            current = self.get(ident).state
            raise ManualError(f"manual message {ident!r} was {'marked done' if current == DONE else current} already")
        event, client = self._origin(message)
        info: dict[str, Any] = {"by": "staff", **({"staff": by} if by else {})}
        self.deliverylog.record(Sent(rule=message.rule, subject=message.subject, event=event, at=self.clock.now(),
                                     key=message.key, client=client, channel=CHANNEL, to=message.to,
                                     title=message.title, text=message.text, provider_id=message.id, info=info))
        return self.get(ident)

    def expire(self) -> list[QueuedMessage]:
        """Expire the messages nobody sent in time; each gets a ``failed`` entry with the reason ``expired``."""
        now = self.clock.now()
        max_age = structured(self.config.channels.get(CHANNEL)).max_age
        expired = []
        for message in self._queued():
            start = self._start(message.subject)
            if start is not None and message.queued_at < start <= now:
                why = VISIT_STARTED     # a reminder of a visit that has begun helps nobody
            elif max_age.amount and message.queued_at + max_age.elapsed() <= now:
                why = TOO_OLD
            else:
                continue
            if not self._close(message, EXPIRED):
                continue   # staff marked it done meanwhile
            event, client = self._origin(message)
            self.deliverylog.record(Outcome(rule=message.rule, subject=message.subject, event=event, at=now,
                                            key=message.key, client=client, status="failed", channel=CHANNEL,
                                            to=message.to, reason="expired",
                                            details={"why": why, "queued_at": message.queued_at.isoformat()}))
            expired.append(self.get(message.id))
        return expired

    # ------------------------------------------------------------ helpers

    def _queued(self) -> list[QueuedMessage]:
        found: list[QueuedMessage] = []
        for ident in dict.fromkeys(self.data.items(QUEUED)):   # listed twice by two racing workers: shown once
            record = self.data.get(ident)
            if record is not None and record.get("state") == QUEUED:
                found.append(QueuedMessage.of(record))
        return found

    def _close(self, message: QueuedMessage, state: str) -> bool:
        """End a message once: the first of done and expire wins (a test-and-set in the store)."""
        if not self.data.put(f"closed:{message.id}", {"state": state}, new=True):
            return False
        record = self.data.get(message.id) or {}
        self.data.put(message.id, {**record, "state": state, f"{state}_at": self.clock.now().isoformat()})
        self.data.remove(QUEUED, message.id)
        return True

    def _origin(self, message: QueuedMessage) -> tuple[str, str | None]:
        """The event and client of the message as its ``queued`` log entry has them."""
        for entry in self.store.log(subject=message.subject):
            if entry.get("key") == message.key and entry.get("status") == "queued":
                return entry.get("event") or "", entry.get("client")
        return "", None

    def _start(self, subject_id: str) -> datetime | None:
        """The visit's start in its latest snapshot (a rescheduled visit's new time), or None."""
        snapshot = self.store.subject(subject_id)
        start = ((snapshot or {}).get("subject") or {}).get("start")
        if isinstance(start, datetime):
            return start
        return parse_aware(start) if isinstance(start, str) and start else None
