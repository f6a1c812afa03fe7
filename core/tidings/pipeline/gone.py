"""Addresses a provider reported gone for good (a push subscription answered 404 or 410, PRODUCT §7).

Each is remembered in the store by the identity its channel gives it (`Channel.address_key`: for
push, the endpoint with its keys), so no worker uses it again until the host sends one with another
identity, and the host is told of each through the delivery log (status ``gone``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from attrs import define

if TYPE_CHECKING:
    from tidings.models import Contact
    from tidings.pipeline.deliverylog import DeliveryLog, Recorder
    from tidings.store.entries import Outcome
    from tidings.plugin_types import Channel
    from tidings.store import ScheduleStore

__all__ = ["GoneAddresses"]


@define
class GoneAddresses:
    """Which addresses are known gone, and remembering new ones."""

    store: ScheduleStore
    deliverylog: DeliveryLog

    def among(self, channel: Channel, recipient: Contact, addresses: tuple[str, ...]) -> set[str]:
        """Those of `addresses` a provider reported gone before, as the host sent them then."""
        keys = {address: key for address in addresses if (key := _key(channel, recipient, address))}
        dead = self.store.gone(set(keys.values())) if keys else set()
        return {address for address, key in keys.items() if key in dead}

    def forget(self, channel: Channel, recipient: Contact, gone: Any, outcome: Callable[..., Outcome], *,
               log: Recorder | None = None) -> None:
        """Remember the addresses a transport reported gone, and tell the host of each.

        Args:
            gone: what the transport listed (``details["gone"]`` or ``info["gone"]``); anything but
                a list of strings is ignored.
            outcome: makes the delivery-log entry of the message these addresses were tried for.
            log: where that entry goes (a dispatch's `Recorded`); the delivery log by default.
        """
        if not isinstance(gone, (list, tuple)):
            return
        for address in gone:
            if not isinstance(address, str):
                continue
            key = _key(channel, recipient, address)
            if key is not None:
                self.store.mark_gone(key)
            # one entry per address, for the host to remove it: `tidings_delivery_recorded` sees it too
            (log or self.deliverylog).record(outcome(status="gone", channel=channel.name, to=address, reason="address_gone",
                                            remembered=key is not None))


def _key(channel: Channel, recipient: Contact, address: str) -> str | None:
    identity = channel.address_key(recipient, address) if channel.address_key is not None else None
    return f"{channel.name}:{identity}" if identity else None
