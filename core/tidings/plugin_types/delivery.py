"""What a channel's transport is handed and hands back: the rendered message, the receipt, no address."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from attrs import field, frozen

if TYPE_CHECKING:
    from tidings.models import Contact

__all__ = ["NoAddress", "Receipt", "RenderedMessage", "Transport"]


@frozen
class RenderedMessage:
    """A message ready for a transport: rendered parts for one recipient and one channel."""

    channel: str
    to: str                                 # the normalised address: E.164, e-mail, push endpoint
    parts: Mapping[str, str]                # ("text",) / ("subject", "text", "html") / ("title", "body")
    rule: str = ""
    subject: str = ""
    recipient: Contact | None = None        # the push transport finds subscription keys here
    locale: str = "en"
    location: Mapping[str, Any] = field(factory=dict)  # the location's name, address, phone, channel overrides
    # every address of the recipient this channel may use, `to` first: a transport that sends to several
    # (push: each subscription) sends to these only, never to one its provider reported gone
    addresses: tuple[str, ...] = ()
    due: datetime | None = None             # the time the message is for (its idempotency key's); None outside the pipeline
    # what its templates saw (PRODUCT §4: rule, subject, client, staff, services, location...), plain dicts and
    # lists; a channel that hands the host more than text (the webhook) reads it; empty outside the pipeline
    context: Mapping[str, Any] = field(factory=dict)


@frozen
class Receipt:
    """What a transport reports after a delivery the provider accepted."""

    provider_id: str | None = None
    info: Mapping[str, Any] = field(factory=dict)   # e.g. {"encoding": "UCS-2", "segments": 2}


class NoAddress(tuple[str, ...]):
    """What a channel's `addresses` may return instead of ``()``: no address, and why.

    It *is* an empty tuple (falsy, equal to ``()``), so a caller that only asks "any address?"
    needs no change, and a channel that returns a bare ``()`` stays valid. The core records the
    recipient as ``invalid_address`` either way, and keeps `reason` as its detail
    (``"detail": {"sms": "not_mobile"}`` in the delivery log and ``--explain``).

    Example::

        def sms_addresses(contact, settings):
            if not contact.phone:
                return NoAddress("no_phone")
            ...
    """

    reason: str   # a short snake_case code: "no_phone", "not_a_number", "not_mobile"

    def __new__(cls, reason: str) -> NoAddress:
        self = super().__new__(cls)
        self.reason = reason
        return self

    def __repr__(self) -> str:
        return f"NoAddress({self.reason!r})"


class Transport(Protocol):
    """What a channel's `connect` returns; raises TransientDeliveryError or PermanentDeliveryError.

    Addresses the provider reported gone for good (push: a subscription answered 404 or 410) are
    listed in ``details["gone"]`` of the error, or in ``info["gone"]`` of the receipt when the
    message reached other addresses; the core remembers them (see `Channel.address_key`).

    A transport may also have ``find(*, idempotency_key) -> Receipt | None``: the provider's own
    record of a message sent under that key (None if it never arrived). The core calls it before
    sending a message again whose earlier attempt may have reached the provider (its worker died
    mid-request), so that the provider does not get the same message twice.
    """

    def send(self, message: RenderedMessage, *, idempotency_key: str) -> Receipt: ...

    def close(self) -> None: ...
