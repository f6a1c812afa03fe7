"""The manual channel's transport: a message queued for staff in the channel's namespace of the schedule store.

Nothing leaves the machine: `send` keeps the rendered message, its one-tap links and its
recipient's addresses under a short id made from its idempotency key, and lists it as queued. The
write is a test-and-set (`PluginData.put(new=True)`), so a message dispatched again (a retry, a
worker that died before the core marked it done) is queued once; `find` answers the core's
question whether an earlier attempt got through. The store being out of reach is a transient
failure, retried like a provider's timeout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attrs import define, field

from tidings.clock import Clock, SystemClock
from tidings.errors import TransientDeliveryError
from tidings.plugin_types import Receipt, RenderedMessage
from tidings_manual.config import ManualConfig
from tidings_manual.links import one_tap_links

if TYPE_CHECKING:
    from tidings.store import PluginData

QUEUED = "queued"        # the list of the ids of messages waiting for staff, oldest first
ID_LENGTH = 12           # hex digits of the idempotency key that name a message for staff (`tidings manual done ID`)


def message_id(idempotency_key: str) -> str:
    """The short id staff name a queued message by: the first hex digits of its idempotency key."""
    return idempotency_key[:ID_LENGTH]


@define
class ManualTransport:
    """Queues each message for staff, once per idempotency key."""

    data: PluginData
    settings: ManualConfig = field(factory=ManualConfig)
    clock: Clock = field(factory=SystemClock)

    def send(self, message: RenderedMessage, *, idempotency_key: str) -> Receipt:
        ident = message_id(idempotency_key)
        text, title = message.parts.get("text", ""), message.parts.get("subject") or None
        recipient = message.recipient
        record: dict[str, Any] = {
            "id": ident, "key": idempotency_key, "state": QUEUED, "rule": message.rule, "subject": message.subject,
            "location": message.location.get("id"), "location_name": message.location.get("name") or "",
            "recipient": {"id": recipient.id if recipient else None, "name": recipient.name if recipient else ""},
            "to": message.to, "addresses": list(message.addresses or (message.to,)), "title": title, "text": text,
            "links": one_tap_links(message.addresses or (message.to,), text=text, title=title,
                                   offered=self.settings.links),
            "queued_at": self.clock.now().isoformat()}
        try:
            self.data.put(ident, record, new=True)
            stored = self.data.get(ident)
            # listed once, also when the worker that wrote it died before listing it
            if stored is not None and stored.get("state") == QUEUED and ident not in self.data.items(QUEUED):
                self.data.append(QUEUED, ident)
        except Exception as e:
            if _unreachable(e):
                raise TransientDeliveryError(f"the schedule store is out of reach: {type(e).__name__}",
                                             reason="store_unavailable") from e
            raise
        return Receipt(provider_id=ident, info={"links": sorted(record["links"])})

    def find(self, *, idempotency_key: str) -> Receipt | None:
        """The message queued under this key before (a retry's check), or None."""
        stored = self.data.get(message_id(idempotency_key))
        if stored is None or stored.get("key") != idempotency_key:
            return None
        return Receipt(provider_id=stored["id"], info={"links": sorted(stored.get("links", {}))})

    def close(self) -> None:
        pass


def _unreachable(error: Exception) -> bool:
    """Whether `error` says the store's server cannot be reached now (redis-py's connection and timeout errors)."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return isinstance(error, (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError))
